//! The C surface driven with arbitrary arguments: every exported `wantu_*`
//! call with fuzzer-chosen strings (valid, arbitrary text, invalid UTF-8,
//! NULL), byte buffers and lengths (NULL with a length, short lengths,
//! impossible lengths), numbers, JSON, cancel handles and callbacks that
//! cancel, re-enter the library or misbehave as read callbacks.
//!
//! Everything stays within the documented contract (no freed or foreign
//! pointers, no lengths beyond a buffer), so whatever happens is the
//! library's doing. Uploads go to a closed local port and management
//! calls to a local responder that answers 404 at once; options that would
//! retry the closed port for long (NULL options mean 10 attempts) are given
//! one attempt unless the call is cancelled before it starts, so no call
//! waits.
//! Every result must be a JSON object obeying the result contract, and is
//! freed, as is every handle: LeakSanitizer reports what is not.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::ptr::{null, null_mut};
use std::sync::OnceLock;
use std::time::Duration;
use wantu::ffi::batch::*;
use wantu::ffi::boundary::wantu_client;
use wantu::ffi::cancel::*;
use wantu::ffi::client::*;
use wantu::ffi::download::*;
use wantu::ffi::manage::*;
use wantu::ffi::processing::*;
use wantu::ffi::transfer::*;
use wantu::ffi::upload::*;
use wantu::transfer::TransferOptions;

/// A string argument. `Good` is a usable value for that argument, so the
/// fuzzer also gets past the first check of each call.
#[derive(Arbitrary, Debug)]
enum Str {
    Null,
    Good,
    Text(String),
    /// Any bytes (NULs dropped: a C string ends at the first one), usually
    /// not UTF-8.
    Raw(Vec<u8>),
}

impl Str {
    fn c(&self, good: &str) -> Option<CString> {
        match self {
            Str::Null => None,
            Str::Good => Some(CString::new(good).unwrap()),
            Str::Text(t) => Some(CString::new(t.replace('\0', "")).unwrap()),
            Str::Raw(b) => Some(
                CString::new(b.iter().copied().filter(|&b| b != 0).collect::<Vec<_>>()).unwrap(),
            ),
        }
    }
}

fn ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(null(), |s| s.as_ptr())
}

/// A byte buffer and the length passed with it.
#[derive(Arbitrary, Debug)]
enum Bytes {
    Whole(Vec<u8>),
    /// A length shorter than the buffer.
    Prefix(Vec<u8>, u16),
    /// NULL with a length: refused unless the length is 0.
    Null(usize),
    /// A length no buffer can have: refused before it is read.
    Impossible(Vec<u8>),
}

