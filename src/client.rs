//! The client: keys, endpoints, one tokio runtime and one pooled HTTP client.
//!
//! A `Client` is `Send + Sync`; any number of threads may call it at once.
//! Blocking entry points run their future on the client's own runtime.

use crate::auth::KeyType;
use crate::error::{Error, Result};
use crate::rate::RateLimit;
use crate::result;
use serde::Deserialize;
use serde_json::Value;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const DEFAULT_UPLOAD_ENDPOINT: &str = "http://upload.media.aliyun.com";
pub const DEFAULT_MANAGE_ENDPOINT: &str = "http://rs.media.aliyun.com";
/// Threads of the runtime's blocking pool (file reads and MD5s), shared by
/// every call of a client. Tokio's default is 512: a folder upload with 64
/// files in progress grew ~100 threads, each with its own malloc arena and
/// stack, and 75 MiB of RSS for 10,000 small files. Hashing on more
/// threads than cores gains nothing; 6 still overlaps reads from a slow
/// disk, and with the 2 workers keeps a client at 8 threads, what a Node
/// or Python host can afford to add to its own.
pub const BLOCKING_THREADS: usize = 6;

/// Options beyond the five constructor arguments of the service's Python
/// SDK, given as a JSON
/// object whose keys are these field names. Unknown keys are refused so a
/// typo does not silently fall back to a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientOptions {
    /// Time allowed to establish a TCP/TLS connection.
    pub connect_timeout_ms: u64,
    /// Time allowed for a whole request; 0 means no limit (large uploads).
    pub request_timeout_ms: u64,
    /// Longest silence allowed while waiting for the server; 0 means no limit.
    pub read_timeout_ms: u64,
    /// A PEM file of extra CA certificates, trusted besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// A proxy URL for every request (`http://host:port`, `socks5://…` is not
    /// built in). Without it no proxy is used, whatever the environment says,
    /// so behaviour does not change with the caller's shell.
    pub proxy: Option<String>,
    /// Replaces the default `ALIMEDIASDK_C_TAE/<version>` User-Agent.
    pub user_agent: Option<String>,
    /// One bandwidth budget, in bytes per second, shared by every upload
    /// and download of this client, both directions together. Without it
    /// (or `null`) there is no limit; 0 is refused.
    pub limit_rate_bytes_per_sec: Option<u64>,
    /// Non-blocking operations of this client whose requests run at once
    /// (1…4096, default 128); the others wait their turn without a thread,
    /// a connection or a descriptor.
    pub max_running_operations: usize,
}

/// The largest `max_running_operations` accepted.
pub const MAX_RUNNING_OPERATIONS_LIMIT: usize = 4096;

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout_ms: 10_000,
            request_timeout_ms: 0,
            read_timeout_ms: 120_000,
            ca_file: None,
            proxy: None,
            user_agent: None,
            limit_rate_bytes_per_sec: None,
            max_running_operations: 128,
        }
    }
}

impl ClientOptions {
    /// Parses the options JSON; `None`, `""` or `null` give the defaults.
    pub fn from_json(text: Option<&str>) -> Result<ClientOptions> {
        let options: ClientOptions =
            crate::options_json::parse(text, r#"{"connect_timeout_ms":5000}"#)?;
        if !(1..=MAX_RUNNING_OPERATIONS_LIMIT).contains(&options.max_running_operations) {
            return Err(Error::invalid(format!(
                "option `max_running_operations` must be 1…{MAX_RUNNING_OPERATIONS_LIMIT}, \
                 not {}",
                options.max_running_operations
            )));
        }
        Ok(options)
    }
}

/// Everything needed to build a client.
#[derive(Clone)]
pub struct ClientConfig {
    pub access_key: String,
    pub secret_key: String,
    pub key_type: KeyType,
    pub upload_endpoint: String,
    pub manage_endpoint: String,
    pub options: ClientOptions,
}

// Never print the secret key, not even in debug output.
impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("access_key", &self.access_key)
            .field("key_type", &self.key_type)
            .field("upload_endpoint", &self.upload_endpoint)
            .field("manage_endpoint", &self.manage_endpoint)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// The constructor arguments of the service's Python SDK; `None`
    /// endpoints mean the defaults.
    pub fn new(
        ak: &str,
        sk: &str,
        key_type: Option<&str>,
        upload_endpoint: Option<&str>,
        manage_endpoint: Option<&str>,
    ) -> Result<ClientConfig> {
        if ak.trim().is_empty() {
            return Err(Error::invalid("`ak` (access key) is empty"));
        }
        if sk.is_empty() {
            return Err(Error::invalid("`sk` (secret key) is empty"));
        }
        let key_type = KeyType::parse(key_type).ok_or_else(|| {
            Error::invalid(format!(
                "`type` must be \"TOP\" or \"CLOUD\", not {:?}",
                key_type.unwrap_or_default()
            ))
        })?;
        Ok(ClientConfig {
            access_key: ak.to_string(),
            secret_key: sk.to_string(),
            key_type,
            upload_endpoint: endpoint("upload_endpoint", upload_endpoint, DEFAULT_UPLOAD_ENDPOINT)?,
            manage_endpoint: endpoint("manage_endpoint", manage_endpoint, DEFAULT_MANAGE_ENDPOINT)?,
            options: ClientOptions::default(),
        })
    }
}

