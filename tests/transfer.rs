//! The one-call uploader against a real wantu-server: sizes, sources,
//! concurrency, progress, cancel.

mod common;
mod transfer_util;

use common::*;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use transfer_util::*;
use wantu::transfer::{self, CancelToken, Source, TransferOptions};

#[test]
fn fifty_mib_file_at_concurrency_1_and_8() {
    let env = TestEnv::start();
    let data = test_bytes(50 * MIB, 1);
    let file = write_temp(&data);
    for conc in [1, 8] {
        let name = format!("c{conc}.bin");
        let o = opts(json!({"part_size": 2 * MIB, "concurrency": conc}));
        let started = Instant::now();
        let (out, calls) = upload(&env, &name, Source::File(file.path().into()), &o, None);
        let v = ok(&out);
        eprintln!("50 MiB at concurrency {conc}: {:?}", started.elapsed());
        assert_eq!(v["multipart"], true);
        assert_eq!(v["parts"], 25);
        assert_eq!(v["uploaded_parts"], 25);
        assert_eq!(v["resumed_parts"], 0);
        assert_eq!(v["md5"], md5_hex(&data));
        assert_eq!(v["file_size"], (50 * MIB).to_string());
        assert!(v["attempts"].as_u64().unwrap() >= 26, "{v}");
        check_progress(&calls, data.len() as u64);
        assert!(
            calls.len() >= 10,
            "byte-level progress, not per part: {}",
            calls.len()
        );
        assert!(
            env.download("/big", &name) == data,
            "byte-exact at concurrency {conc}"
        );
    }
}

#[test]
fn unknown_length_stream_is_byte_exact() {
    let env = TestEnv::start();
    let data = test_bytes(12 * MIB + 12_345, 3);
    let mut reader = Dribble {
        data: data.clone(),
        at: 0,
        step: 1,
    };
    let o = opts(json!({"part_size": MIB, "concurrency": 3}));
    let (out, calls) = upload(&env, "stream.bin", Source::Reader(&mut reader), &o, None);
    let v = ok(&out);
    assert_eq!(v["multipart"], true);
    assert_eq!(v["parts"], 13);
    assert_eq!(v["md5"], md5_hex(&data));
    assert!(
        calls.iter().any(|(_, t)| t.is_none()),
        "total unknown while reading"
    );
    check_progress(&calls, data.len() as u64);
    assert!(env.download("/big", "stream.bin") == data);

    // Within one part: one simple request; an empty stream is an empty file.
    for (name, len) in [("short.bin", 300_000usize), ("empty.bin", 0)] {
        let data = test_bytes(len, 4);
        let mut reader = Dribble {
            data: data.clone(),
            at: 0,
            step: 1,
        };
        let (out, calls) = upload(&env, name, Source::Reader(&mut reader), &o, None);
        let v = ok(&out);
        assert_eq!(v["multipart"], false, "{v}");
        assert_eq!(v["attempts"], 1);
        check_progress(&calls, len as u64);
        assert!(env.download("/big", name) == data);
    }
}

#[test]
fn memory_sources_simple_and_multipart_and_integrity_off() {
    let env = TestEnv::start();
    let data = test_bytes(9 * MIB + 7, 5);
    let o = opts(json!({"part_size": MIB, "concurrency": 4}));
    let (out, calls) = upload(&env, "mem.bin", Source::Memory(&data), &o, None);
    let v = ok(&out);
    assert_eq!(
        (v["multipart"].clone(), v["parts"].clone()),
        (json!(true), json!(10))
    );
    check_progress(&calls, data.len() as u64);
    assert!(env.download("/big", "mem.bin") == data);

    let small = test_bytes(5000, 6);
    let (out, calls) = upload(&env, "small.bin", Source::Memory(&small), &o, None);
    let v = ok(&out);
    assert_eq!(v["multipart"], false);
    assert_eq!(v["e_tag"], md5_hex(&small).to_uppercase());
    check_progress(&calls, 5000);

    let off = opts(json!({"part_size": MIB, "integrity": false}));
    let (out, _) = upload(&env, "fast.bin", Source::Memory(&data), &off, None);
    let v = ok(&out);
    assert!(
        v.get("md5").is_none(),
        "no whole-file MD5 without integrity: {v}"
    );
    assert!(env.download("/big", "fast.bin") == data);

    // A threshold above the size sends a file in one request.
    let file = write_temp(&data);
    let one = opts(json!({"multipart_threshold": 64 * MIB}));
    let (out, calls) = upload(
        &env,
        "one.bin",
        Source::File(file.path().into()),
        &one,
        None,
    );
    assert_eq!(ok(&out)["multipart"], false);
    check_progress(&calls, data.len() as u64);
    assert!(env.download("/big", "one.bin") == data);
}

