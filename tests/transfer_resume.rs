//! Resumable uploads: a checkpoint written after every part lets a rerun
//! skip finished parts, after a failure or after the process was killed;
//! stale checkpoints start over cleanly.

mod common;
mod transfer_util;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use transfer_util::*;
use wantu::transfer::Source;
use wantu_server::FaultConfig;

/// The checkpoint's header (a JSON object on the first line) with its
/// finished parts (one `[part_number,"eTag"]` line each) as `parts`. A
/// line being written (torn) is left out, as the library does.
fn read_checkpoint(path: &Path) -> Option<Value> {
    let text = std::fs::read(path).ok()?;
    let mut lines = text.split(|b| *b == b'\n');
    let mut cp: Value = serde_json::from_slice(lines.next()?).ok()?;
    let parts: Vec<Value> = lines
        .map_while(|l| serde_json::from_slice::<(u64, String)>(l).ok())
        .map(|(n, e_tag)| json!({"part_number": n, "e_tag": e_tag}))
        .collect();
    cp["parts"] = Value::Array(parts);
    Some(cp)
}

fn checkpoint_parts(cp: &Value) -> BTreeSet<u64> {
    cp["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["part_number"].as_u64().unwrap())
        .collect()
}

/// Uploads with faults switched on after `fail_after` bytes, so the upload
/// fails mid-way and leaves its checkpoint.
fn fail_mid_way(
    env: &TestEnv,
    name: &str,
    file: &Path,
    o: &wantu::transfer::TransferOptions,
) -> Value {
    let server = env.server();
    let mut cb = |sent: u64, _t: Option<u64>| {
        if sent >= 4 * MIB as u64 {
            server.set_faults(FaultConfig {
                error_rate: 1.0,
                ..Default::default()
            });
        }
        true
    };
    let policy = env.policy(json!({}));
    let out = wantu::transfer::upload(
        &env.client,
        &policy,
        &target(name),
        Source::File(file.into()),
        o,
        Some(&mut cb),
        None,
    );
    env.server().set_faults(FaultConfig::default());
    let v = out.to_json();
    assert_eq!(v["code"], 503, "{v}");
    assert_eq!(v["checkpoint"], "new");
    v
}

#[test]
fn a_failed_upload_resumes_from_its_checkpoint() {
    let env = TestEnv::start();
    let data = test_bytes(12 * MIB, 51);
    let file = write_temp(&data);
    let dir = tempfile::tempdir().unwrap();
    let cp_path = dir.path().join("upload.checkpoint");
    let o = opts(
        json!({"part_size": MIB, "concurrency": 2, "checkpoint_path": cp_path,
        "max_attempts": 2, "backoff_base_ms": 1, "backoff_max_ms": 2}),
    );
    let failed = fail_mid_way(&env, "resumed.bin", file.path(), &o);
    let cp = read_checkpoint(&cp_path).expect("the checkpoint stays after a failure");
    assert_eq!(cp["id"], failed["id"]);
    let done = checkpoint_parts(&cp);
    assert!(!done.is_empty() && done.len() < 12, "{done:?}");

    let (out, calls) = upload(
        &env,
        "resumed.bin",
        Source::File(file.path().into()),
        &o,
        None,
    );
    let v = ok(&out);
    assert_eq!(v["checkpoint"], "resumed");
    assert_eq!(v["resumed_parts"], done.len());
    assert_eq!(v["uploaded_parts"], 12 - done.len());
    assert_eq!(
        v["id"], failed["id"],
        "the same server-side upload was finished"
    );
    check_progress(&calls, data.len() as u64);
    assert!(!cp_path.exists(), "success removes the checkpoint");
    assert!(env.download("/big", "resumed.bin") == data);
}

#[test]
fn stale_checkpoints_start_over_cleanly() {
    let env = TestEnv::start();
    let data = test_bytes(8 * MIB, 52);
    let file = write_temp(&data);
    let dir = tempfile::tempdir().unwrap();
    let cp_path = dir.path().join("cp.json");
    let o = opts(
        json!({"part_size": MIB, "concurrency": 2, "checkpoint_path": cp_path,
        "max_attempts": 2, "backoff_base_ms": 1, "backoff_max_ms": 2}),
    );

    // The file changed (its mtime moved): the old parts may not be its own.
    fail_mid_way(&env, "stale.bin", file.path(), &o);
    let f = std::fs::File::options()
        .write(true)
        .open(file.path())
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    drop(f);
    let (out, _) = upload(
        &env,
        "stale.bin",
        Source::File(file.path().into()),
        &o,
        None,
    );
    let v = ok(&out);
    assert_eq!(
        (v["checkpoint"].clone(), v["resumed_parts"].clone()),
        (json!("stale"), json!(0))
    );
    assert_eq!(v["uploaded_parts"], 8);
    assert!(env.download("/big", "stale.bin") == data);

    // The server no longer knows the upload (cancelled or expired).
    let failed = fail_mid_way(&env, "gone.bin", file.path(), &o);
    let policy = env.policy(json!({}));
    let (id, up) = (
        failed["id"].as_str().unwrap(),
        failed["upload_id"].as_str().unwrap(),
    );
    env.client
        .run(env.client.multipart_cancel(&policy, id, up))
        .unwrap()
        .unwrap();
    let (out, calls) = upload(&env, "gone.bin", Source::File(file.path().into()), &o, None);
    let v = ok(&out);
    assert_eq!(
        (v["checkpoint"].clone(), v["resumed_parts"].clone()),
        (json!("stale"), json!(0))
    );
    check_progress(&calls, data.len() as u64);
    assert!(env.download("/big", "gone.bin") == data);

    // A damaged checkpoint, or one for another target.
    std::fs::write(&cp_path, "{\"version\":1,").unwrap();
    let (out, _) = upload(
        &env,
        "damaged.bin",
        Source::File(file.path().into()),
        &o,
        None,
    );
    assert_eq!(ok(&out)["checkpoint"], "stale");
    fail_mid_way(&env, "first.bin", file.path(), &o);
    let (out, _) = upload(
        &env,
        "second.bin",
        Source::File(file.path().into()),
        &o,
        None,
    );
    assert_eq!(ok(&out)["checkpoint"], "stale");
    assert!(env.download("/big", "second.bin") == data);
}

/// A TCP proxy that records the `partNumber` of every blockUpload passing
/// through it (the parts a client started to send), slowing the upload a
/// little so a kill lands mid-way.
struct CountingProxy {
    addr: SocketAddr,
    parts: Arc<Mutex<BTreeSet<u64>>>,
}

impl CountingProxy {
    fn start(upstream: SocketAddr) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let parts = Arc::new(Mutex::new(BTreeSet::new()));
        let seen = parts.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(down) = conn else { return };
                let Ok(up) = TcpStream::connect(upstream) else {
                    continue;
                };
                let (down2, up2) = (down.try_clone().unwrap(), up.try_clone().unwrap());
                let seen = seen.clone();
                std::thread::spawn(move || pump(down, up, Some(seen)));
                std::thread::spawn(move || pump(up2, down2, None));
            }
        });
        CountingProxy { addr, parts }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, seen: Option<Arc<Mutex<BTreeSet<u64>>>>) {
    const NEEDLE: &[u8] = b"name=\"partNumber\"\r\n\r\n";
    let mut buf = vec![0u8; 64 * 1024];
    let mut tail: Vec<u8> = Vec::new();
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
        if let Some(seen) = &seen {
            // Search the end of the previous read too: the field may straddle reads.
            tail.extend_from_slice(&buf[..n]);
            for at in 0..tail.len().saturating_sub(NEEDLE.len()) {
                if tail[at..].starts_with(NEEDLE) {
                    let digits: Vec<u8> = tail[at + NEEDLE.len()..]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .copied()
                        .collect();
                    if let Ok(p) = String::from_utf8(digits).unwrap().parse() {
                        seen.lock().unwrap().insert(p);
                    }
                }
            }
            let keep = tail.len().min(NEEDLE.len() + 8);
            tail.drain(..tail.len() - keep);
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
}

const CHILD_ENV: &str = "WANTU_TRANSFER_CHILD";

/// Not a test of its own: the body of the child process that
/// `killed_upload_resumes` starts (this test binary, run again).
#[test]
fn child_upload_process() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let spec: Value = serde_json::from_str(&spec).unwrap();
    let client = client_for(spec["url"].as_str().unwrap(), Default::default());
    let policy = wantu::policy::Policy::parse(&policy_json(json!({}))).unwrap();
    let o = opts(spec["options"].clone());
    let source = Source::File(spec["file"].as_str().unwrap().into());
    let out = wantu::transfer::upload(
        &client,
        &policy,
        &target("killed.bin"),
        source,
        &o,
        None,
        None,
    );
    println!("child finished: {}", out.to_json());
}

