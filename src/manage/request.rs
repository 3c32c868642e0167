//! Building, signing and sending manage-host requests (docs/protocol.md §2,
//! §6).
//!
//! `ManageRequest::sign` is a pure function of the request, the keys and the
//! `Date` value, so the manage-token known answer can be checked without a
//! clock or a network.

use crate::auth::{manage_token, KeyType};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::retry::{Retrier, RetryLimits};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::Method;
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

/// Everything but RFC 3986 unreserved characters is percent-encoded, so `+`,
/// `&`, `#`, `%`, `;`, spaces and non-ASCII survive any decoder unchanged.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one query value, body value or path segment.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, VALUE).to_string()
}

/// `k=v&k=v`, every key and value percent-encoded: the exact text that is
/// both signed and sent (a query string or an urlencoded body).
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// One manage-host request before signing.
#[derive(Debug, Clone)]
pub struct ManageRequest {
    pub method: Method,
    /// The path below the endpoint, already encoded (`/3.0/files/{rid}`).
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Form fields of a POST body, in order; repeated keys allowed.
    pub body: Vec<(String, String)>,
    /// Names the operation in error messages.
    pub what: &'static str,
}

/// The parts of a signed request, exactly as they go on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// Path plus `?query` below the endpoint (what is appended to its URL).
    pub path_with_query: String,
    /// The request target that was signed: the endpoint's path prefix (if
    /// any) followed by `path_with_query`.
    pub target: String,
    /// The urlencoded body ("" when there is none).
    pub body: String,
    /// The `Date` header.
    pub date: String,
    /// The `Authorization` header.
    pub authorization: String,
}

impl ManageRequest {
    pub fn new(method: Method, path: String, what: &'static str) -> Self {
        ManageRequest {
            method,
            path,
            query: Vec::new(),
            body: Vec::new(),
            what,
        }
    }

    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    pub fn field(mut self, key: &str, value: impl Into<String>) -> Self {
        self.body.push((key.to_string(), value.into()));
        self
    }

    /// Signs the request. `prefix` is the manage endpoint's path prefix
    /// ("" for a bare host): it is part of the request target as sent, so it
    /// is signed too. `date` is the exact `Date` header value.
    pub fn sign(
        &self,
        ak: &str,
        sk: &str,
        key_type: KeyType,
        prefix: &str,
        date: &str,
    ) -> SignedRequest {
        let mut path_with_query = self.path.clone();
        if !self.query.is_empty() {
            path_with_query.push('?');
            path_with_query.push_str(&encode_pairs(&self.query));
        }
        let target = format!("{prefix}{path_with_query}");
        let body = encode_pairs(&self.body);
        let authorization = manage_token(ak, sk, key_type, &target, &body, date);
        SignedRequest {
            path_with_query,
            target,
            body,
            date: date.to_string(),
            authorization,
        }
    }
}

/// The `Date` header: a 13-digit millisecond epoch, as the PHP SDK sends.
pub fn date_now() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
        .to_string()
}

/// The path part of an endpoint base URL, without a trailing `/`.
fn endpoint_prefix(endpoint: &str) -> String {
    reqwest::Url::parse(endpoint)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// How a manage request is retried. A GET may be repeated: reading twice
/// changes nothing, so a transient failure (connection trouble, 429, 5xx
/// other than 501) gets up to three attempts. Other methods are sent once:
/// a repeated create or delete whose first answer was lost would report a
/// misleading 409 or 404.
fn retry_limits(method: &Method) -> RetryLimits {
    RetryLimits {
        max_attempts: if *method == Method::GET { 3 } else { 1 },
        base_ms: 200,
        max_ms: 2_000,
        budget_ms: 10_000,
    }
}

impl Client {
    /// Signs (with a fresh `Date` per attempt) and sends a manage request,
    /// answering the shaped result JSON.
    pub async fn manage(&self, request: ManageRequest) -> Result<Value> {
        let config = self.config();
        let prefix = endpoint_prefix(&config.manage_endpoint);
        let retrier = Retrier::new(retry_limits(&request.method));
        retrier
            .run(
                request.what,
                |_| false,
                |_attempt| {
                    let signed = request.sign(
                        &config.access_key,
                        &config.secret_key,
                        config.key_type,
                        &prefix,
                        &date_now(),
                    );
                    let mut builder = self
                        .http()
                        .request(
                            request.method.clone(),
                            self.manage_url(&signed.path_with_query),
                        )
                        .header(reqwest::header::AUTHORIZATION, &signed.authorization)
                        .header(reqwest::header::DATE, &signed.date);
                    if request.method == Method::POST {
                        // Stated even when 0 (createDir, rename…): the HTTP
                        // stack omits it for an empty body, and strict
                        // front ends answer a POST without it with 411.
                        builder = builder
                            .header(
                                reqwest::header::CONTENT_TYPE,
                                "application/x-www-form-urlencoded",
                            )
                            .header(reqwest::header::CONTENT_LENGTH, signed.body.len())
                            .body(signed.body);
                    }
                    self.send(builder, request.what)
                },
            )
            .await
    }
}

/// Normalises a folder the way the service stores it: a leading `/` is
/// added, runs of `/` collapse and a trailing `/` is dropped, so `"test"`,
/// `"/test/"` and `"//test"` all name `/test`; `""` and `"/"` are the root.
/// The resource id must carry this exact form, or it would name a folder
/// other than the one the user meant.
pub fn normalize_dir(dir: &str) -> String {
    let mut out = String::with_capacity(dir.len() + 1);
    for seg in dir.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

pub fn check_namespace(ns: &str) -> Result<()> {
    if ns.trim().is_empty() {
        return Err(Error::invalid(
            "`ns` (the namespace) is empty; pass the name of your media space",
        ));
    }
    Ok(())
}

/// A file name: not empty and free of `/` (folders belong in `dir`).
pub fn check_name(arg: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(format!(
            "`{arg}` is empty; pass a file name"
        )));
    }
    if name.contains('/') {
        return Err(Error::invalid(format!(
            "`{arg}` {name:?} contains '/'; put folders in the dir argument"
        )));
    }
    Ok(())
}