impl Bytes {
    fn args(&self) -> (*const u8, usize) {
        match self {
            Bytes::Whole(b) => (b.as_ptr(), b.len()),
            Bytes::Prefix(b, n) => (b.as_ptr(), (*n as usize).min(b.len())),
            Bytes::Null(n) => (null(), *n),
            Bytes::Impossible(b) => (b.as_ptr(), usize::MAX - b.len()),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum PathArg {
    Null,
    SmallFile,
    Missing,
    Directory,
    /// A name inside the scratch directory ('/' dropped, so it stays there:
    /// a FIFO or a device elsewhere would be another test).
    Named(String),
    /// Bytes that are not UTF-8 (or, when they are, a name as above).
    Raw(Vec<u8>),
}

impl PathArg {
    fn c(&self) -> Option<CString> {
        let dir = scratch();
        let path = match self {
            PathArg::Null => return None,
            PathArg::SmallFile => dir.join("small.txt"),
            PathArg::Missing => dir.join("missing.bin"),
            PathArg::Directory => dir.clone(),
            PathArg::Named(n) => dir.join(n.replace(['/', '\0'], "_")),
            PathArg::Raw(b) => match std::str::from_utf8(b) {
                Ok(n) => dir.join(n.replace(['/', '\0'], "_")),
                Err(_) => return Str::Raw(b.clone()).c(""),
            },
        };
        Some(CString::new(path.to_str().unwrap()).unwrap())
    }
}

#[derive(Arbitrary, Debug)]
enum CancelArg {
    None,
    Fresh,
    Triggered,
}

/// What the progress callback does each time it is called.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Progress {
    present: bool,
    answer: i32,
    trigger_cancel: bool,
    /// Calls back into the library, which must refuse.
    reenter: bool,
}

/// What the read callback of a stream upload does.
#[derive(Arbitrary, Debug)]
struct Stream {
    present: bool,
    data: Vec<u8>,
    /// Answer an error (-1) once this many bytes were given.
    fail_after: Option<u16>,
    /// Claim one byte more than fits (without writing it).
    overclaim: bool,
}

/// One exported call. The string arguments are in the order of the C
/// signature (byte buffers, paths, numbers and callbacks apart).
#[derive(Arbitrary, Debug)]
enum Call {
    ClientNew([Str; 7]),
    Token(Str),
    UploadFile([Str; 6], PathArg),
    UploadContent([Str; 6], Bytes),
    MultipartInit([Str; 6], Bytes),
    MultipartUpload([Str; 4], u32, Bytes),
    MultipartComplete([Str; 5]),
    MultipartCancel([Str; 3]),
    FileExists([Str; 3]),
    FileGet([Str; 3]),
    FileDelete([Str; 3]),
    FileRename([Str; 5]),
    FileList([Str; 2], i64, i64),
    FileListAll([Str; 2], i64),
    DirCreate([Str; 2]),
    DirExists([Str; 2]),
    DirDelete([Str; 2]),
    DirList([Str; 2], i64, i64),
    DirListAll([Str; 2], i64),
    PtsAdd([Str; 5], i32),
    PtsGet(Str),
    MediaEncode([Str; 7]),
    MediaEncodeResult(Str),
    Snapshot([Str; 6], i64),
    SnapshotResult(Str),
    ScanPorn([Str; 3]),
    ScanAdvertising([Str; 3]),
    ScanFeedback(Str),
    ResourceId([Str; 3]),
    TransferFile([Str; 6], PathArg, Upload),
    TransferContent([Str; 6], Bytes, Upload),
    TransferStream([Str; 6], Stream, Upload),
    /// ns, dir, name, options; the local path.
    DownloadFile([Str; 4], PathArg, Upload),
    /// ns, remote_dir, options; the local folder.
    DownloadDir([Str; 3], PathArg, Upload),
    /// policy, remote_dir, options; the local folder.
    UploadDir([Str; 3], PathArg, Upload),
    /// policy, jobs, options.
    TransferBatch([Str; 3], Upload),
    LastError,
    Version,
}

/// The uploader's callbacks and cancel handle.
#[derive(Arbitrary, Debug)]
struct Upload {
    progress: Progress,
    cancel: CancelArg,
}

const POLICY: &str = r#"{"namespace":"fuzz","expiration":-1}"#;
const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("wantu-fuzz-c-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("small.txt"), b"hello").unwrap();
        dir
    })
}

/// Answers every request at once with a 404, so management calls (some of
/// which retry transient failures) end without waiting.
fn responder() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = answer_404(stream);
        }
    });
    format!("http://{addr}")
}

fn answer_404(mut s: std::net::TcpStream) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 << 10 {
        if s.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    std::io::copy(&mut (&mut s).take(length), &mut std::io::sink())?;
    let body = r#"{"code":"FileNotExist","message":"fuzz responder","requestId":"fuzz"}"#;
    write!(
        s,
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

struct Shared(*mut wantu_client);
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

/// One client for the whole run: uploads to a closed port, management to
/// the responder, short timeouts.
fn client() -> *const wantu_client {
    static CLIENT: OnceLock<Shared> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let up = CString::new("http://127.0.0.1:1").unwrap();
            let manage = CString::new(responder()).unwrap();
            let opts = CString::new(
                r#"{"connect_timeout_ms":200,"request_timeout_ms":3000,"read_timeout_ms":3000}"#,
            )
            .unwrap();
            let (ak, sk) = (
                CString::new("fuzz-ak").unwrap(),
                CString::new("fuzz-sk").unwrap(),
            );
            let c = unsafe {
                wantu_client_new_with_options(
                    ak.as_ptr(),
                    sk.as_ptr(),
                    null(),
                    up.as_ptr(),
                    manage.as_ptr(),
                    opts.as_ptr(),
                )
            };
            assert!(!c.is_null());
            Shared(c)
        })
        .0
}

