//! Downloads into the caller's hands instead of a local file: the bytes of
//! a stored file (or of one range of it) delivered in order to a consumer
//! on the calling thread — a write callback, or a buffer in memory.
//!
//! Ranges of `part_size` are fetched in parallel by tasks on the runtime's
//! workers, each into a buffer of its own; the calling thread takes them in
//! file order (`buffered` keeps order), hashes them and hands them to the
//! consumer. At most `window` ranges exist at once, fetched or in flight,
//! so memory stays below `WINDOW_BYTES` plus one range whatever the size
//! of the file, and a slow consumer holds the requests back.
//!
//! The whole file's MD5 is checked as the bytes pass; a range cannot be
//! (the stored MD5 is of the whole file), but every answer's
//! `Content-Range` and MD5 `ETag` are checked by `fetch`, which catches a
//! file replaced on the server.

use super::fetch::{self, Dest, Sink, Span, Target};
use super::Call;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::remote_file::RemoteFile;
use crate::retry::{Retrier, RetryLimits};

use crate::transfer::progress::Callback;
use crate::transfer::CancelToken;
use futures_util::stream::{self, StreamExt};
use md5_simd::Md5;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

/// Range size when none is configured: small enough that the first bytes
/// reach the consumer soon, large enough that a request's set-up cost is
/// small next to its transfer.
pub const DEFAULT_STREAM_PART_SIZE: u64 = 4 << 20;
/// The ranges of one call held in memory at most, fetched or in flight.
pub const WINDOW_BYTES: u64 = 32 << 20;
/// What a download into memory may hold by default.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

/// Options of the stream and memory downloads, a JSON object whose keys
/// are these field names; unknown keys are refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamOptions {
    /// Ranges fetched at once, 1…256; the window of `WINDOW_BYTES` may
    /// allow fewer.
    pub concurrency: u32,
    /// Bytes per range request, 102400…64 MiB.
    pub part_size: Option<u64>,
    pub max_attempts: u32,
    pub retry_budget_ms: u64,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Downloads into memory only: the most bytes the buffer may hold;
    /// a larger file or range is refused before anything is fetched.
    pub max_bytes: Option<u64>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            concurrency: 8,
            part_size: None,
            max_attempts: 10,
            retry_budget_ms: 120_000,
            backoff_base_ms: 100,
            backoff_max_ms: 10_000,
            max_bytes: None,
        }
    }
}

impl StreamOptions {
    /// Parses and checks the options JSON; `None`, `""` or `null` give the
    /// defaults.
    pub fn from_json(text: Option<&str>) -> Result<StreamOptions> {
        let opts: StreamOptions = crate::options_json::parse(text, r#"{"max_bytes":1048576}"#)?;
        opts.validate()?;
        Ok(opts)
    }

    pub fn validate(&self) -> Result<()> {
        // The checks the file download makes, on the same fields.
        self.as_download().validate()?;
        if let Some(max) = self.max_bytes {
            if max > isize::MAX as u64 {
                return Err(Error::invalid(format!(
                    "option `max_bytes` {max} is larger than any memory"
                )));
            }
        }
        Ok(())
    }

    fn part_size(&self) -> u64 {
        self.part_size.unwrap_or(DEFAULT_STREAM_PART_SIZE)
    }

    /// Ranges held at once: the concurrency, within `WINDOW_BYTES`.
    fn window(&self) -> usize {
        (WINDOW_BYTES / self.part_size()).clamp(1, self.concurrency as u64) as usize
    }

    fn as_download(&self) -> super::DownloadOptions {
        super::DownloadOptions {
            concurrency: self.concurrency,
            part_size: self.part_size,
            max_attempts: self.max_attempts,
            retry_budget_ms: self.retry_budget_ms,
            backoff_base_ms: self.backoff_base_ms,
            backoff_max_ms: self.backoff_max_ms,
            resume: false,
            ..Default::default()
        }
    }

    fn retry_limits(&self) -> RetryLimits {
        self.as_download().retry_limits()
    }
}

/// The bytes asked for: `length` None reads to the end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub offset: u64,
    pub length: Option<u64>,
}

impl ByteRange {
    /// The whole file.
    pub const ALL: ByteRange = ByteRange {
        offset: 0,
        length: None,
    };

    /// The span of a file of `size` bytes, or why the range does not fit.
    fn within(&self, size: u64, what: &str) -> Result<Span> {
        let fits = |end: u64| end <= size;
        let len = match self.length {
            None if self.offset <= size => size - self.offset,
            Some(len) if self.offset.checked_add(len).is_some_and(fits) => len,
            _ => {
                let asked = match self.length {
                    Some(len) => format!("{len} bytes from offset {}", self.offset),
                    None => format!("from offset {} to the end", self.offset),
                };
                let offsets = match size {
                    0 => "none".to_string(),
                    n => format!("0 to {}", n - 1),
                };
                return Err(Error::invalid(format!(
                    "the range {asked} lies outside {what}, which holds {size} bytes \
                     (offsets {offsets})"
                )));
            }
        };
        Ok(Span {
            start: self.offset,
            len,
        })
    }
}

