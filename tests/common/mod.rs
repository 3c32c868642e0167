//! Shared harness for the Rust integration tests: an in-process wantu-server
//! on 127.0.0.1:0 with a fresh data directory, and a client pointed at it.
#![allow(dead_code)]

use serde_json::Value;
use wantu::policy::Policy;
use wantu::{Client, ClientConfig, ClientOptions};
use wantu_server::{Config, ServerHandle};

pub const AK: &str = "test-ak";
pub const SK: &str = "test-sk-0123456789abcdef";
pub const NS: &str = "testns";

pub struct TestEnv {
    server: Option<ServerHandle>,
    pub data: tempfile::TempDir,
    pub client: Client,
}

impl TestEnv {
    pub fn start() -> TestEnv {
        Self::start_with(ClientOptions::default())
    }

    pub fn start_with(options: ClientOptions) -> TestEnv {
        let data = tempfile::tempdir().expect("temp dir");
        let server = spawn(data.path());
        let client = client_for(&server.base_url(), options);
        TestEnv {
            server: Some(server),
            data,
            client,
        }
    }

    pub fn server(&self) -> &ServerHandle {
        self.server.as_ref().expect("server running")
    }

    pub fn base_url(&self) -> String {
        self.server().base_url()
    }

    /// A second client on the same server, e.g. with other options.
    pub fn client_with(&self, options: ClientOptions) -> Client {
        client_for(&self.base_url(), options)
    }

    /// Stops the server and starts a new one on the same data directory
    /// (the port changes, so clients must be rebuilt: `self.client` is).
    pub fn restart(&mut self) {
        self.server.take().expect("server running").stop();
        let server = spawn(self.data.path());
        self.client = client_for(&server.base_url(), ClientOptions::default());
        self.server = Some(server);
    }

    /// `{"namespace":NS,"expiration":-1}` plus the given fields.
    pub fn policy(&self, extra: Value) -> Policy {
        Policy::parse(&policy_json(extra)).expect("test policy")
    }

    /// Downloads a stored file through the server's `/files/...` delivery.
    pub fn download(&self, dir: &str, name: &str) -> Vec<u8> {
        let url = format!("{}/files/{NS}{}", self.base_url(), encode_path(dir, name));
        self.client
            .run(async {
                let r = self.client.http().get(&url).send().await.expect("download");
                assert_eq!(r.status().as_u16(), 200, "GET {url}");
                r.bytes().await.expect("download body").to_vec()
            })
            .expect("run")
    }
}

pub fn policy_json(extra: Value) -> String {
    let mut p = serde_json::json!({"namespace": NS, "expiration": -1});
    if let (Value::Object(base), Value::Object(more)) = (&mut p, extra) {
        base.extend(more);
    }
    p.to_string()
}

/// `/dir/name` with each segment percent-encoded, as the server's urls are.
pub fn encode_path(dir: &str, name: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let mut out = String::new();
    for seg in dir.split('/').filter(|s| !s.is_empty()).chain([name]) {
        out.push('/');
        out.extend(utf8_percent_encode(seg, NON_ALPHANUMERIC));
    }
    out
}

pub fn spawn(data: &std::path::Path) -> ServerHandle {
    let config = Config::new(data, vec![(AK.to_string(), SK.to_string())]);
    wantu_server::spawn(config).expect("wantu-server starts")
}

pub fn client_for(base_url: &str, options: ClientOptions) -> Client {
    let mut config = ClientConfig::new(AK, SK, None, Some(base_url), Some(base_url)).unwrap();
    config.options = options;
    Client::new(config).expect("client")
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn test_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn md5_hex(data: &[u8]) -> String {
    wantu::auth::md5_hex(data)
}

// ---- helpers for the FFI and wire-level tests ----

/// A C string for an FFI argument (panics on an interior NUL: test input).
pub fn cs(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s).expect("no NUL in test strings")
}

/// Parses the JSON document an FFI call returned, checks the result
/// contract (object, integer `code`, string `message` and `request_id`) and
/// frees the string with `wantu_string_free`.
///
/// # Safety
/// `ptr` is a string returned by a libwantu call, not yet freed.
pub unsafe fn take_json(ptr: *mut std::ffi::c_char) -> Value {
    assert!(!ptr.is_null(), "a libwantu call returned NULL");
    let text = std::ffi::CStr::from_ptr(ptr)
        .to_str()
        .expect("result is UTF-8")
        .to_string();
    wantu::ffi::client::wantu_string_free(ptr);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(v["code"].is_u64(), "integer code: {text}");
    assert!(v["message"].is_string(), "string message: {text}");
    assert!(v["request_id"].is_string(), "string request_id: {text}");
    v
}

/// Asserts an error result: `code`, `error` name, and a message containing `needle`.
#[track_caller]
pub fn assert_error(v: &Value, code: u64, error: &str, needle: &str) {
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["error"], error, "{v}");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(needle),
        "message should contain {needle:?}: {v}"
    );
}

/// Asserts that an error result from the core has this name, code and message part.
#[track_caller]
pub fn assert_err<T: std::fmt::Debug>(
    r: wantu::Result<T>,
    code: u16,
    name: &str,
    needle: &str,
) -> wantu::Error {
    let e = r.expect_err("an error");
    assert_eq!((e.code(), e.name()), (code, name), "{e}");
    assert!(
        e.message().contains(needle),
        "message should contain {needle:?}: {e}"
    );
    e
}

/// An endpoint where nothing listens: a port bound and then released.
pub fn refused_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// A policy whose expiration (Unix ms) passed long ago.
pub fn expired_policy_json() -> String {
    policy_json(serde_json::json!({"expiration": 1_000}))
}

/// Accepts one connection on a local port and records the request head it
/// receives, answering 200 with `body`. For checking headers a client sends
/// (wantu-server does not echo them). Returns the endpoint and the head.
pub fn capture_one_request(body: &'static str) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = conn.write_all(answer.as_bytes());
        let text = String::from_utf8_lossy(&head).into_owned();
        text.split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_string()
    });
    (endpoint, handle)
}