/// Checks the result contract and frees the result.
fn check(result: *mut c_char) {
    assert!(!result.is_null(), "a call answered NULL");
    let text = unsafe { CStr::from_ptr(result) }
        .to_str()
        .expect("results are UTF-8")
        .to_owned();
    unsafe { wantu_string_free(result) };
    let v: serde_json::Value = serde_json::from_str(&text).expect("results are JSON");
    let code = v["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer code: {text}"));
    assert!(v["message"].is_string(), "no message: {text}");
    assert!(v["request_id"].is_string(), "no request_id: {text}");
    if code == 0 {
        assert!(
            v["error"].as_str().is_some_and(|e| !e.is_empty()),
            "no error name: {text}"
        );
        assert_ne!(v["error"], "Internal", "an internal error: {text}");
    }
}

/// Options for the uploader that cannot make a call wait: a usable value
/// keeps its choices but gets one attempt and a checkpoint in the scratch
/// directory; anything else goes as it is, to be refused.
fn safe_options(s: &Str, up: &Upload) -> Option<CString> {
    let Some(c) = s.c(r#"{"concurrency":2,"max_attempts":1}"#) else {
        return one_attempt_unless_cancelled(up);
    };
    let Ok(text) = c.to_str() else { return Some(c) };
    let Ok(o) = TransferOptions::from_json(Some(text)) else {
        return Some(c);
    };
    let mut v = serde_json::json!({
        "concurrency": o.concurrency,
        "integrity": o.integrity,
        "max_attempts": 1,
        "retry_budget_ms": o.retry_budget_ms,
        "backoff_base_ms": o.backoff_base_ms,
        "backoff_max_ms": o.backoff_max_ms,
    });
    if let Some(ps) = o.part_size {
        v["part_size"] = ps.into();
    }
    if let Some(t) = o.multipart_threshold {
        v["multipart_threshold"] = t.into();
    }
    if o.checkpoint_path.is_some() {
        v["checkpoint_path"] = scratch().join("checkpoint").to_str().unwrap().into();
    }
    Some(CString::new(v.to_string()).unwrap())
}

/// NULL options (the defaults: 10 attempts, backoff up to 10 s) when the
/// call is cancelled before it starts, else one attempt.
fn one_attempt_unless_cancelled(up: &Upload) -> Option<CString> {
    match up.cancel {
        CancelArg::Triggered => None,
        _ => Some(CString::new(r#"{"max_attempts":1}"#).unwrap()),
    }
}

/// Options of the many-files and download calls: a JSON object gets
/// `max_attempts` 1 (any other value is kept, to be refused or used);
/// NULL as `safe_options`.
fn capped_options(s: &Str, up: &Upload, good: &str) -> Option<CString> {
    let Some(c) = s.c(good) else {
        return one_attempt_unless_cancelled(up);
    };
    let Ok(text) = c.to_str() else { return Some(c) };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(mut o)) => {
            o.insert("max_attempts".into(), 1.into());
            Some(CString::new(serde_json::Value::Object(o).to_string()).unwrap())
        }
        _ => Some(c),
    }
}

struct ProgressState {
    cfg: Progress,
    cancel: *const wantu_cancel,
}

unsafe extern "C" fn on_progress(sent: u64, total: u64, user: *mut c_void) -> c_int {
    let st = &*(user as *const ProgressState);
    assert!(
        total == WANTU_SIZE_UNKNOWN || sent <= total,
        "sent {sent} of {total}"
    );
    if st.cfg.trigger_cancel {
        wantu_cancel_trigger(st.cancel);
    }
    if st.cfg.reenter {
        let p = CString::new(POLICY).unwrap();
        let r = wantu_upload_token(client(), p.as_ptr());
        let text = CStr::from_ptr(r).to_string_lossy().into_owned();
        wantu_string_free(r);
        assert!(
            text.contains("InvalidArgument"),
            "re-entry was not refused: {text}"
        );
    }
    st.cfg.answer
}

struct ReadState<'a> {
    s: &'a Stream,
    pos: usize,
}

unsafe extern "C" fn on_read(buf: *mut u8, cap: usize, user: *mut c_void) -> isize {
    let st = &mut *(user as *mut ReadState);
    if st.s.fail_after.is_some_and(|n| st.pos >= n as usize) {
        return -1;
    }
    let n = (st.s.data.len() - st.pos).min(cap);
    std::ptr::copy_nonoverlapping(st.s.data.as_ptr().add(st.pos), buf, n);
    st.pos += n;
    if st.s.overclaim && n > 0 {
        return cap as isize + 1;
    }
    n as isize
}