#[test]
fn killed_upload_resumes_and_resends_only_parts_in_flight() {
    let env = TestEnv::start();
    let data = test_bytes(24 * MIB, 53);
    let file = write_temp(&data);
    let dir = tempfile::tempdir().unwrap();
    let cp_path = dir.path().join("killed.checkpoint");
    let concurrency = 3;
    let options = json!({"part_size": MIB, "concurrency": concurrency, "checkpoint_path": cp_path});
    let proxy = CountingProxy::start(env.server().addr());
    let spec =
        json!({"url": format!("http://{}", proxy.addr), "file": file.path(), "options": options});
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_upload_process",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, spec.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Poll until some parts are recorded and others are on the wire, then SIGKILL.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let in_flight = |cp: Value| {
            let done = checkpoint_parts(&cp);
            done.len() >= 4
                && proxy
                    .parts
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|p| !done.contains(p))
        };
        if read_checkpoint(&cp_path).is_some_and(in_flight) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child ended before it was killed"
        );
        assert!(Instant::now() < deadline, "no checkpoint progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let cp = read_checkpoint(&cp_path).expect("checkpoint survives the kill");
    let done = checkpoint_parts(&cp);
    let mut started = proxy.parts.lock().unwrap().clone();
    started.insert(1); // blockInit carries part 1 without a partNumber field
    assert!(done.len() < 24, "killed mid-way");

    let o = opts(options);
    let (out, calls) = upload(
        &env,
        "killed.bin",
        Source::File(file.path().into()),
        &o,
        None,
    );
    let v = ok(&out);
    assert_eq!(v["checkpoint"], "resumed");
    assert_eq!(v["resumed_parts"], done.len());
    assert_eq!(
        v["uploaded_parts"],
        24 - done.len(),
        "only unrecorded parts are sent again"
    );
    let resent: BTreeSet<u64> = started.difference(&done).copied().collect();
    eprintln!(
        "checkpoint had {} parts; the child had started {}; re-sent: {resent:?}",
        done.len(),
        started.len()
    );
    assert!(
        resent.len() <= concurrency,
        "re-sent {resent:?}: more than the {concurrency} parts in flight"
    );
    check_progress(&calls, data.len() as u64);
    assert!(!cp_path.exists());
    assert!(
        env.download("/big", "killed.bin") == data,
        "byte-exact after the kill"
    );
}