/// An id the service handed out (a task or persistent id), used as one path
/// segment. `.` and `..` would be resolved away by URL parsing.
pub fn id_segment(arg: &str, id: &str) -> Result<String> {
    let id = id.trim();
    if id.is_empty() || id == "." || id == ".." {
        return Err(Error::invalid(format!(
            "`{arg}` {id:?} is not an id; pass the id the service answered"
        )));
    }
    Ok(encode(id))
}

/// `page` ≥ 1 and `page_size` 1…100, as docs/protocol.md §6 allows.
pub fn check_page(page: i64, page_size: i64) -> Result<()> {
    if page < 1 {
        return Err(Error::invalid(format!(
            "`page` must be 1 or more (pages count from 1), not {page}"
        )));
    }
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(Error::invalid(format!(
            "`page_size` must be from 1 to {MAX_PAGE_SIZE}, not {page_size}"
        )));
    }
    Ok(())
}

/// The largest page the service answers (C: `WANTU_MAX_PAGE_SIZE`).
pub(crate) const MAX_PAGE_SIZE: i64 = 100;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::file_resource_id;

    const AK: &str = "12345678";
    const SK: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn signed_request_matches_the_known_answer() {
        let rid = file_resource_id("demo", &normalize_dir("/test"), "test.jpg");
        let req = ManageRequest::new(Method::GET, format!("/3.0/files/{rid}/exist"), "t");
        let signed = req.sign(AK, SK, KeyType::Top, "", "1437535493816");
        assert_eq!(
            signed.target,
            "/3.0/files/WyJkZW1vIiwiL3Rlc3QiLCJ0ZXN0LmpwZyJd/exist"
        );
        assert_eq!(signed.body, "");
        assert_eq!(signed.date, "1437535493816");
        assert_eq!(
            signed.authorization,
            "ACL_TOP MTIzNDU2Nzg6YTAwY2YyNzY4NTA4MGFlZDU0MzAxMjQ1NTA0ZmM5YzY3Y2Y4NWQ5OA"
        );
    }

    #[test]
    fn query_and_body_are_encoded_and_signed_as_sent() {
        let req = ManageRequest::new(Method::POST, "/3.0/files".into(), "t")
            .query("dir", "/a b+c&d#e%f?é😀")
            .query("pageSize", "10")
            .field("k", "x=y;z");
        let signed = req.sign(AK, SK, KeyType::Cloud, "/base", "1");
        assert_eq!(
            signed.path_with_query,
            "/3.0/files?dir=%2Fa%20b%2Bc%26d%23e%25f%3F%C3%A9%F0%9F%98%80&pageSize=10"
        );
        assert_eq!(signed.target, format!("/base{}", signed.path_with_query));
        assert_eq!(signed.body, "k=x%3Dy%3Bz");
        let expect = manage_token(AK, SK, KeyType::Cloud, &signed.target, &signed.body, "1");
        assert_eq!(signed.authorization, expect);
        assert!(signed.authorization.starts_with("ACL_CLOUD "));
    }

    #[test]
    fn dirs_normalise() {
        for (given, want) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("test", "/test"),
            ("/test/", "/test"),
            ("//a//b/", "/a/b"),
            ("/a b/ü", "/a b/ü"),
        ] {
            assert_eq!(normalize_dir(given), want, "{given:?}");
        }
    }

    #[test]
    fn arguments_are_checked() {
        assert!(check_page(1, 1).is_ok());
        assert!(check_page(7, 100).is_ok());
        for (p, s, arg) in [
            (0, 10, "`page`"),
            (-1, 10, "`page`"),
            (1, 0, "`page_size`"),
            (1, 101, "`page_size`"),
        ] {
            let e = check_page(p, s).unwrap_err();
            assert_eq!(e.name(), "InvalidArgument");
            assert!(e.message().contains(arg), "{e}");
        }
        assert!(check_name("name", "").is_err());
        assert!(check_name("name", "a/b").is_err());
        assert!(check_name("name", "a b+%&?#é😀").is_ok());
        assert!(check_namespace(" ").is_err());
        assert!(id_segment("task_id", "..").is_err());
        assert_eq!(id_segment("task_id", "a b/c").unwrap(), "a%20b%2Fc");
    }

    #[test]
    fn date_is_a_13_digit_millisecond_epoch() {
        let d = date_now();
        assert_eq!(d.len(), 13, "{d}");
        assert!(d.bytes().all(|b| b.is_ascii_digit()), "{d}");
    }

    #[test]
    fn c_page_size_limit_matches() {
        assert_eq!(crate::ffi::manage::WANTU_MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    }

    #[test]
    fn endpoint_prefixes() {
        assert_eq!(endpoint_prefix("http://h:1"), "");
        assert_eq!(endpoint_prefix("http://h:1/base"), "/base");
        assert_eq!(endpoint_prefix("http://h:1/a/b/"), "/a/b");
    }
}
