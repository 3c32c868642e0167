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
