//! The one-call uploader and files that change while they are uploaded,
//! bytes damaged on the way, and a cancel that lands while blockComplete
//! is in flight. Everything runs against the real wantu-server; where a
//! moment must be hit exactly, a small TCP proxy between client and server
//! watches the requests and acts at that moment (no timing guesses).

mod common;
mod transfer_util;

use common::*;
use serde_json::{json, Value};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use transfer_util::*;
use wantu::transfer::{self, CancelToken, Outcome, Source, TransferOptions};

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

// ---- a proxy that watches requests and acts at exact moments ----

/// One request/answer pair seen by the proxy.
#[derive(Debug, Clone)]
struct Exchange {
    path: String,
    part: Option<u32>,
    md5: Option<String>,
    status: u16,
}

#[derive(Default)]
struct Plan {
    /// Flip one content byte of the first request carrying this part
    /// number (a blockUpload), and run `on_corrupt` right then.
    corrupt_part: Option<u32>,
    on_corrupt: Option<Box<dyn Fn() + Send + Sync>>,
    /// Run this when the head of the first request arrives, then drop that
    /// connection without forwarding anything (the attempt breaks off).
    break_first: Option<Box<dyn Fn() + Send + Sync>>,
    /// Trigger this token when blockComplete's answer comes back from the
    /// server, and never forward that answer (the server has stored the
    /// file; the client only sees its cancel).
    cancel_on_complete: Option<CancelToken>,
}

struct Proxy {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Exchange>>>,
}

/// Where the client→server direction of one connection is.
#[derive(Default)]
struct Req {
    /// Head and fields of the current request, until its content starts.
    prefix: Vec<u8>,
    /// Content bytes seen so far, once it started.
    content: Option<usize>,
    corrupt: bool,
    /// Set once a request's bytes arrive; cleared by its answer.
    busy: bool,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn field(prefix: &[u8], name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"\r\n\r\n");
    let at = find(prefix, marker.as_bytes())? + marker.len();
    let end = find(&prefix[at..], b"\r\n")?;
    Some(String::from_utf8_lossy(&prefix[at..at + end]).into_owned())
}

fn request_path(prefix: &[u8]) -> String {
    let line = prefix.split(|b| *b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    line.split(' ').nth(1).unwrap_or_default().to_string()
}

impl Proxy {
    fn start(upstream: SocketAddr, plan: Plan) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let plan = Arc::new(plan);
        let corrupted = Arc::new(AtomicBool::new(false));
        let broke = Arc::new(AtomicBool::new(false));
        let shared_log = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(down) = conn else { return };
                let Ok(up) = TcpStream::connect(upstream) else {
                    continue;
                };
                let state = Arc::new(Mutex::new(Req::default()));
                let (d2, u2) = (down.try_clone().unwrap(), up.try_clone().unwrap());
                let (p1, p2) = (plan.clone(), plan.clone());
                let (s1, s2) = (state.clone(), state);
                let (c1, b1, l2) = (corrupted.clone(), broke.clone(), shared_log.clone());
                std::thread::spawn(move || requests(down, up, &p1, &s1, &c1, &b1));
                std::thread::spawn(move || answers(u2, d2, &p2, &s2, &l2));
            }
        });
        Proxy { addr, log }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn log(&self) -> Vec<Exchange> {
        self.log.lock().unwrap().clone()
    }
}