/// Where the bytes go. Called on the calling thread only.
pub trait Consumer {
    /// Told how many bytes will come, before any is fetched; an error
    /// ends the call at once.
    fn begin(&mut self, _len: u64) -> Result<()> {
        Ok(())
    }
    /// Takes the next bytes in order; an error ends the call.
    fn write(&mut self, bytes: &[u8]) -> Result<()>;
}

/// The whole download in one buffer, at most `max` bytes.
pub struct Memory {
    pub max: u64,
    pub bytes: Vec<u8>,
}

impl Consumer for Memory {
    fn begin(&mut self, len: u64) -> Result<()> {
        if len > self.max {
            return Err(Error::invalid(format!(
                "the download is {len} bytes, more than `max_bytes` ({}); raise `max_bytes`, \
                 read a range, or download to a file or a write callback",
                self.max
            )));
        }
        self.bytes
            .try_reserve_exact(len as usize)
            .map_err(|_| Error::Io(format!("cannot get {len} bytes of memory")))?;
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }
}

/// Downloads `range` of `ns:dir/name` into `consumer`, in order. Answers
/// the result JSON (docs/streams.md): the call ends with an error when the
/// consumer fails, the user cancels, or — for the whole file — the MD5 of
/// the bytes delivered is not the stored one (the consumer then holds
/// unverified bytes, as `curl | md5sum` would).
#[allow(clippy::too_many_arguments)]
pub fn download_to(
    client: &Client,
    ns: &str,
    dir: &str,
    name: &str,
    range: ByteRange,
    opts: &StreamOptions,
    consumer: &mut dyn Consumer,
    progress: Option<Callback<'_>>,
    cancel: Option<&CancelToken>,
) -> Value {
    let refused = opts
        .validate()
        .and_then(|()| crate::manage::file_rid(ns, dir, name).map(|_| ()));
    if let Err(e) = refused {
        return crate::result::error(&e);
    }
    let call = Call::new(client, opts.as_download());
    let shared = call.shared.clone();
    let internal = call.internal.clone();
    let user = cancel.cloned();
    let outcome = call.drive(client, progress, cancel, async move {
        let meta = tokio::select! {
            _ = internal.cancelled() => Err(cancelled()),
            m = client.file_get(ns, dir, name) => m,
        }?;
        let source = format!(
            "{ns}:{}",
            crate::manage::normalize_dir(&format!("{dir}/{name}"))
        );
        let remote = Arc::new(RemoteFile::from_object(&meta, &source)?);
        let span = range.within(remote.size, &source)?;
        shared.progress.set_total(span.len);
        let whole = span.start == 0 && span.len == remote.size;
        let retry = Arc::new(Retrier::new(opts.retry_limits()));
        let run = Run {
            http: shared.http.clone(),
            remote: remote.clone(),
            source: Arc::from(source.as_str()),
            retry: retry.clone(),
            cancel: internal.clone(),
            user,
            rate: shared.rate.clone(),
        };
        let r = deliver(client, &run, span, opts, whole, consumer, |n| {
            shared.progress.add(n)
        })
        .await;
        let mut m = Map::new();
        m.insert("size".into(), remote.size.into());
        m.insert("md5".into(), remote.md5.clone().into());
        m.insert("url".into(), remote.url.clone().into());
        m.insert("offset".into(), span.start.into());
        m.insert("length".into(), span.len.into());
        m.insert("md5_checked".into(), whole.into());
        m.insert("attempts".into(), retry.attempts().into());
        m.insert("retries".into(), retry.retries().into());
        Ok(match r {
            Ok(()) => crate::result::local_success(m),
            Err(e) => {
                let mut v = crate::result::error(&e);
                if let Value::Object(err) = &mut v {
                    err.extend(m);
                }
                v
            }
        })
    });
    crate::result::to_json(outcome)
}

/// Downloads `range` of `ns:dir/name` into memory, at most `max_bytes`
/// (default 64 MiB). Answers the result JSON and, on success, the bytes.
#[allow(clippy::too_many_arguments)]
pub fn download_to_memory(
    client: &Client,
    ns: &str,
    dir: &str,
    name: &str,
    range: ByteRange,
    opts: &StreamOptions,
    progress: Option<Callback<'_>>,
    cancel: Option<&CancelToken>,
) -> (Value, Option<Vec<u8>>) {
    let mut memory = Memory {
        max: opts.max_bytes.unwrap_or(DEFAULT_MAX_BYTES),
        bytes: Vec::new(),
    };
    let v = download_to(
        client,
        ns,
        dir,
        name,
        range,
        opts,
        &mut memory,
        progress,
        cancel,
    );
    let ok = v["code"] == 200;
    (v, ok.then_some(memory.bytes))
}

fn cancelled() -> Error {
    Error::Cancelled("the download was cancelled".into())
}

