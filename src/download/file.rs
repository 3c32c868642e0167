//! One file: its ranges through the call's shared request limit, into the
//! temporary file, MD5 checked, then renamed to its final name.
//!
//! A file of one range is hashed as its bytes arrive (in order). A file of
//! several ranges is hashed by a blocking task that reads the temporary
//! file behind the contiguous prefix of finished ranges, so hashing runs
//! alongside the transfer and the check costs little wall time. No range is
//! held in memory: each chunk received is written at its offset at once,
//! so memory per request is one network chunk.

use super::fetch::{self, Sink, Span, Target};
use super::options::DownloadOptions;
use super::partial::{self, Identity, Partial, Start};
use crate::error::{Error, Result};
use crate::remote_file::RemoteFile;
use crate::retry::Retrier;
use crate::transfer::progress::Progress;
use futures_util::stream::{FuturesUnordered, StreamExt};
use md5_simd::Md5;
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// What every file of one call shares: the HTTP client, the request limit,
/// the progress counter and the options.
pub struct Shared {
    pub http: reqwest::Client,
    /// One permit per request in flight, across all files of the call.
    pub requests: Semaphore,
    pub progress: Arc<Progress>,
    pub opts: DownloadOptions,
    /// The client's bandwidth budget (`limit_rate_bytes_per_sec`).
    pub rate: Option<Arc<crate::rate::RateLimit>>,
}

/// One file to fetch.
pub struct Job {
    pub remote: RemoteFile,
    /// `namespace:/dir/name`, for the sidecar and messages.
    pub source: String,
    pub local: PathBuf,
}

/// Figures for the result JSON.
#[derive(Debug, Default, Clone)]
pub struct FileStats {
    pub parts: u64,
    pub part_size: u64,
    pub fetched_parts: u64,
    pub resumed_parts: u64,
    pub attempts: u64,
    pub retries: u64,
    pub checkpoint: &'static str,
    /// A failed download left its temporary file for a resume.
    pub kept_partial: bool,
}

impl FileStats {
    pub fn add_to(&self, m: &mut Map<String, Value>) {
        m.insert("parts".into(), self.parts.into());
        m.insert("part_size".into(), self.part_size.into());
        m.insert("fetched_parts".into(), self.fetched_parts.into());
        m.insert("resumed_parts".into(), self.resumed_parts.into());
        m.insert("attempts".into(), self.attempts.into());
        m.insert("retries".into(), self.retries.into());
        m.insert("checkpoint".into(), self.checkpoint.into());
        if self.kept_partial {
            m.insert("partial_kept".into(), true.into());
        }
    }
}

/// Downloads one file; the stats are filled whatever the outcome.
pub async fn download(
    shared: &Shared,
    job: &Job,
    cancel: &CancellationToken,
    stats: &mut FileStats,
) -> Result<()> {
    let remote = &job.remote;
    let size = remote.size;
    let part_size = shared.opts.part_size_for(size);
    let parts = size.div_ceil(part_size).max(1);
    stats.parts = parts;
    stats.part_size = part_size;
    stats.checkpoint = Start::None.as_str();
    if cancel.is_cancelled() {
        return Err(cancelled());
    }
    let identity = Identity {
        source: job.source.clone(),
        size,
        md5: remote.md5.clone(),
        part_size,
    };
    let partial = Partial::open(&job.local, identity, parts, shared.opts.resume)?;
    stats.checkpoint = partial.start.as_str();
    let done = partial.done();
    let retry = Retrier::new(shared.opts.retry_limits());
    let span = |i: u64| Span {
        start: i * part_size,
        len: part_size.min(size - i * part_size),
    };
    for (i, _) in done.iter().enumerate().filter(|(_, d)| **d) {
        stats.resumed_parts += 1;
        shared.progress.add(span(i as u64).len);
    }
    let target = Target {
        url: &remote.url,
        size,
        md5: &remote.md5,
        what: &job.source,
    };
    let outcome = if parts == 1 {
        one_range(shared, &target, &partial, &retry, cancel).await
    } else {
        let file_cancel = cancel.child_token();
        let r = many_ranges(shared, &target, &partial, &done, span, &retry, &file_cancel).await;
        file_cancel.cancel();
        r
    };
    stats.attempts = retry.attempts();
    stats.retries = retry.retries();
    stats.fetched_parts = match &outcome {
        Ok(_) => parts - stats.resumed_parts,
        Err(_) => 0,
    };
    match outcome {
        // Stopped while the last bytes were checked: the caller asked for
        // no file, so none appears (a resume finds the ranges done).
        Ok(_) if cancel.is_cancelled() => {
            stats.kept_partial = partial.abandon(shared.opts.resume);
            Err(cancelled())
        }
        Ok(md5) if md5 == remote.md5 => {
            partial.finish(&job.local)?;
            match remote.mtime_ms {
                Some(ms) => crate::mtime::restore(&job.local, ms),
                None => Ok(()),
            }
        }
        Ok(md5) => {
            partial.discard();
            Err(Error::InvalidResponse(format!(
                "download {}: the bytes received have MD5 {md5} but the service's metadata says \
                 {}; nothing was kept, download it again",
                job.source, remote.md5
            )))
        }
        Err(e) => {
            stats.kept_partial = partial.abandon(shared.opts.resume);
            Err(e)
        }
    }
}