/// Client → server.
fn requests(
    mut from: TcpStream,
    mut to: TcpStream,
    plan: &Plan,
    state: &Mutex<Req>,
    corrupted: &AtomicBool,
    broke: &AtomicBool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        let chunk = &mut buf[..n];
        {
            let mut s = state.lock().unwrap();
            s.busy = true;
            let mut at = 0;
            if s.content.is_none() {
                let before = s.prefix.len();
                s.prefix.extend_from_slice(chunk);
                if let Some(pos) = find(&s.prefix, b"name=\"content\"") {
                    if let Some(end) = find(&s.prefix[pos..], b"\r\n\r\n") {
                        let start = pos + end + 4;
                        at = start.saturating_sub(before).min(chunk.len());
                        s.prefix.truncate(start);
                        s.content = Some(0);
                        let part = field(&s.prefix, "partNumber").and_then(|p| p.parse().ok());
                        if plan.corrupt_part.is_some()
                            && part == plan.corrupt_part
                            && !corrupted.swap(true, Ordering::SeqCst)
                        {
                            s.corrupt = true;
                        }
                    }
                }
                if let Some(hook) = &plan.break_first {
                    if find(&s.prefix, b"\r\n\r\n").is_some() && !broke.swap(true, Ordering::SeqCst)
                    {
                        hook();
                        let _ = from.shutdown(Shutdown::Both);
                        let _ = to.shutdown(Shutdown::Both);
                        return;
                    }
                }
            }
            if let Some(seen) = s.content {
                let here = chunk.len() - at;
                // Flip the content's 1000th byte, wherever it lands.
                if s.corrupt && seen <= 1000 && 1000 < seen + here {
                    chunk[at + 1000 - seen] ^= 0x5a;
                    s.corrupt = false;
                    if let Some(f) = &plan.on_corrupt {
                        f();
                    }
                }
                s.content = Some(seen + here);
            }
        }
        if to.write_all(chunk).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}

/// Server → client.
fn answers(
    mut from: TcpStream,
    mut to: TcpStream,
    plan: &Plan,
    state: &Mutex<Req>,
    log: &Mutex<Vec<Exchange>>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        let mut s = state.lock().unwrap();
        if s.busy && chunk.starts_with(b"HTTP/1.1 ") {
            let status = String::from_utf8_lossy(&chunk[9..12]).parse().unwrap_or(0);
            let path = request_path(&s.prefix);
            log.lock().unwrap().push(Exchange {
                part: field(&s.prefix, "partNumber").and_then(|p| p.parse().ok()),
                md5: field(&s.prefix, "md5"),
                path: path.clone(),
                status,
            });
            *s = Req::default();
            if path.ends_with("/blockComplete") {
                if let Some(cancel) = &plan.cancel_on_complete {
                    // The answer is held back: the client waits for it
                    // until its cancel, which comes now.
                    cancel.trigger();
                    drop(s);
                    let _ = from.read(&mut buf);
                    break;
                }
            }
        }
        drop(s);
        if to.write_all(chunk).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}

// ---- 2. BadDigest retries ----

/// A part whose bytes were damaged on the way is sent again from the same
/// buffer, not read again from the file: the retry carries the MD5 of the
/// first read and the server accepts it, although the file's bytes for
/// that part were rewritten in between. The change itself is caught before
/// blockComplete (FileChanged), so nothing torn is stored.
#[test]
fn a_bad_digest_retry_of_a_part_resends_the_same_buffer() {
    let env = TestEnv::start();
    let data = test_bytes(4 * MIB, 64);
    let file = old_file(&data);
    let path = file.path().to_path_buf();
    let proxy = Proxy::start(
        env.server().addr(),
        Plan {
            corrupt_part: Some(2),
            on_corrupt: Some(Box::new(move || {
                overwrite(&path, MIB as u64 + 100, &[0xee; 1000])
            })),
            ..Plan::default()
        },
    );
    let client = client_for(&proxy.url(), Default::default());
    let o = opts(
        json!({"part_size": MIB, "concurrency": 1, "backoff_base_ms": 1, "backoff_max_ms": 2}),
    );
    let (out, _) = upload_changing(&client, "digest.bin", file.path(), &o, u64::MAX, &|_| {});
    let v = out.to_json();
    let part2: Vec<_> = proxy
        .log()
        .into_iter()
        .filter(|e| e.part == Some(2))
        .collect();
    assert_eq!(part2.len(), 2, "part 2 sent twice: {part2:?}");
    assert_eq!(part2[0].status, 400, "the damaged attempt: BadDigest");
    assert_eq!(
        part2[1].status, 200,
        "the retry carried the first read's bytes"
    );
    assert_eq!(part2[0].md5, part2[1].md5);
    assert_eq!(
        part2[0].md5.as_deref(),
        Some(&*md5_hex(&data[MIB..2 * MIB]))
    );
    assert_eq!(v["retries"], 1, "{v}");
    file_changed(&v);
    assert!(!stored(&env, "/big", "digest.bin"));
}

