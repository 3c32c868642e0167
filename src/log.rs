//! Opt-in request logging: `WANTU_LOG=info|debug|trace` prints one line per
//! HTTP request on stderr, through `tracing`:
//!
//! ```text
//! 2024-05-01T10:00:00.000000Z  INFO wantu: POST http://127.0.0.1:8080/api/proxy/upload status=200 sent=1234 received=310 ms=4 retries=0
//! ```
//!
//! Off by default and when `WANTU_LOG` is unset, empty, `0` or `off`. Only
//! libwantu's own events are shown, never those of the HTTP stack, whose
//! traces could carry headers. Tokens travel in the `Authorization` header,
//! which is never logged, and URLs are stripped of credentials before they
//! are printed, so neither the secret key nor a token signature can appear.

use std::future::Future;
use std::io::IsTerminal;
use std::sync::Once;
use std::time::{Duration, Instant};

static INIT: Once = Once::new();

tokio::task_local! {
    // How many attempts of the current logical request came before this one;
    // set by whoever retries (see `attempt`), read when the line is printed.
    static RETRIES: u32;
}

/// Reads `WANTU_LOG` once per process and installs a stderr subscriber when
/// it asks for logging. A subscriber the host application installed first
/// stays in place (then our events go to it).
pub fn init() {
    INIT.call_once(|| {
        let Ok(value) = std::env::var("WANTU_LOG") else {
            return;
        };
        let Some(level) = filter_for(&value) else {
            // Saying nothing would leave the user wondering why nothing shows.
            eprintln!(
                "libwantu: WANTU_LOG={value:?} is not one of off, error, warn, info, debug, \
                 trace; request logging stays off"
            );
            return;
        };
        if level.is_empty() {
            return;
        }
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(level))
            .with_writer(std::io::stderr)
            // Colour codes only for a terminal, never in a captured log.
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(true)
            .try_init();
    });
}

/// The filter directive for a `WANTU_LOG` value: `Some("")` for off, `None`
/// for a value we do not understand.
fn filter_for(value: &str) -> Option<&'static str> {
    Some(match value.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "off" | "none" => "",
        "error" => "wantu=error",
        "warn" | "warning" => "wantu=warn",
        "info" | "1" | "on" => "wantu=info",
        "debug" => "wantu=debug",
        "trace" => "wantu=trace",
        _ => return None,
    })
}

/// Runs one attempt of a request that is being retried, so the log line of
/// the request sent inside `fut` reports `retries` (attempts made before it).
/// A retry loop wraps each attempt: `log::attempt(n, client.send(..)).await`.
pub async fn attempt<F: Future>(retries: u32, fut: F) -> F::Output {
    RETRIES.scope(retries, fut).await
}

/// The retry count of the attempt running on this task (0 outside `attempt`).
pub fn retries() -> u32 {
    RETRIES.try_with(|r| *r).unwrap_or(0)
}

/// The request body's size when it is known before sending: buffered bodies,
/// and multipart forms whose parts all have a length (reqwest then sets
/// `Content-Length`). A body of unknown length is streamed and shown as `?`.
pub fn body_size(request: &reqwest::Request) -> Option<u64> {
    request
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .or_else(|| request.body()?.as_bytes().map(|b| b.len() as u64))
}

/// A request in flight, as its log line will describe it.
pub struct RequestLine<'a> {
    method: &'a str,
    url: &'a reqwest::Url,
    /// Request body bytes, when known before sending.
    sent: Option<u64>,
    started: Instant,
}

impl<'a> RequestLine<'a> {
    pub fn new(
        method: &'a str,
        url: &'a reqwest::Url,
        sent: Option<u64>,
        started: Instant,
    ) -> Self {
        RequestLine {
            method,
            url,
            sent,
            started,
        }
    }
}

/// Emits the line of a finished request: its HTTP status, or the error name
/// when no answer came, and the response bytes. A no-op unless logging is on.
pub fn request(line: &RequestLine<'_>, outcome: Result<u16, &str>, received: u64) {
    tracing::info!(target: "wantu", "{}",
        format_line(line, outcome, received, line.started.elapsed(), retries()));
}

fn format_line(
    line: &RequestLine<'_>,
    outcome: Result<u16, &str>,
    received: u64,
    elapsed: Duration,
    retries: u32,
) -> String {
    let status = match outcome {
        Ok(code) => format!("status={code}"),
        Err(name) => format!("status=- error={name}"),
    };
    let sent = line.sent.map_or_else(|| "?".to_string(), |n| n.to_string());
    format!(
        "{} {} {status} sent={sent} received={received} ms={} retries={retries}",
        line.method,
        redact_url(line.url),
        elapsed.as_millis(),
    )
}

/// The URL without user information and without an `Authorization` (or
/// token-like) query parameter: the service accepts the upload token there.
pub fn redact_url(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret = ["authorization", "token", "signature", "sign"]
                    .contains(&k.to_ascii_lowercase().as_str());
                let v = if secret {
                    "REDACTED".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(url: &reqwest::Url, outcome: Result<u16, &'static str>) -> String {
        let request = RequestLine::new("POST", url, Some(1234), Instant::now());
        format_line(&request, outcome, 56, Duration::from_millis(7), 2)
    }

    #[test]
    fn line_has_every_field() {
        let url = reqwest::Url::parse("http://127.0.0.1:9/api/proxy/upload").unwrap();
        assert_eq!(
            line(&url, Ok(200)),
            "POST http://127.0.0.1:9/api/proxy/upload status=200 sent=1234 received=56 ms=7 retries=2"
        );
        assert!(line(&url, Err("ConnectError")).contains("status=- error=ConnectError"));
    }

    #[test]
    fn urls_lose_credentials() {
        let url = reqwest::Url::parse(
            "http://user:secret@h/api/proxy/upload?Authorization=UPLOAD_AK_TOP%20abc&dir=%2Fx",
        )
        .unwrap();
        let shown = redact_url(&url);
        assert!(!shown.contains("secret"), "{shown}");
        assert!(!shown.contains("abc"), "{shown}");
        assert!(!shown.contains("user"), "{shown}");
        assert!(shown.contains("dir=%2Fx"), "{shown}");
        let plain = reqwest::Url::parse("http://h/3.0/files/WyJhIl0/exist").unwrap();
        assert_eq!(redact_url(&plain), "http://h/3.0/files/WyJhIl0/exist");
    }

    #[test]
    fn levels() {
        assert_eq!(filter_for("DEBUG"), Some("wantu=debug"));
        assert_eq!(filter_for(" info "), Some("wantu=info"));
        assert_eq!(filter_for("off"), Some(""));
        assert_eq!(filter_for("verbose"), None);
    }

    #[test]
    fn retries_come_from_the_attempt_scope() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(retries(), 0);
        assert_eq!(rt.block_on(attempt(3, async { retries() })), 3);
    }
}