/// What each range task needs, owned: the tasks run on the workers.
#[derive(Clone)]
struct Run {
    http: reqwest::Client,
    remote: Arc<RemoteFile>,
    source: Arc<str>,
    retry: Arc<Retrier>,
    cancel: CancellationToken,
    /// The caller's cancel, seen before each write: the call's driver
    /// sees it only between its ticks.
    user: Option<CancelToken>,
    /// The client's bandwidth budget (`limit_rate_bytes_per_sec`).
    rate: Option<Arc<crate::rate::RateLimit>>,
}

/// Fetches `span` in ranges behind the window and hands them over in
/// order; `count` is told each delivered byte count.
async fn deliver(
    client: &Client,
    run: &Run,
    span: Span,
    opts: &StreamOptions,
    whole: bool,
    consumer: &mut dyn Consumer,
    count: impl Fn(u64),
) -> Result<()> {
    consumer.begin(span.len)?;
    let part = opts.part_size();
    let ranges = span.len.div_ceil(part);
    let spans = (0..ranges).map(move |i| Span {
        start: span.start + i * part,
        len: part.min(span.len - i * part),
    });
    let handle = client.handle().clone();
    // Dropping the stream (an error, a cancel) aborts the tasks it holds.
    let mut fetched = stream::iter(spans)
        .map(|s| {
            let run = run.clone();
            AbortOnDropHandle::new(handle.spawn(async move { fetch_range(&run, s).await }))
        })
        .buffered(opts.window());
    let mut md5 = whole.then(Md5::new);
    while let Some(joined) = fetched.next().await {
        let bytes =
            joined.map_err(|e| Error::Internal(format!("a download task failed: {e}")))??;
        if let Some(md5) = md5.as_mut() {
            md5.update(&bytes);
        }
        if run.cancel.is_cancelled() || run.user.as_ref().is_some_and(CancelToken::is_triggered) {
            return Err(cancelled());
        }
        consumer.write(&bytes)?;
        count(bytes.len() as u64);
        // Lets the calling thread report progress and see a cancel
        // between ranges even when every range is already there.
        tokio::task::yield_now().await;
    }
    if let Some(md5) = md5 {
        let got = hex::encode(md5.finalize());
        if got != run.remote.md5 {
            return Err(Error::InvalidResponse(format!(
                "download {}: the bytes received have MD5 {got} but the service's metadata \
                 says {}; the bytes already delivered are damaged, discard them and download \
                 again",
                run.source, run.remote.md5
            )));
        }
    }
    Ok(())
}

/// One range into a buffer of its own, with the checks and retries of
/// `fetch`.
async fn fetch_range(run: &Run, span: Span) -> Result<Vec<u8>> {
    let buf = Mutex::new(Vec::with_capacity(span.len as usize));
    let target = Target {
        url: &run.remote.url,
        size: run.remote.size,
        md5: &run.remote.md5,
        what: &run.source,
    };
    let sink = Sink {
        dest: Dest::Memory(&buf),
        progress: None,
        md5: None,
        rate: run.rate.as_deref(),
    };
    fetch::fetch(&run.http, &target, span, &sink, &run.retry, &run.cancel).await?;
    Ok(buf.into_inner().unwrap_or_else(|p| p.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_must_fit_the_file() {
        let r = |offset, length| ByteRange { offset, length };
        let span = |b: ByteRange, size| b.within(size, "f").map(|s| (s.start, s.len));
        assert_eq!(span(ByteRange::ALL, 10).unwrap(), (0, 10));
        assert_eq!(span(ByteRange::ALL, 0).unwrap(), (0, 0));
        assert_eq!(span(r(4, None), 10).unwrap(), (4, 6));
        assert_eq!(span(r(10, None), 10).unwrap(), (10, 0));
        assert_eq!(span(r(4, Some(6)), 10).unwrap(), (4, 6));
        assert_eq!(span(r(3, Some(0)), 10).unwrap(), (3, 0));
        for bad in [
            r(11, None),
            r(4, Some(7)),
            r(u64::MAX, Some(2)),
            r(1, Some(u64::MAX)),
        ] {
            let e = span(bad, 10).unwrap_err();
            assert_eq!(e.name(), "InvalidArgument");
            assert!(e.message().contains("holds 10 bytes"), "{e}");
        }
    }

    #[test]
    fn options_and_window() {
        let o = StreamOptions::from_json(None).unwrap();
        assert_eq!(o.window(), 8);
        let o =
            StreamOptions::from_json(Some(r#"{"part_size":67108864,"concurrency":9}"#)).unwrap();
        assert_eq!(o.window(), 1);
        let o =
            StreamOptions::from_json(Some(r#"{"part_size":102400,"concurrency":256}"#)).unwrap();
        assert_eq!(o.window(), 256);
        for (json, needle) in [
            (r#"{"part_size":1}"#, "`part_size`"),
            (r#"{"concurrency":0}"#, "`concurrency`"),
            (r#"{"resume":true}"#, "unknown field"),
            (r#"{"max_bytes":18446744073709551615}"#, "`max_bytes`"),
        ] {
            let e = StreamOptions::from_json(Some(json)).unwrap_err();
            assert!(e.message().contains(needle), "{json}: {e}");
        }
    }
}