/// A simple upload streams the file from disk on every attempt. When an
/// attempt is answered BadDigest, the file is read again and its MD5
/// compared with the first read: a difference means the file changed, and
/// the upload ends at once with FileChanged instead of retrying until the
/// attempts run out.
#[test]
fn a_bad_digest_on_a_reread_file_is_file_changed_at_once() {
    let env = TestEnv::start();
    // Larger than the sockets can buffer, so the first attempt's body is
    // still being read when its connection is dropped.
    let data = test_bytes(24 * MIB, 65);
    let file = old_file(&data);
    let path = file.path().to_path_buf();
    let proxy = Proxy::start(
        env.server().addr(),
        Plan {
            break_first: Some(Box::new(move || overwrite(&path, 5, b"changed"))),
            ..Plan::default()
        },
    );
    let client = client_for(&proxy.url(), Default::default());
    let o = opts(json!({"multipart_threshold": 32 * MIB, "max_attempts": 5,
        "backoff_base_ms": 1, "backoff_max_ms": 2}));
    let (out, _) = upload_changing(&client, "simple.bin", file.path(), &o, u64::MAX, &|_| {});
    let v = out.to_json();
    let log = proxy.log();
    eprintln!("{v}\n{log:?}");
    file_changed(&v);
    assert_eq!(v["multipart"], false);
    assert_eq!(
        v["attempts"], 2,
        "the broken-off attempt, then one BadDigest: no more"
    );
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].status, 400);
    assert!(!stored(&env, "/big", "simple.bin"));
}

// ---- 3. a cancel while blockComplete is in flight ----

/// Deterministic without timing: the proxy forwards blockComplete, lets the
/// server finish it (its answer arrives, so the file is stored), then
/// triggers the cancel and never forwards that answer. The client is thus
/// always waiting on blockComplete when its cancel comes.
#[test]
fn a_cancel_during_block_complete_says_the_outcome_is_unknown() {
    let env = TestEnv::start();
    let data = test_bytes(3 * MIB, 66);
    let file = write_temp(&data);
    let cancel = CancelToken::new();
    let proxy = Proxy::start(
        env.server().addr(),
        Plan {
            cancel_on_complete: Some(cancel.clone()),
            ..Plan::default()
        },
    );
    let client = client_for(&proxy.url(), Default::default());
    let o = opts(json!({"part_size": MIB}));
    let policy = Policy::parse(&policy_json(json!({}))).unwrap();
    let out = transfer::upload(
        &client,
        &policy,
        &target("late-cancel.bin"),
        Source::File(file.path().into()),
        &o,
        None,
        Some(&cancel),
    );
    let v = out.to_json();
    eprintln!("{v}");
    assert_eq!(
        (v["code"].clone(), v["error"].clone()),
        (json!(0), json!("Cancelled")),
        "{v}"
    );
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("blockComplete was in flight") && msg.contains("may or may not be stored"),
        "{msg}"
    );
    assert!(!msg.contains("was cancelled on the server"), "{msg}");
    assert!(!msg.contains("nothing was stored"), "{msg}");
    // Here the server did complete it: the message was right not to
    // claim otherwise, and no blockCancel followed the blockComplete.
    assert!(stored(&env, "/big", "late-cancel.bin"));
    let log = proxy.log();
    assert_eq!(
        log.last().unwrap().path,
        "/api/proxy/blockComplete",
        "{log:?}"
    );
    assert!(env.download("/big", "late-cancel.bin") == data);
}
