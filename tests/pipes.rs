//! A FIFO, a device or a socket given as a path to the one-call upload:
//! streamed to its end, or refused at once, and never a hang — a cancel
//! always ends the call. Every call runs under a deadline.
#![cfg(unix)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use wantu::transfer::{self, CancelToken, Source, TransferOptions};
use wantu::upload::Target;

fn mkfifo(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let c = cs(path.to_str().unwrap());
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    path
}

/// Uploads `path` as `/pipes/NAME` on its own thread; the answer, or a
/// failure when it takes more than 20 s.
fn upload_within_deadline(
    env: &TestEnv,
    path: PathBuf,
    name: &str,
    options: Value,
    cancel: Option<CancelToken>,
) -> Value {
    let (tx, rx) = mpsc::channel();
    let client = client_for(&env.base_url(), Default::default());
    let policy = env.policy(json!({}));
    let target = Target::new(Some("/pipes"), Some(name), None, None).unwrap();
    let opts = TransferOptions::from_json(Some(&options.to_string())).unwrap();
    std::thread::spawn(move || {
        let out = transfer::upload(
            &client,
            &policy,
            &target,
            Source::File(path),
            &opts,
            None,
            cancel.as_ref(),
        );
        let _ = tx.send(out.to_json());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the upload of a FIFO or device hung")
}

#[test]
fn a_fifo_is_streamed_to_its_end() {
    let env = TestEnv::start();
    let dir = tempfile::tempdir().unwrap();
    let fifo = mkfifo(dir.path(), "pipe");
    // More than one part of 102400, written in pieces after a pause: the
    // upload waits for the writer, then reads to its end.
    let data = test_bytes(250_000, 3);
    let (writer_fifo, writer_data) = (fifo.clone(), data.clone());
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(writer_fifo)
            .unwrap();
        for piece in writer_data.chunks(60_000) {
            f.write_all(piece).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let v = upload_within_deadline(&env, fifo, "fifo.bin", json!({"part_size": 102400}), None);
    writer.join().unwrap();
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["multipart"], true, "{v}");
    assert_eq!(v["md5"], md5_hex(&data), "{v}");
    assert_eq!(env.download("/pipes", "fifo.bin"), data);
}

#[test]
fn a_fifo_nobody_writes_to_ends_at_a_cancel() {
    let env = TestEnv::start();
    let dir = tempfile::tempdir().unwrap();
    let fifo = mkfifo(dir.path(), "quiet");
    let cancel = CancelToken::new();
    let trigger = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        trigger.trigger();
    });
    let started = Instant::now();
    let v = upload_within_deadline(&env, fifo, "quiet.bin", json!({}), Some(cancel));
    assert_error(&v, 0, "Cancelled", "");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_device_streams_until_cancelled_and_a_socket_is_refused() {
    let env = TestEnv::start();
    // /dev/zero never ends: the cancel ends it, nothing is stored.
    let cancel = CancelToken::new();
    let trigger = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        trigger.trigger();
    });
    let v = upload_within_deadline(
        &env,
        "/dev/zero".into(),
        "zero.bin",
        json!({"part_size": 102400}),
        Some(cancel),
    );
    assert_error(&v, 0, "Cancelled", "");
    let exists = env
        .client
        .run(env.client.file_exists(NS, "/pipes", "zero.bin"));
    assert_eq!(exists.unwrap().unwrap()["exist"], false);

    // /dev/null is a device that ends at once: an empty file.
    let v = upload_within_deadline(&env, "/dev/null".into(), "null.bin", json!({}), None);
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(env.download("/pipes", "null.bin"), b"");

    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let v = upload_within_deadline(&env, sock, "sock.bin", json!({}), None);
    assert_error(&v, 0, "IoError", "is a socket");

    // A stream cannot be resumed: a checkpoint is refused before anything.
    let fifo = mkfifo(dir.path(), "p");
    let ck = dir.path().join("ck").to_str().unwrap().to_string();
    let v = upload_within_deadline(&env, fifo, "ck.bin", json!({"checkpoint_path": ck}), None);
    assert_error(&v, 0, "InvalidArgument", "cannot be resumed");
}
