//! The one-call uploader and files that change while they are uploaded.
//! Everything runs against the real wantu-server.

mod common;
mod transfer_util;

use common::*;
use serde_json::{json, Value};
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};
use transfer_util::*;
use wantu::transfer::{self, Outcome, Source, TransferOptions};

/// A file whose mtime lies an hour back, so that a change made during the
/// test shows in the mtime whatever the clock's granularity.
fn old_file(data: &[u8]) -> tempfile::NamedTempFile {
    let file = write_temp(data);
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    file.as_file().set_modified(hour_ago).unwrap();
    file
}

fn overwrite(path: &Path, at: u64, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(bytes).unwrap();
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

/// Uploads `file` through `client`, running `change` once from the progress
/// callback, the first time it reports at least `at` bytes sent but not yet
/// everything. The callback runs on the calling thread, which also runs
/// the engine's future: while it runs, the engine cannot reach
/// blockComplete, and since not every byte was sent yet, blockComplete
/// comes after the change. Returns the outcome and whether the change ran.
fn upload_changing(
    client: &wantu::Client,
    name: &str,
    file: &Path,
    o: &TransferOptions,
    at: u64,
    change: &dyn Fn(&Path),
) -> (Outcome, bool) {
    let size = std::fs::metadata(file).unwrap().len();
    let mut changed = false;
    let mut cb = |sent: u64, _total: Option<u64>| {
        if !changed && sent >= at && sent < size {
            change(file);
            changed = true;
        }
        true
    };
    let policy = Policy::parse(&policy_json(json!({}))).unwrap();
    let out = transfer::upload(
        client,
        &policy,
        &target(name),
        Source::File(file.into()),
        o,
        Some(&mut cb),
        None,
    );
    (out, changed)
}

use wantu::policy::Policy;

#[track_caller]
fn file_changed(v: &Value) {
    assert_eq!(
        (v["code"].clone(), v["error"].clone()),
        (json!(0), json!("FileChanged")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("changed while it was being uploaded"),
        "{v}"
    );
}

// ---- 1. a file that changes during a multipart upload ----

#[test]
fn a_file_that_grows_during_a_multipart_upload_is_file_changed() {
    let env = TestEnv::start();
    let data = test_bytes(6 * MIB, 61);
    let file = old_file(&data);
    // One part at a time: most of the file is still to be read and sent
    // when the callback first reports a MiB.
    let o = opts(json!({"part_size": MIB, "concurrency": 1}));
    let (out, changed) = upload_changing(
        &env.client,
        "grows.bin",
        file.path(),
        &o,
        MIB as u64,
        &|p| append(p, &[7u8; 5000]),
    );
    assert!(changed, "the file was changed mid-way");
    let v = out.to_json();
    file_changed(&v);
    assert_eq!(v["multipart"], true, "{v}");
    assert!(!stored(&env, "/big", "grows.bin"), "nothing was stored");
}

#[test]
fn a_file_rewritten_in_place_during_a_multipart_upload_is_file_changed_and_its_checkpoint_dropped()
{
    let env = TestEnv::start();
    let data = test_bytes(6 * MIB, 62);
    let file = old_file(&data);
    let dir = tempfile::tempdir().unwrap();
    let cp_path = dir.path().join("cp");
    let o = opts(json!({"part_size": MIB, "concurrency": 1, "checkpoint_path": cp_path}));
    // The last MiB is rewritten (same size) while the first parts are on
    // the wire: stored as is, the file would be neither version.
    let (out, changed) = upload_changing(
        &env.client,
        "rewritten.bin",
        file.path(),
        &o,
        MIB as u64,
        &|p| overwrite(p, 5 * MIB as u64 + 10, &[0u8; 4096]),
    );
    assert!(changed);
    let v = out.to_json();
    file_changed(&v);
    assert!(!stored(&env, "/big", "rewritten.bin"), "no torn file");
    assert!(
        !cp_path.exists(),
        "the checkpoint of a changed file is removed, never resumed"
    );
    // The same call, once the file is stable, uploads the new version.
    let (out, _) = upload(
        &env,
        "rewritten.bin",
        Source::File(file.path().into()),
        &o,
        None,
    );
    let v = ok(&out);
    assert_eq!(v["checkpoint"], "new", "{v}");
    let now = std::fs::read(file.path()).unwrap();
    assert_ne!(now, data);
    assert!(env.download("/big", "rewritten.bin") == now);
}

/// A checkpoint knows its file by path, size and mtime. A file rewritten
/// between the failed run and the resume, with size and mtime kept, passes
/// that check; the whole file's MD5 (of the bytes read now) then differs
/// from the parts stored on the server at blockComplete. That is
/// FileChanged, not a BadDigest to retry or report, and the checkpoint is
/// dropped so the next run starts over with the new bytes.
#[test]
fn a_resume_of_a_file_changed_behind_its_mtime_is_file_changed() {
    let env = TestEnv::start();
    let data = test_bytes(6 * MIB, 67);
    let file = old_file(&data);
    let dir = tempfile::tempdir().unwrap();
    let cp_path = dir.path().join("cp");
    let o = opts(
        json!({"part_size": MIB, "concurrency": 1, "checkpoint_path": cp_path,
        "max_attempts": 2, "backoff_base_ms": 1, "backoff_max_ms": 2}),
    );
    let server = env.server();
    let mut cb = |sent: u64, _t: Option<u64>| {
        if sent >= 3 * MIB as u64 {
            server.set_faults(wantu_server::FaultConfig {
                error_rate: 1.0,
                ..Default::default()
            });
        }
        true
    };
    let policy = env.policy(json!({}));
    let out = transfer::upload(
        &env.client,
        &policy,
        &target("behind.bin"),
        Source::File(file.path().into()),
        &o,
        Some(&mut cb),
        None,
    );
    env.server().set_faults(Default::default());
    assert_eq!(out.to_json()["code"], 503, "{}", out.to_json());
    assert!(cp_path.exists());

    let mtime = std::fs::metadata(file.path()).unwrap().modified().unwrap();
    overwrite(file.path(), 10, b"rewritten behind the mtime");
    file.as_file().set_modified(mtime).unwrap();
    let (out, _) = upload(
        &env,
        "behind.bin",
        Source::File(file.path().into()),
        &o,
        None,
    );
    let v = out.to_json();
    assert_eq!(v["checkpoint"], "resumed", "{v}");
    file_changed(&v);
    assert!(!cp_path.exists(), "the checkpoint is dropped");
    assert!(!stored(&env, "/big", "behind.bin"));

    let (out, _) = upload(
        &env,
        "behind.bin",
        Source::File(file.path().into()),
        &o,
        None,
    );
    assert_eq!(ok(&out)["checkpoint"], "new");
    assert!(env.download("/big", "behind.bin") == std::fs::read(file.path()).unwrap());
}

#[test]
fn a_stable_file_still_uploads_in_parts_byte_exact() {
    let env = TestEnv::start();
    let data = test_bytes(5 * MIB + 77, 63);
    let file = old_file(&data);
    let o = opts(json!({"part_size": MIB, "concurrency": 3}));
    let (out, changed) = upload_changing(
        &env.client,
        "stable.bin",
        file.path(),
        &o,
        MIB as u64,
        &|_| {},
    );
    assert!(changed);
    let v = ok(&out);
    assert_eq!(v["parts"], 6);
    assert!(env.download("/big", "stable.bin") == data);
}
