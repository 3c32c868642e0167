//! One range of a stored file: GET (with `Range` unless it is the whole
//! file), streamed straight into the temporary file at its offset, with
//! retries. A retry continues after the bytes already written rather than
//! from the start of the range, so progress never counts a byte twice.
//!
//! Each answer is checked: status 206 with the exact `Content-Range` asked
//! for (or 200 for the whole file), the file's total size, and — when the
//! server sends an MD5 `ETag`, as wantu-server does — the MD5 the metadata
//! gave, so a file replaced on the server mid-download is caught early.

use crate::error::{Error, Result};
use crate::retry::Retrier;
use crate::transfer::progress::Progress;
use md5_simd::Md5;
use reqwest::header;
use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// The stored file being fetched.
pub struct Target<'a> {
    pub url: &'a str,
    pub size: u64,
    pub md5: &'a str,
    /// Names the file in messages.
    pub what: &'a str,
}

/// Bytes `[start, start + len)`.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub start: u64,
    pub len: u64,
}

/// Where received bytes go.
pub struct Sink<'a> {
    pub file: &'a File,
    pub progress: &'a Progress,
    /// The running MD5 of a file fetched in one range, in order.
    pub md5: Option<&'a Mutex<Md5>>,
    /// The client's bandwidth budget: each chunk waits for its share
    /// before the next is read, and TCP slows the sender to match.
    pub rate: Option<&'a crate::rate::RateLimit>,
}

/// Fetches `span` of `target` into the sink, retrying transient failures.
pub async fn fetch(
    http: &reqwest::Client,
    target: &Target<'_>,
    span: Span,
    sink: &Sink<'_>,
    retry: &Retrier,
    cancel: &CancellationToken,
) -> Result<()> {
    let written = AtomicU64::new(0);
    let what = format!("download {} bytes {}+{}", target.what, span.start, span.len);
    retry
        .run(
            &what,
            |_| false,
            |_| async {
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => Err(Error::Cancelled("the download was cancelled".into())),
                    r = attempt(http, target, span, sink, &written) => r,
                }
            },
        )
        .await
}

/// One request: continues the span after what earlier attempts wrote.
async fn attempt(
    http: &reqwest::Client,
    target: &Target<'_>,
    span: Span,
    sink: &Sink<'_>,
    written: &AtomicU64,
) -> Result<()> {
    let done = written.load(Ordering::Relaxed);
    let from = span.start + done;
    let end = span.start + span.len; // exclusive
    if from == end {
        return Ok(());
    }
    let whole = from == 0 && end == target.size;
    let mut request = http.get(target.url);
    if !whole {
        request = request.header(header::RANGE, format!("bytes={from}-{}", end - 1));
    }
    let what = target.what;
    let response = request
        .send()
        .await
        .map_err(|e| Error::from_http(e, &format!("download {what}")))?;
    let status = response.status().as_u16();
    match (status, whole) {
        (200, true) => check_length(&response, target.size, what)?,
        (206, false) => check_content_range(&response, from, end, target.size, what)?,
        (200, false) => {
            return Err(Error::InvalidResponse(format!(
                "download {what}: the server ignored the Range request (answered 200)"
            )))
        }
        _ => {
            // The error body is small; read at most 64 KiB of it.
            let body = limited_body(response).await;
            return crate::client::answer(status, None, &body, &format!("download {what}"))
                .and_then(|_| {
                    Err(Error::InvalidResponse(format!(
                        "download {what}: unexpected HTTP {status}"
                    )))
                });
        }
    }
    check_etag(&response, target.md5, what)?;
    let mut response = response;
    let mut at = from;
    loop {
        let chunk = response
            .chunk()
            .await
            .map_err(|e| Error::from_http(e, &format!("download {what}")))?;
        let Some(chunk) = chunk else { break };
        if at + chunk.len() as u64 > end {
            return Err(Error::InvalidResponse(format!(
                "download {what}: the server sent more bytes than asked for"
            )));
        }
        // A page-cache write of one chunk: short enough for a worker thread.
        super::partial::write_at(sink.file, at, &chunk)
            .map_err(|e| Error::Io(format!("cannot write the download of {what}: {e}")))?;
        if let Some(md5) = sink.md5 {
            md5.lock().unwrap_or_else(|p| p.into_inner()).update(&chunk);
        }
        at += chunk.len() as u64;
        written.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        sink.progress.add(chunk.len() as u64);
        if let Some(rate) = sink.rate {
            rate.take(chunk.len() as u64).await;
        }
    }
    if at != end {
        return Err(Error::Connect(format!(
            "download {what}: the connection ended after {} of {} bytes",
            at - from,
            end - from
        )));
    }
    Ok(())
}

async fn limited_body(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk[..chunk.len().min(65536 - body.len())]);
        if body.len() >= 65536 {
            break;
        }
    }
    body
}

fn header_str(response: &reqwest::Response, name: header::HeaderName) -> Option<&str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn check_length(response: &reqwest::Response, size: u64, what: &str) -> Result<()> {
    match response.content_length() {
        Some(n) if n != size => Err(Error::InvalidResponse(format!(
            "download {what}: the server sends {n} bytes but the file's metadata says {size}; \
             the file may have changed, download it again"
        ))),
        _ => Ok(()),
    }
}

/// `Content-Range: bytes a-b/total` must be exactly the range asked for.
fn check_content_range(
    response: &reqwest::Response,
    from: u64,
    end: u64,
    size: u64,
    what: &str,
) -> Result<()> {
    let got = header_str(response, header::CONTENT_RANGE).unwrap_or("");
    let expected = format!("bytes {from}-{}/{size}", end - 1);
    if got.trim() != expected {
        return Err(Error::InvalidResponse(format!(
            "download {what}: asked for {expected} but the server sent Content-Range {got:?}; \
             the file may have changed, download it again"
        )));
    }
    Ok(())
}

/// An MD5-shaped `ETag` must be the metadata's MD5; other ETags say nothing
/// about the content and are ignored.
fn check_etag(response: &reqwest::Response, md5: &str, what: &str) -> Result<()> {
    let Some(tag) = header_str(response, header::ETAG) else {
        return Ok(());
    };
    let tag = tag.trim().trim_start_matches("W/").trim_matches('"');
    let is_md5 = tag.len() == 32 && tag.bytes().all(|b| b.is_ascii_hexdigit());
    if is_md5 && !tag.eq_ignore_ascii_case(md5) {
        return Err(Error::InvalidResponse(format!(
            "download {what}: the file changed on the server during the download (ETag {tag}, \
             expected MD5 {md5}); download it again"
        )));
    }
    Ok(())
}