/// Runs an uploader call with a cancel handle and callbacks as chosen.
fn with_callbacks(
    up: &Upload,
    call: impl FnOnce(wantu_progress_fn, *mut c_void, *const wantu_cancel) -> *mut c_char,
) {
    let handle = match up.cancel {
        CancelArg::None => null_mut(),
        CancelArg::Fresh | CancelArg::Triggered => wantu_cancel_new(),
    };
    unsafe {
        if matches!(up.cancel, CancelArg::Triggered) {
            wantu_cancel_trigger(handle);
            assert_eq!(wantu_cancel_is_triggered(handle), 1);
        }
        let mut st = ProgressState {
            cfg: up.progress,
            cancel: handle,
        };
        let cb: wantu_progress_fn = up.progress.present.then_some(on_progress as _);
        let user = &mut st as *mut ProgressState as *mut c_void;
        check(call(cb, user, handle));
        wantu_cancel_free(handle);
    }
}

fn cs<const N: usize>(s: &[Str; N], good: [&str; N]) -> [Option<CString>; N] {
    std::array::from_fn(|i| s[i].c(good[i]))
}

fn ps<const N: usize>(a: &[Option<CString>; N]) -> [*const c_char; N] {
    std::array::from_fn(|i| ptr(&a[i]))
}

const META: &str = r#"{"k":"v"}"#;
const VAR: &str = r#"{"x":1}"#;
const FILE: [&str; 3] = ["fuzz", "/d", "n.txt"];
/// policy, dir, name, md5, meta, var
const UPLOAD: [&str; 6] = [POLICY, "/d", "n.txt", MD5, META, VAR];
/// policy, dir, name, meta, var, options
const TRANSFER: [&str; 6] = [POLICY, "/d", "n.txt", META, VAR, ""];
const URL: &str = "http://127.0.0.1:1/x.jpg";
const URLS: &str = r#"["http://127.0.0.1:1/x.jpg"]"#;

type Manage3 = unsafe extern "C" fn(
    *const wantu_client,
    *const c_char,
    *const c_char,
    *const c_char,
) -> *mut c_char;
type Manage2 =
    unsafe extern "C" fn(*const wantu_client, *const c_char, *const c_char) -> *mut c_char;
type Manage1 = unsafe extern "C" fn(*const wantu_client, *const c_char) -> *mut c_char;
type Page = unsafe extern "C" fn(
    *const wantu_client,
    *const c_char,
    *const c_char,
    i64,
    i64,
) -> *mut c_char;
type All =
    unsafe extern "C" fn(*const wantu_client, *const c_char, *const c_char, i64) -> *mut c_char;