fn cancelled() -> Error {
    Error::Cancelled("the download was cancelled".into())
}

/// A file in one request (or none, when empty), hashed as it arrives.
async fn one_range(
    shared: &Shared,
    target: &Target<'_>,
    partial: &Partial,
    retry: &Retrier,
    cancel: &CancellationToken,
) -> Result<String> {
    let md5 = Mutex::new(Md5::new());
    if target.size > 0 {
        let _permit = tokio::select! {
            _ = cancel.cancelled() => return Err(cancelled()),
            p = shared.requests.acquire() => p.map_err(|_| cancelled())?,
        };
        let sink = Sink {
            dest: fetch::Dest::File(&partial.file),
            progress: Some(&shared.progress),
            md5: Some(&md5),
            rate: shared.rate.as_deref(),
        };
        let whole = Span {
            start: 0,
            len: target.size,
        };
        fetch::fetch(&shared.http, target, whole, &sink, retry, cancel).await?;
    }
    let md5 = md5.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok(hex::encode(md5.finalize()))
}

/// Where the hashing task may read up to: the contiguous prefix of
/// finished ranges.
struct Prefix {
    state: Mutex<PrefixState>,
    moved: Condvar,
}

struct PrefixState {
    done: Vec<bool>,
    /// Ranges `0..next` are all finished.
    next: usize,
    stop: bool,
}

impl Prefix {
    fn finish(&self, i: usize) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.done[i] = true;
        while s.next < s.done.len() && s.done[s.next] {
            s.next += 1;
        }
        self.moved.notify_all();
    }

    fn stop(&self) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).stop = true;
        self.moved.notify_all();
    }

    /// Blocks until ranges beyond `have` are finished; None when stopped.
    fn wait_beyond(&self, have: usize) -> Option<usize> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if s.stop {
                return None;
            }
            if s.next > have {
                return Some(s.next);
            }
            s = self.moved.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Reads the temporary file behind the finished prefix and hashes it.
fn hash_behind(
    file: std::fs::File,
    prefix: Arc<Prefix>,
    part_size: u64,
    size: u64,
) -> Result<String> {
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut at = 0u64;
    let mut have = 0usize;
    while at < size {
        have = prefix.wait_beyond(have).ok_or_else(cancelled)?;
        let until = (have as u64 * part_size).min(size);
        while at < until {
            let want = buf.len().min((until - at) as usize);
            let n = partial::read_at(&file, at, &mut buf[..want])
                .map_err(|e| Error::Io(format!("cannot read back the download: {e}")))?;
            if n == 0 {
                return Err(Error::Io(
                    "the temporary file shrank during the download".into(),
                ));
            }
            md5.update(&buf[..n]);
            at += n as u64;
        }
    }
    Ok(hex::encode(md5.finalize()))
}

/// A file in several ranges, in parallel within the call's request limit.
#[allow(clippy::too_many_arguments)]
async fn many_ranges(
    shared: &Shared,
    target: &Target<'_>,
    partial: &Partial,
    done: &[bool],
    span: impl Fn(u64) -> Span,
    retry: &Retrier,
    cancel: &CancellationToken,
) -> Result<String> {
    let prefix = Arc::new(Prefix {
        state: Mutex::new(PrefixState {
            done: done.to_vec(),
            next: done.iter().take_while(|d| **d).count(),
            stop: false,
        }),
        moved: Condvar::new(),
    });
    let reader = partial
        .file
        .try_clone()
        .map_err(|e| Error::Io(format!("cannot read back {}: {e}", partial.temp.display())))?;
    let (ps, size) = (span(0).len, target.size);
    let hasher = {
        let prefix = prefix.clone();
        tokio::task::spawn_blocking(move || hash_behind(reader, prefix, ps, size))
    };
    let sink = Sink {
        dest: fetch::Dest::File(&partial.file),
        progress: Some(&shared.progress),
        md5: None,
        rate: shared.rate.as_deref(),
    };
    let mut ranges = FuturesUnordered::new();
    for (i, _) in done.iter().enumerate().filter(|(_, d)| !**d) {
        let (sink, span) = (&sink, span(i as u64));
        ranges.push(async move {
            let _permit = tokio::select! {
                _ = cancel.cancelled() => return (i, Err(cancelled())),
                p = shared.requests.acquire() => match p {
                    Ok(p) => p,
                    Err(_) => return (i, Err(cancelled())),
                },
            };
            // Recorded before the permit is released: at any moment at
            // most `concurrency` ranges are fetched but not yet in the
            // sidecar, which bounds what a killed download fetches twice.
            let r = fetch::fetch(&shared.http, target, span, sink, retry, cancel)
                .await
                .and_then(|()| partial.mark_done(i as u64));
            (i, r)
        });
    }
    let mut failure = None;
    while let Some((i, r)) = ranges.next().await {
        match r {
            Ok(()) => prefix.finish(i),
            Err(e) => {
                // Stop the other ranges; keep the first error (later ones
                // are mostly the cancellation it caused).
                cancel.cancel();
                failure.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failure {
        prefix.stop();
        let _ = hasher.await;
        return Err(e);
    }
    match hasher.await {
        Ok(r) => r,
        Err(e) => Err(Error::Internal(format!("the hashing task failed: {e}"))),
    }
}
