//! Files that misbehave under `upload` (the seed's `upload_file`): a FIFO,
//! a device, and a file that grows, shrinks or is rewritten while it is
//! being sent. Each must end in one clear error, never a hang, a misleading
//! server error, or a stored file that matches neither version.

mod common;

use common::*;
use serde_json::json;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, SystemTime};
use wantu::upload::{Content, Meter, Target};

const LEN: usize = 1 << 20;

fn target(name: &str) -> Target {
    Target::new(Some("/fc"), Some(name), None, None).unwrap()
}

fn stored(env: &TestEnv, name: &str) -> bool {
    let r = env
        .client
        .run(env.client.file_exists(NS, "/fc", name))
        .unwrap()
        .unwrap();
    r["exist"] == true
}

/// A file whose mtime lies an hour back, so that a change made during the
/// test shows in the mtime whatever the clock's granularity.
fn old_file(data: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), data).unwrap();
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    file.as_file().set_modified(hour_ago).unwrap();
    file
}

/// Uploads `path`, running `change` once, right after the first chunk of
/// the body was taken by the connection (so the rest is read afterwards).
fn upload_changing(
    env: &TestEnv,
    path: &Path,
    name: &str,
    change: fn(&Path),
) -> wantu::Result<serde_json::Value> {
    let done = Arc::new(AtomicBool::new(false));
    let owned = path.to_path_buf();
    let meter = Meter(Arc::new(move |_chunk| {
        if !done.swap(true, Ordering::SeqCst) {
            change(&owned);
        }
    }));
    let content = Content::Metered(Box::new(Content::File(path.into())), meter);
    env.client
        .run(
            env.client
                .upload(&env.policy(json!({})), &target(name), content, None),
        )
        .unwrap()
}

fn open_rw(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new().write(true).open(path).unwrap()
}

#[test]
fn a_file_that_grows_during_the_upload_is_file_changed() {
    let env = TestEnv::start();
    let file = old_file(&test_bytes(LEN, 1));
    let r = upload_changing(&env, file.path(), "grows", |p| {
        let mut f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
        f.write_all(&[7u8; 4096]).unwrap();
    });
    assert_err(r, 0, "FileChanged", "changed while it was being uploaded");
    assert!(!stored(&env, "grows"));
}

#[test]
fn a_file_that_shrinks_during_the_upload_is_file_changed() {
    let env = TestEnv::start();
    let file = old_file(&test_bytes(LEN, 2));
    let r = upload_changing(&env, file.path(), "shrinks", |p| {
        open_rw(p).set_len(LEN as u64 / 2).unwrap();
    });
    assert_err(r, 0, "FileChanged", "changed while it was being uploaded");
    assert!(!stored(&env, "shrinks"));
}

#[test]
fn a_file_rewritten_in_place_during_the_upload_is_file_changed() {
    let env = TestEnv::start();
    let file = old_file(&test_bytes(LEN, 3));
    let r = upload_changing(&env, file.path(), "rewritten", |p| {
        let mut f = open_rw(p);
        f.seek(SeekFrom::Start(LEN as u64 / 2)).unwrap();
        f.write_all(&[0u8; 8192]).unwrap();
    });
    assert_err(r, 0, "FileChanged", "changed while it was being uploaded");
    assert!(!stored(&env, "rewritten"));
}

#[test]
fn an_unchanged_file_still_uploads_byte_exact() {
    let env = TestEnv::start();
    let data = test_bytes(LEN, 4);
    let file = old_file(&data);
    let r = upload_changing(&env, file.path(), "same", |_| {}).unwrap();
    assert_eq!(r["e_tag"], md5_hex(&data).to_uppercase());
    assert_eq!(env.download("/fc", "same"), data);
}

/// Runs an upload of `path` on its own thread and waits at most 20 s.
fn upload_within_deadline(env: &TestEnv, path: PathBuf) -> wantu::Result<serde_json::Value> {
    let (tx, rx) = mpsc::channel();
    let client = client_for(&env.base_url(), Default::default());
    let policy = env.policy(json!({}));
    std::thread::spawn(move || {
        let r = client
            .run(client.upload(&policy, &target("special"), Content::File(path), None))
            .unwrap();
        let _ = tx.send(r);
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the upload of a special file hung")
}

#[test]
fn a_fifo_without_a_writer_is_refused_at_once() {
    let env = TestEnv::start();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let r = upload_within_deadline(&env, fifo.clone());
    let e = assert_err(r, 0, "IoError", "is not a regular file");
    assert!(e.message().contains(&*fifo.to_string_lossy()), "{e}");
}

#[test]
fn a_device_is_refused_not_sent() {
    let env = TestEnv::start();
    let r = upload_within_deadline(&env, "/dev/zero".into());
    assert_err(r, 0, "IoError", "/dev/zero is not a regular file");
    assert!(!stored(&env, "special"));
}