#[test]
fn cancel_from_another_thread_is_prompt_and_server_side() {
    let env = TestEnv::start();
    let data = test_bytes(40 * MIB, 7);
    let token = CancelToken::new();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let trigger = token.clone();
    let canceller = std::thread::spawn(move || {
        rx.recv().unwrap();
        trigger.trigger();
        trigger.trigger(); // any number of times
        Instant::now()
    });
    let sent_signal = AtomicBool::new(false);
    let mut cb = |sent: u64, _total: Option<u64>| {
        if sent >= 4 * MIB as u64 && !sent_signal.swap(true, Ordering::Relaxed) {
            tx.send(()).unwrap();
        }
        true
    };
    let o = opts(json!({"part_size": MIB, "concurrency": 4}));
    let policy = env.policy(json!({}));
    let out = transfer::upload(
        &env.client,
        &policy,
        &target("cancelled.bin"),
        Source::Memory(&data),
        &o,
        Some(&mut cb),
        Some(&token),
    );
    let returned = Instant::now();
    let triggered = canceller.join().unwrap();
    let took = returned.duration_since(triggered);
    eprintln!("cancel answered {took:?} after the trigger");
    assert!(took < Duration::from_secs(2), "cancel took {took:?}");
    let v = out.to_json();
    assert_eq!(
        (v["code"].clone(), v["error"].clone()),
        (json!(0), json!("Cancelled")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("cancelled on the server"),
        "{v}"
    );
    assert!(
        (v["uploaded_parts"].as_u64().unwrap()) < 40,
        "stopped mid-way: {v}"
    );

    // The upload is gone on the server.
    let (id, up) = (v["id"].as_str().unwrap(), v["upload_id"].as_str().unwrap());
    let part = wantu::upload::Content::Bytes(bytes::Bytes::from(vec![1u8; 200_000]));
    let tag = wantu::multipart::PartTag {
        part_number: 1,
        e_tag: "X".into(),
    };
    let c = &env.client;
    let e = c
        .run(c.multipart_upload(&policy, id, up, 2, part, None))
        .unwrap()
        .unwrap_err();
    assert_eq!((e.code(), e.name()), (404, "NoSuchUpload"), "{e}");
    let e = c
        .run(c.multipart_complete(&policy, id, up, &[tag], None))
        .unwrap()
        .unwrap_err();
    assert_eq!((e.code(), e.name()), (404, "NoSuchUpload"), "{e}");
    assert!(!stored(&env, "/big", "cancelled.bin"));

    // A triggered token stays triggered: the next upload ends at once.
    let (out, _) = upload(&env, "never.bin", Source::Memory(&data), &o, Some(&token));
    let v = out.to_json();
    assert_eq!(v["error"], "Cancelled");
    assert_eq!(v["attempts"], 0);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("nothing was stored"),
        "{v}"
    );
}

#[test]
fn progress_callback_cancels_by_answering_false() {
    let env = TestEnv::start();
    let data = test_bytes(20 * MIB, 8);
    let file = write_temp(&data);
    let mut calls = 0;
    let mut cb = |sent: u64, _t: Option<u64>| {
        calls += 1;
        sent < 3 * MIB as u64
    };
    let o = opts(json!({"part_size": MIB}));
    let policy = env.policy(json!({}));
    let out = transfer::upload(
        &env.client,
        &policy,
        &target("stop.bin"),
        Source::File(file.path().into()),
        &o,
        Some(&mut cb),
        None,
    );
    let v = out.to_json();
    assert_eq!(v["error"], "Cancelled", "{v}");
    assert!(!stored(&env, "/big", "stop.bin"));
}

#[test]
fn refusals_come_before_anything_is_sent() {
    let env = TestEnv::start();
    let data = test_bytes(300_000, 9);
    let file = write_temp(&data);
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            json!({"checkpoint_path": dir.path().join("no/such/dir/cp.json")}),
            "IoError",
            "not writable",
        ),
        (
            json!({"checkpoint_path": dir.path()}),
            "InvalidArgument",
            "directory",
        ),
    ];
    for (o, error, needle) in cases {
        let (out, calls) = upload(
            &env,
            "refused.bin",
            Source::File(file.path().into()),
            &opts(o),
            None,
        );
        let v = out.to_json();
        assert_eq!(
            (v["code"].clone(), v["error"].clone()),
            (json!(0), json!(error)),
            "{v}"
        );
        assert!(v["message"].as_str().unwrap().contains(needle), "{v}");
        assert!(calls.is_empty() && v.get("attempts").is_none());
    }
    let with_cp = opts(json!({"checkpoint_path": dir.path().join("cp.json")}));
    let (out, _) = upload(&env, "refused.bin", Source::Memory(&data), &with_cp, None);
    assert_eq!(out.to_json()["error"], "InvalidArgument");
    for path in [dir.path().join("missing.bin"), dir.path().to_path_buf()] {
        let (out, _) = upload(
            &env,
            "refused.bin",
            Source::File(path),
            &TransferOptions::default(),
            None,
        );
        assert_eq!(out.to_json()["error"], "IoError");
    }
    assert!(!stored(&env, "/big", "refused.bin"));
}

#[test]
fn one_client_uploads_from_many_threads() {
    let env = Arc::new(TestEnv::start());
    let handles: Vec<_> = (0..3)
        .map(|i| {
            let env = env.clone();
            std::thread::spawn(move || {
                let data = test_bytes(3 * MIB + i, 20 + i as u64);
                let o = opts(json!({"part_size": MIB, "concurrency": 2}));
                let name = format!("t{i}.bin");
                let (out, _) = upload(&env, &name, Source::Memory(&data), &o, None);
                ok(&out);
                assert!(env.download("/big", &name) == data);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