unsafe fn run(call: &Call) {
    let c = client();
    let three = |s: &[Str; 3], f: Manage3, good: [&str; 3]| {
        let a = cs(s, good);
        let p = ps(&a);
        check(f(c, p[0], p[1], p[2]));
    };
    let two = |s: &[Str; 2], f: Manage2| {
        let a = cs(s, ["fuzz", "/d"]);
        let p = ps(&a);
        check(f(c, p[0], p[1]));
    };
    let one = |s: &Str, f: Manage1, good: &str| {
        let a = s.c(good);
        check(f(c, ptr(&a)));
    };
    let page = |s: &[Str; 2], f: Page, page: i64, size: i64| {
        let a = cs(s, ["fuzz", "/d"]);
        let p = ps(&a);
        check(f(c, p[0], p[1], page, size));
    };
    let all = |s: &[Str; 2], f: All, max: i64| {
        let a = cs(s, ["fuzz", "/d"]);
        let p = ps(&a);
        check(f(c, p[0], p[1], max));
    };
    match call {
        Call::ClientNew(s) => {
            let up = "http://127.0.0.1:1";
            let opts = r#"{"connect_timeout_ms":100}"#;
            let a = cs(
                s,
                ["ak", "sk", "CLOUD", up, "http://[::1]:1/p/", opts, POLICY],
            );
            let p = ps(&a);
            let h = wantu_client_new_with_options(p[0], p[1], p[2], p[3], p[4], p[5]);
            if h.is_null() {
                let e = wantu_last_error();
                assert!(!e.is_null(), "a failed constructor leaves its reason");
                check(e);
            } else {
                assert!(wantu_last_error().is_null());
                check(wantu_upload_token(h, p[6]));
                wantu_client_free(h);
            }
        }
        Call::Token(s) => one(s, wantu_upload_token, POLICY),
        Call::UploadFile(s, path) => {
            let (a, f) = (cs(s, UPLOAD), path.c());
            let p = ps(&a);
            check(wantu_upload_file(
                c,
                p[0],
                p[1],
                p[2],
                ptr(&f),
                p[3],
                p[4],
                p[5],
            ));
        }
        Call::UploadContent(s, bytes) | Call::MultipartInit(s, bytes) => {
            let a = cs(s, UPLOAD);
            let p = ps(&a);
            let (b, n) = bytes.args();
            let f = match call {
                Call::UploadContent(..) => wantu_upload_content,
                _ => wantu_multipart_init,
            };
            check(f(c, p[0], p[1], p[2], b, n, p[3], p[4], p[5]));
        }
        Call::MultipartUpload(s, part, bytes) => {
            let a = cs(s, [POLICY, "id", "UPLOADID", MD5]);
            let p = ps(&a);
            let (b, n) = bytes.args();
            check(wantu_multipart_upload(
                c, p[0], p[1], p[2], *part, b, n, p[3],
            ));
        }
        Call::MultipartComplete(s) => {
            let parts = r#"[{"part_number":1,"e_tag":"E"}]"#;
            let a = cs(s, [POLICY, "id", "UPLOADID", parts, MD5]);
            let p = ps(&a);
            check(wantu_multipart_complete(c, p[0], p[1], p[2], p[3], p[4]));
        }
        Call::MultipartCancel(s) => three(s, wantu_multipart_cancel, [POLICY, "id", "UPLOADID"]),
        Call::FileExists(s) => three(s, wantu_file_exists, FILE),
        Call::FileGet(s) => three(s, wantu_file_get, FILE),
        Call::FileDelete(s) => three(s, wantu_file_delete, FILE),
        Call::FileRename(s) => {
            let a = cs(s, ["fuzz", "/d", "n.txt", "/e", "m.txt"]);
            let p = ps(&a);
            check(wantu_file_rename(c, p[0], p[1], p[2], p[3], p[4]));
        }
        Call::FileList(s, n, size) => page(s, wantu_file_list, *n, *size),
        Call::DirList(s, n, size) => page(s, wantu_dir_list, *n, *size),
        Call::FileListAll(s, max) => all(s, wantu_file_list_all, *max),
        Call::DirListAll(s, max) => all(s, wantu_dir_list_all, *max),
        Call::DirCreate(s) => two(s, wantu_dir_create),
        Call::DirExists(s) => two(s, wantu_dir_exists),
        Call::DirDelete(s) => two(s, wantu_dir_delete),
        Call::PtsAdd(s, force) => {
            let a = cs(s, ["fuzz", "/d", "n.mp4", "avthumb/mp4", URL]);
            let p = ps(&a);
            check(wantu_pts_add(c, p[0], p[1], p[2], p[3], p[4], *force));
        }
        Call::PtsGet(s) => one(s, wantu_pts_get, "task-1"),
        Call::MediaEncodeResult(s) => one(s, wantu_media_encode_result, "task-1"),
        Call::SnapshotResult(s) => one(s, wantu_snapshot_result, "task-1"),
        Call::MediaEncode(s) => {
            let a = cs(s, ["fuzz", "/d", "n.mp4", "/o", "o.mp4", "t", "{}"]);
            let p = ps(&a);
            check(wantu_media_encode(
                c, p[0], p[1], p[2], p[3], p[4], p[5], p[6],
            ));
        }
        Call::Snapshot(s, time) => {
            let a = cs(s, ["fuzz", "/d", "n.mp4", "/o", "o.jpg", URL]);
            let p = ps(&a);
            check(wantu_snapshot(c, p[0], p[1], p[2], p[3], p[4], *time, p[5]));
        }
        Call::ScanPorn(s) => three(s, wantu_scan_porn, ["fuzz", r#"["/d/n.jpg"]"#, URLS]),
        Call::ScanAdvertising(s) => three(s, wantu_scan_advertising, ["", "[]", URLS]),
        Call::ScanFeedback(s) => {
            let good = r#"[{"url":"http://127.0.0.1:1/x.jpg","label":0}]"#;
            one(s, wantu_scan_feedback, good)
        }
        Call::ResourceId(s) => {
            let a = cs(s, FILE);
            let p = ps(&a);
            check(wantu_resource_id(p[0], p[1], p[2]));
        }
        Call::TransferFile(s, path, up) => {
            let (a, f, o) = (cs(s, TRANSFER), path.c(), safe_options(&s[5], up));
            let p = ps(&a);
            with_callbacks(up, |cb, ud, h| {
                let (f, o) = (ptr(&f), ptr(&o));
                wantu_transfer_file(c, p[0], p[1], p[2], f, p[3], p[4], o, cb, ud, h)
            });
        }
        Call::TransferContent(s, bytes, up) => {
            let (a, o) = (cs(s, TRANSFER), safe_options(&s[5], up));
            let p = ps(&a);
            let (b, n) = bytes.args();
            with_callbacks(up, |cb, ud, h| {
                let o = ptr(&o);
                wantu_transfer_content(c, p[0], p[1], p[2], b, n, p[3], p[4], o, cb, ud, h)
            });
        }
        Call::TransferStream(s, stream, up) => {
            let (a, o) = (cs(s, TRANSFER), safe_options(&s[5], up));
            let p = ps(&a);
            let mut rs = ReadState { s: stream, pos: 0 };
            let read: wantu_read_fn = stream.present.then_some(on_read as _);
            let rd = &mut rs as *mut ReadState as *mut c_void;
            with_callbacks(up, |cb, ud, h| {
                let o = ptr(&o);
                wantu_transfer_stream(c, p[0], p[1], p[2], read, rd, p[3], p[4], o, cb, ud, h)
            });
        }
        Call::DownloadFile(s, path, up) => {
            let a = cs(s, ["fuzz", "/d", "n.txt", ""]);
            let (p, f) = (ps(&a), path.c());
            let o = capped_options(&s[3], up, r#"{"concurrency":2}"#);
            with_callbacks(up, |cb, ud, h| {
                let (f, o) = (ptr(&f), ptr(&o));
                wantu_download_file(c, p[0], p[1], p[2], f, o, cb, ud, h)
            });
        }
        Call::DownloadDir(s, path, up) => {
            let a = cs(s, ["fuzz", "/d", ""]);
            let (p, f) = (ps(&a), path.c());
            let o = capped_options(&s[2], up, r#"{"skip":"md5","dry_run":true}"#);
            with_callbacks(up, |cb, ud, h| {
                let (f, o) = (ptr(&f), ptr(&o));
                wantu_download_dir(c, p[0], p[1], f, o, cb, ud, h)
            });
        }
        Call::UploadDir(s, path, up) => {
            let a = cs(s, [POLICY, "/d", ""]);
            let (p, f) = (ps(&a), path.c());
            let o = capped_options(&s[2], up, r#"{"skip":"size","exclude":["*.tmp"]}"#);
            with_callbacks(up, |cb, ud, h| {
                let (f, o) = (ptr(&f), ptr(&o));
                wantu_upload_dir(c, p[0], f, p[1], o, cb, ud, h)
            });
        }
        Call::TransferBatch(s, up) => {
            let small = scratch().join("small.txt");
            let jobs = serde_json::json!([
                {"path": small.to_str().unwrap(), "dir": "/d"},
                {"content_base64": "aGVsbG8=", "name": "b.txt", "meta": {"k": "v"}},
            ])
            .to_string();
            let a = cs(s, [POLICY, &jobs, ""]);
            let p = ps(&a);
            let o = capped_options(&s[2], up, r#"{"concurrency":4}"#);
            with_callbacks(up, |cb, ud, h| {
                let o = ptr(&o);
                wantu_transfer_batch(c, p[0], p[1], o, cb, ud, h)
            });
        }
        Call::LastError => {
            let e = wantu_last_error();
            if !e.is_null() {
                check(e);
            }
        }
        Call::Version => {
            let v = CStr::from_ptr(wantu_version()).to_str().unwrap();
            assert_eq!(v, wantu::VERSION);
        }
    }
}

fuzz_target!(|calls: Vec<Call>| {
    for call in calls.iter().take(8) {
        // SAFETY: every pointer passed is NULL or owned here for the call.
        unsafe { run(call) };
    }
});