/// Checks an endpoint base URL and drops its trailing slashes so paths join.
fn endpoint(arg: &str, given: Option<&str>, default: &str) -> Result<String> {
    let text = match given.map(str::trim) {
        None | Some("") => return Ok(default.to_string()),
        Some(t) => t,
    };
    let url = reqwest::Url::parse(text)
        .map_err(|e| Error::invalid(format!("`{arg}` {text:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::invalid(format!(
            "`{arg}` {text:?} must be an http:// or https:// URL with a host"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid(format!(
            "`{arg}` {text:?} must not carry a query or fragment"
        )));
    }
    Ok(text.trim_end_matches('/').to_string())
}

pub struct Client {
    config: ClientConfig,
    user_agent: String,
    http: reqwest::Client,
    /// The `limit_rate_bytes_per_sec` budget, shared by every transfer.
    rate: Option<Arc<RateLimit>>,
    // An Option so Drop can shut it down in the way its context allows.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client> {
        crate::log::init();
        let opts = &config.options;
        let user_agent = opts.user_agent.clone().unwrap_or_else(|| {
            let flavour = match config.key_type {
                KeyType::Top => "TAE",
                KeyType::Cloud => "CLOUD",
            };
            format!("ALIMEDIASDK_C_{flavour}/{}", crate::VERSION)
        });
        // Checked here so that the caller hears which option is wrong, not
        // that the HTTP client could not be built.
        if reqwest::header::HeaderValue::from_str(&user_agent).is_err() {
            return Err(Error::invalid(format!(
                "option `user_agent` {user_agent:?} is not a valid HTTP header value \
                 (control characters are not allowed)"
            )));
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent.clone())
            .connect_timeout(Duration::from_millis(opts.connect_timeout_ms.max(1)))
            // A 303 from `returnUrl` is an answer to report, not to follow.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .use_rustls_tls()
            .https_only(false);
        if opts.request_timeout_ms > 0 {
            builder = builder.timeout(Duration::from_millis(opts.request_timeout_ms));
        }
        if opts.read_timeout_ms > 0 {
            builder = builder.read_timeout(Duration::from_millis(opts.read_timeout_ms));
        }
        if let Some(path) = &opts.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| Error::Io(format!("cannot read CA file {}: {e}", path.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                Error::invalid(format!(
                    "CA file {} is not PEM certificates: {e}",
                    path.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(Error::invalid(format!(
                    "CA file {} holds no certificate",
                    path.display()
                )));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let Some(proxy) = &opts.proxy {
            let proxy = reqwest::Proxy::all(proxy)
                .map_err(|e| Error::invalid(format!("proxy {proxy:?} is not usable: {e}")))?;
            builder = builder.proxy(proxy);
        }
        let rate = match opts.limit_rate_bytes_per_sec {
            Some(n) => Some(Arc::new(RateLimit::new(n)?)),
            None => None,
        };
        let http = builder
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(BLOCKING_THREADS)
            .thread_name("wantu-worker")
            .on_thread_start(block_sigpipe)
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the I/O runtime: {e}")))?;
        Ok(Client {
            config,
            user_agent,
            http,
            rate,
            runtime: Some(runtime),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The bandwidth budget every transfer of this client takes from.
    pub fn rate_limit(&self) -> Option<&Arc<RateLimit>> {
        self.rate.as_ref()
    }

    /// The runtime's handle, for engines that spawn tasks.
    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime
            .as_ref()
            .expect("the runtime lives until drop")
            .handle()
    }

    /// Runs a future to completion on the client's runtime, from a plain
    /// (non-async) thread. From inside an async context — such as one of our
    /// own worker threads — it answers an error instead of deadlocking.
    pub fn run<F: Future>(&self, fut: F) -> Result<F::Output> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::Internal(
                "a blocking libwantu call was made from inside an async runtime; \
                 call it from an ordinary thread"
                    .into(),
            ));
        }
        Ok(self
            .runtime
            .as_ref()
            .expect("the runtime lives until drop")
            .block_on(fut))
    }

    pub fn upload_url(&self, path: &str) -> String {
        format!("{}{path}", self.config.upload_endpoint)
    }

    pub fn manage_url(&self, path_with_query: &str) -> String {
        format!("{}{path_with_query}", self.config.manage_endpoint)
    }

    /// Sends a request and shapes its answer: 200 → success JSON; other
    /// statuses → `Error::Server`. `what` names the operation in messages.
    pub async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Value> {
        let request = request.build().map_err(|e| Error::from_http(e, what))?;
        let method = request.method().clone();
        let url = request.url().clone();
        let sent = crate::log::body_size(&request);
        let started = Instant::now();
        let line = crate::log::RequestLine::new(method.as_str(), &url, sent, started);
        let outcome = self.http.execute(request).await;
        let response = match outcome {
            Ok(r) => r,
            Err(e) => {
                let err = Error::from_http(e, what);
                crate::log::request(&line, Err(err.name()), 0);
                return Err(err);
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let location = header(reqwest::header::LOCATION.as_str());
        // Answers whose body has no `requestId` (the manage host's `{}` or
        // `{"exist":true}`) still carry the id in a header.
        let header_id = header("x-request-id").unwrap_or_default();
        let body = response.bytes().await.map_err(|e| {
            let err = Error::from_http(e, what);
            crate::log::request(&line, Err(err.name()), 0);
            err
        })?;
        crate::log::request(&line, Ok(status), body.len() as u64);
        with_request_id(answer(status, location.as_deref(), &body, what), &header_id)
    }
}

/// Fills an empty `request_id` from the response header, so every result
/// that had a server answer can be correlated with the server's log.
fn with_request_id(outcome: Result<Value>, header_id: &str) -> Result<Value> {
    if header_id.is_empty() {
        return outcome;
    }
    match outcome {
        Ok(mut v) => {
            if v.get("request_id").and_then(Value::as_str) == Some("") {
                v["request_id"] = Value::from(header_id);
            }
            Ok(v)
        }
        Err(Error::Server {
            status,
            code,
            message,
            request_id,
        }) if request_id.is_empty() => Err(Error::Server {
            status,
            code,
            message,
            request_id: header_id.to_string(),
        }),
        other => other,
    }
}

/// Interprets one HTTP answer (docs/protocol.md §5).
pub fn answer(status: u16, location: Option<&str>, body: &[u8], what: &str) -> Result<Value> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    match status {
        200 => Ok(result::success(json.unwrap_or_else(|| {
            Value::String(String::from_utf8_lossy(body).into_owned())
        }))),
        303 => return_url_answer(location, what),
        _ => {
            let field = |k: &str| {
                json.as_ref()
                    .and_then(|j| j.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            match field("code") {
                Some(code) => Err(Error::Server {
                    status,
                    message: field("message").unwrap_or_else(|| code.clone()),
                    code,
                    request_id: field("requestId").unwrap_or_default(),
                }),
                None => {
                    let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
                    Err(Error::Server {
                        status,
                        code: "HttpError".into(),
                        message: format!("{what}: the server answered HTTP {status}: {text}"),
                        request_id: String::new(),
                    })
                }
            }
        }
    }
}

/// A policy's `returnUrl` makes the server answer 303 to
/// `returnUrl?upload_ret=<b64u(result)>`; the result travels in the URL.
fn return_url_answer(location: Option<&str>, what: &str) -> Result<Value> {
    let location = location.ok_or_else(|| {
        Error::InvalidResponse(format!("{what}: HTTP 303 without a Location header"))
    })?;
    let encoded = reqwest::Url::parse(location)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "upload_ret")
                .map(|(_, v)| v.into_owned())
        })
        .ok_or_else(|| {
            Error::InvalidResponse(format!("{what}: HTTP 303 to {location} without upload_ret"))
        })?;
    let inner: Value = crate::auth::b64_decode_lenient(&encoded)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| Error::InvalidResponse(format!("{what}: upload_ret is not Base64 JSON")))?;
    let mut out = result::success(inner);
    out["location"] = Value::from(location);
    Ok(out)
}

/// Blocks SIGPIPE on the calling thread. hyper writes request bodies with
/// writev, which, unlike send(MSG_NOSIGNAL), raises SIGPIPE when the peer
/// has hung up; a Rust program ignores the signal, but a C, Python or Node
/// host keeps its default action and would be killed by a server that
/// closes a connection early. Blocked on the library's own threads, the
/// write just fails with EPIPE and becomes an error answer.
pub(crate) fn block_sigpipe() {
    #[cfg(unix)]
    // SAFETY: plain signal-mask calls on a local, initialised set.
    unsafe {
        let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), std::ptr::null_mut());
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                rt.shutdown_background();
            } else {
                rt.shutdown_timeout(Duration::from_secs(2));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_checks_arguments() {
        assert!(ClientConfig::new("ak", "sk", None, None, None).is_ok());
        for (ak, sk, ty, up, needle) in [
            ("", "sk", None, None, "`ak`"),
            ("ak", "", None, None, "`sk`"),
            ("ak", "sk", Some("OSS"), None, "`type`"),
            ("ak", "sk", None, Some("ftp://x"), "`upload_endpoint`"),
            ("ak", "sk", None, Some("not a url"), "`upload_endpoint`"),
        ] {
            let err = ClientConfig::new(ak, sk, ty, up, None).unwrap_err();
            assert!(err.message().contains(needle), "{err}");
        }
    }

    #[test]
    fn endpoint_keeps_prefix_without_trailing_slash() {
        let c = ClientConfig::new("a", "s", None, Some("http://h:1/base/"), None).unwrap();
        assert_eq!(c.upload_endpoint, "http://h:1/base");
        assert_eq!(c.manage_endpoint, DEFAULT_MANAGE_ENDPOINT);
    }

    #[test]
    fn options_refuse_unknown_keys() {
        assert!(ClientOptions::from_json(Some(r#"{"timeout":1}"#)).is_err());
        let o = ClientOptions::from_json(Some(r#"{"connect_timeout_ms":5}"#)).unwrap();
        assert_eq!(o.connect_timeout_ms, 5);
    }

    #[test]
    fn unusable_user_agent_is_an_invalid_argument() {
        // A User-Agent that is no HTTP header value ("\n", DEL) used to fail
        // as `Internal` ("cannot build the HTTP client"), as if a bug.
        for ua in ["a\nb", "\u{7f}", "caf\u{e9}\r"] {
            let mut config = ClientConfig::new("ak", "sk", None, None, None).unwrap();
            config.options.user_agent = Some(ua.to_string());
            let Err(err) = Client::new(config) else {
                panic!("{ua:?} was accepted");
            };
            assert_eq!(err.name(), "InvalidArgument", "{ua:?}: {err}");
            assert!(err.message().contains("user_agent"), "{err}");
        }
    }

    #[test]
    fn request_id_header_fills_an_empty_one() {
        let ok = with_request_id(answer(200, None, b"{}", "t"), "hdr").unwrap();
        assert_eq!(ok["request_id"], "hdr");
        let body = br#"{"code":"OK","requestId":"body"}"#;
        let ok = with_request_id(answer(200, None, body, "t"), "hdr").unwrap();
        assert_eq!(ok["request_id"], "body", "the body's id wins");
        let err = with_request_id(answer(502, None, b"gateway", "t"), "hdr").unwrap_err();
        assert_eq!(result::error(&err)["request_id"], "hdr");
    }

    #[test]
    fn answers_are_shaped() {
        let ok = answer(
            200,
            None,
            br#"{"code":"OK","requestId":"r","eTag":"E"}"#,
            "t",
        )
        .unwrap();
        assert_eq!(ok["code"], 200);
        assert_eq!(ok["e_tag"], "E");
        let err = answer(
            401,
            None,
            br#"{"code":"InvalidToken","message":"m","requestId":"r"}"#,
            "t",
        )
        .unwrap_err();
        assert_eq!(err.name(), "InvalidToken");
        assert_eq!(err.code(), 401);
        let err = answer(502, None, b"<html>bad gateway</html>", "t").unwrap_err();
        assert!(err.message().contains("502"));
        let ret = crate::auth::b64u(br#"{"code":"OK","name":"n"}"#);
        let loc = format!("http://app/done?upload_ret={ret}");
        let ok = answer(303, Some(&loc), b"", "t").unwrap();
        assert_eq!(ok["name"], "n");
        assert_eq!(ok["location"], loc.as_str());
    }
}
