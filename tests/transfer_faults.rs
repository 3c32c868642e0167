//! The one-call uploader against a flaky wantu-server (fault injection):
//! transient faults are retried until every upload is byte-exact; faults
//! that never stop end in a clear error, with nothing visible on the server.

mod common;
mod transfer_util;

use common::*;
use serde_json::json;
use transfer_util::*;
use wantu::transfer::Source;
use wantu_server::FaultConfig;

fn faults(error_rate: f64, reset_rate: f64) -> FaultConfig {
    FaultConfig {
        error_rate,
        reset_rate,
        seed: Some(20240601),
        ..Default::default()
    }
}

#[test]
fn uploads_complete_byte_exact_through_5xx_and_resets() {
    let env = TestEnv::start();
    env.server().set_faults(faults(0.2, 0.05));
    let o = opts(
        json!({"part_size": MIB, "concurrency": 4, "backoff_base_ms": 5, "backoff_max_ms": 100}),
    );
    let mut retries = 0;

    let file_data = test_bytes(10 * MIB + 3, 31);
    let file = write_temp(&file_data);
    let (out, calls) = upload(&env, "f.bin", Source::File(file.path().into()), &o, None);
    let v = ok(&out);
    check_progress(&calls, file_data.len() as u64);
    retries += v["retries"].as_u64().unwrap();
    assert!(v["attempts"].as_u64().unwrap() > v["retries"].as_u64().unwrap());

    let mem = test_bytes(6 * MIB, 32);
    let (out, calls) = upload(&env, "m.bin", Source::Memory(&mem), &o, None);
    retries += ok(&out)["retries"].as_u64().unwrap();
    check_progress(&calls, mem.len() as u64);

    let stream = test_bytes(5 * MIB + 99, 33);
    let mut reader = Dribble {
        data: stream.clone(),
        at: 0,
        step: 1,
    };
    let (out, calls) = upload(&env, "s.bin", Source::Reader(&mut reader), &o, None);
    retries += ok(&out)["retries"].as_u64().unwrap();
    check_progress(&calls, stream.len() as u64);

    let mut smalls = Vec::new();
    for i in 0..8 {
        let small = test_bytes(50_000 + i, 40 + i as u64);
        let name = format!("small{i}.bin");
        let (out, _) = upload(&env, &name, Source::Memory(&small), &o, None);
        retries += ok(&out)["retries"].as_u64().unwrap();
        smalls.push((name, small));
    }
    assert!(retries > 0, "faults were injected and retried");
    eprintln!("retries across all uploads: {retries}");

    // Deliveries are not fault-injected; compare everything.
    assert!(env.download("/big", "f.bin") == file_data);
    assert!(env.download("/big", "m.bin") == mem);
    assert!(env.download("/big", "s.bin") == stream);
    for (name, small) in smalls {
        assert!(env.download("/big", &name) == small, "{name}");
    }
}

#[test]
fn endless_faults_fail_clearly_and_leave_nothing() {
    let env = TestEnv::start();
    let data = test_bytes(3 * MIB, 34);
    let file = write_temp(&data);

    env.server().set_faults(faults(1.0, 0.0));
    let o = opts(
        json!({"part_size": MIB, "max_attempts": 4, "backoff_base_ms": 2, "backoff_max_ms": 10}),
    );
    let (out, _) = upload(&env, "e.bin", Source::File(file.path().into()), &o, None);
    let v = out.to_json();
    assert_eq!(v["code"], 503, "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("gave up on blockInit (part 1) after 4 attempts"),
        "{msg}"
    );
    assert_eq!(
        (v["attempts"].clone(), v["retries"].clone()),
        (json!(4), json!(3))
    );

    env.server().set_faults(faults(0.0, 1.0));
    let (out, _) = upload(&env, "r.bin", Source::Memory(&data), &o, None);
    let v = out.to_json();
    assert_eq!(
        (v["code"].clone(), v["error"].clone()),
        (json!(0), json!("ConnectError")),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap().contains("after 4 attempts"),
        "{v}"
    );

    // The total budget ends retries even with attempts left.
    env.server().set_faults(faults(1.0, 0.0));
    let budget = opts(
        json!({"max_attempts": 100, "retry_budget_ms": 300, "backoff_base_ms": 50, "backoff_max_ms": 100}),
    );
    let (out, _) = upload(&env, "b.bin", Source::Memory(&data[..1000]), &budget, None);
    let v = out.to_json();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("retry budget of 300 ms"),
        "{v}"
    );
    assert!(v["attempts"].as_u64().unwrap() < 100);

    // Faults that start after the first parts: the upload fails, and
    // without a checkpoint nothing half-written becomes visible.
    env.server().set_faults(FaultConfig::default());
    let server = env.server();
    let mut cb = |sent: u64, _t: Option<u64>| {
        if sent >= MIB as u64 {
            server.set_faults(faults(1.0, 0.0));
        }
        true
    };
    let policy = env.policy(json!({}));
    let out = wantu::transfer::upload(
        &env.client,
        &policy,
        &target("late.bin"),
        Source::Memory(&data),
        &o,
        Some(&mut cb),
        None,
    );
    let v = out.to_json();
    assert_eq!(v["code"], 503, "{v}");
    env.server().set_faults(FaultConfig::default());
    for name in ["e.bin", "r.bin", "b.bin", "late.bin"] {
        assert!(!stored(&env, "/big", name), "{name} must not exist");
    }
}
