//! Helpers for the server's integration tests: a plain HTTP client plus a
//! small signing implementation (independent of the root `wantu` crate).
#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha1::Sha1;
use wantu_server::{Config, ServerHandle};

pub const AK: &str = "12345678";
pub const SK: &str = "0123456789abcdef0123456789abcdef";
pub const AK2: &str = "other-ak";
pub const SK2: &str = "other-secret";

pub fn keys() -> Vec<(String, String)> {
    vec![(AK.into(), SK.into()), (AK2.into(), SK2.into())]
}

pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub handle: Option<ServerHandle>,
    pub base: String,
    pub client: reqwest::Client,
}

impl TestServer {
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// Starts with a configuration changed by `adjust` (limits, faults).
    pub fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path().join("data"), keys());
        adjust(&mut config);
        let handle = wantu_server::spawn(config).unwrap();
        TestServer {
            base: handle.base_url(),
            dir,
            handle: Some(handle),
            client: reqwest::Client::new(),
        }
    }

    pub fn handle(&self) -> &ServerHandle {
        self.handle.as_ref().unwrap()
    }

    /// Stops and starts again on the same data directory.
    pub fn restart(&mut self) {
        self.handle.take().unwrap().stop();
        let handle =
            wantu_server::spawn(Config::new(self.dir.path().join("data"), keys())).unwrap();
        self.base = handle.base_url();
        self.handle = Some(handle);
        // A fresh client: pooled connections to the old server are dead.
        self.client = reqwest::Client::new();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a multipart form to an upload-host path.
    pub async fn post_form(
        &self,
        path: &str,
        token: &str,
        fields: &[(&str, &str)],
        content: Option<&[u8]>,
    ) -> (StatusCode, Value) {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        if let Some(c) = content {
            let part = reqwest::multipart::Part::bytes(c.to_vec())
                .file_name("upload.bin")
                .mime_str("application/octet-stream")
                .unwrap();
            form = form.part("content", part);
        }
        let resp = self
            .client
            .post(self.url(path))
            .header("Authorization", token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        json_of(resp).await
    }

    pub async fn upload(
        &self,
        token: &str,
        fields: &[(&str, &str)],
        content: &[u8],
    ) -> (StatusCode, Value) {
        self.post_form("/api/proxy/upload", token, fields, Some(content))
            .await
    }

    /// A signed manage request with the given key.
    pub async fn manage_as(
        &self,
        ak: &str,
        sk: &str,
        method: Method,
        target: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        let date = now_ms().to_string();
        let mut req = self
            .client
            .request(method, self.url(target))
            .header("Authorization", manage_token(ak, sk, target, body, &date))
            .header("Date", date);
        if !body.is_empty() {
            req = req
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.to_string());
        }
        json_of(req.send().await.unwrap()).await
    }

    pub async fn manage(&self, method: Method, target: &str, body: &str) -> (StatusCode, Value) {
        self.manage_as(AK, SK, method, target, body).await
    }

    /// Downloads through /files/ (optionally with a Range header).
    pub async fn download(&self, url: &str, range: Option<&str>) -> (StatusCode, Vec<u8>) {
        let mut req = self.client.get(url);
        if let Some(r) = range {
            req = req.header("Range", r);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.bytes().await.unwrap().to_vec())
    }

    /// Every file under the data directory's parent (the temp dir).
    pub fn all_files(&self) -> Vec<std::path::PathBuf> {
        fn walk(p: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(p).unwrap().flatten() {
                let path = e.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out
    }

    /// Number of content objects stored.
    pub fn object_count(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("data/objects"))
            .unwrap()
            .count()
    }
}

pub async fn json_of(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hmac_hex(key: &str, msg: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(msg);
    hex::encode(mac.finalize().into_bytes())
}

/// An upload token over `policy_json` exactly as given.
pub fn token_with(ak: &str, sk: &str, scheme: &str, policy_json: &str) -> String {
    let encoded = b64u(policy_json.as_bytes());
    let sign = hmac_hex(sk, encoded.as_bytes());
    format!(
        "UPLOAD_AK_{scheme} {}",
        b64u(format!("{ak}:{encoded}:{sign}").as_bytes())
    )
}

/// A token for namespace `ns` with extra policy fields merged in.
pub fn token(ns: &str, extra: Value) -> String {
    let mut policy = json!({"namespace": ns, "expiration": -1});
    if let (Some(p), Some(e)) = (policy.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            p.insert(k.clone(), v.clone());
        }
    }
    token_with(AK, SK, "TOP", &policy.to_string())
}

pub fn manage_token(ak: &str, sk: &str, target: &str, body: &str, date: &str) -> String {
    let sign = hmac_hex(sk, format!("{target}\n{body}\n{date}").as_bytes());
    format!("ACL_TOP {}", b64u(format!("{ak}:{sign}").as_bytes()))
}

pub fn file_rid(ns: &str, dir: &str, name: &str) -> String {
    b64u(json!([ns, dir, name]).to_string().as_bytes())
}

pub fn folder_rid(ns: &str, dir: &str) -> String {
    b64u(json!([ns, dir]).to_string().as_bytes())
}

pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// Deterministic pseudo-random bytes.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

/// A multipart part size that every non-final part may have: the minimum.
pub const PART: usize = 102_400;

/// The ids of a multipart upload under way.
pub struct Upload {
    pub id: String,
    pub upload_id: String,
}

/// blockInit with part 1, asserting success.
pub async fn start(s: &TestServer, t: &str, name: &str, part1: &[u8]) -> Upload {
    let (st, v) = s
        .post_form("/api/proxy/blockInit", t, &[("name", name)], Some(part1))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    Upload {
        id: v["id"].as_str().unwrap().into(),
        upload_id: v["uploadId"].as_str().unwrap().into(),
    }
}

/// blockUpload of part `n`.
pub async fn part(s: &TestServer, t: &str, u: &Upload, n: u32, body: &[u8]) -> (StatusCode, Value) {
    let n = n.to_string();
    let fields = [
        ("id", u.id.as_str()),
        ("uploadId", u.upload_id.as_str()),
        ("partNumber", &n),
    ];
    s.post_form("/api/proxy/blockUpload", t, &fields, Some(body))
        .await
}

/// blockComplete with `parts` as given (any wire form) and an optional md5.
pub async fn complete(
    s: &TestServer,
    t: &str,
    u: &Upload,
    parts: &str,
    md5: Option<&str>,
) -> (StatusCode, Value) {
    let mut fields = vec![
        ("id", u.id.as_str()),
        ("uploadId", u.upload_id.as_str()),
        ("parts", parts),
    ];
    if let Some(m) = md5 {
        fields.push(("md5", m));
    }
    s.post_form("/api/proxy/blockComplete", t, &fields, None)
        .await
}

/// The wire `parts` for chunks uploaded as parts 1, 2, …: b64u of camelCase JSON.
pub fn parts_list(chunks: &[Vec<u8>]) -> String {
    let list: Vec<Value> = chunks
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"partNumber": i + 1, "eTag": md5_hex(c).to_uppercase()}))
        .collect();
    b64u(Value::Array(list).to_string().as_bytes())
}
