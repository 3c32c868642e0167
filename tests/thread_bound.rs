//! A many-files call does not grow threads with the files in progress:
//! the client's runtime has 2 workers and at most
//! `BLOCKING_THREADS` pool threads (file reads, MD5s), whatever the
//! number of files. Its own test binary, so that no other test's client
//! adds threads to the count.

mod common;

use common::*;
use serde_json::{json, Value};
use wantu::batch::{self, BatchOptions};
use wantu::client::BLOCKING_THREADS;

/// Live threads of this process named like the client's runtime threads.
fn runtime_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "wantu-worker")
        .count()
}

#[test]
fn many_files_keep_the_threads_bounded() {
    let env = TestEnv::start();
    let local = tempfile::tempdir().unwrap();
    let files = 600;
    for i in 0..files {
        let dir = local.path().join(format!("d{}", i % 6));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("f{i}.bin")), test_bytes(3000, i as u64)).unwrap();
    }
    let mut most = 0;
    let mut cb = |_: u64, _: Option<u64>| {
        most = most.max(runtime_threads());
        true
    };
    // Integrity on (the default): every file is hashed on the pool.
    let o = BatchOptions::from_json(Some(&json!({"concurrency": 64}).to_string())).unwrap();
    let policy = env.policy(json!({}));
    let text = batch::upload_dir(
        &env.client,
        &policy,
        local.path(),
        "/t",
        &o,
        Some(&mut cb),
        None,
        None,
    )
    .expect("the call runs");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["uploaded"], files);
    // Idle pool threads live on for 10 s, so this also sees the peak.
    let after = runtime_threads();
    let bound = 2 + BLOCKING_THREADS;
    assert!(
        most <= bound && after <= bound,
        "runtime threads: {most} during the call, {after} after it; at most {bound} expected"
    );
    assert!(after >= 2, "the count sees the runtime's workers ({after})");
}
