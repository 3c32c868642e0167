//! The async engine: one file's upload as a future — simple or multipart,
//! parts in parallel, retries, checkpoints, completion, and clean-up when
//! cancelled or failed.
//!
//! Every upload runs inside a `Call`: what all files of one libwantu call
//! share (client, policy, options, progress, cancel, buffer pool) and the
//! two bounds that hold across all of them: requests in flight
//! (`concurrency`) and part buffers in memory. A one-file call has one
//! upload; a folder or batch call runs many at once under the same bounds.

use super::checkpoint::{Checkpoint, CheckpointFile, Journal, Loaded, TargetIdentity};
use super::options::TransferOptions;
use super::ordered::InOrder;
use super::plan::Plan;
use super::progress::{PartMeter, Progress};
use super::source::{hash_file, md5_hex, read_at, BufferPool, StreamMsg};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::file_identity::{file_changed, FileIdentity};
use crate::multipart::PartTag;
use crate::policy::Policy;
use crate::retry::{annotate, Retrier};
use crate::upload::{Content, Target};
use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_util::sync::CancellationToken;

/// What the engine tells the calling thread's loop.
#[derive(Debug)]
pub enum Event {
    /// Another MiB went out: time to call the progress callback.
    Nudge,
    /// A stream part buffer was released: the reader may fill another.
    SlotFree,
}

/// Figures for the result JSON.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub multipart: bool,
    pub part_size: u64,
    pub parts: u32,
    pub resumed_parts: u32,
    pub uploaded_parts: u32,
    pub id: Option<String>,
    pub upload_id: Option<String>,
    /// "none", "new", "resumed", or "stale" (one existed but could not be
    /// used, so the upload started over).
    pub checkpoint: &'static str,
    pub md5: Option<String>,
}

/// What every upload of one libwantu call shares.
pub struct Call<'a> {
    pub client: &'a Client,
    pub policy: &'a Policy,
    pub opts: &'a TransferOptions,
    /// Bytes of the whole call.
    pub progress: Arc<Progress>,
    pub cancel: CancellationToken,
    pub pool: Arc<BufferPool>,
    /// Requests in flight across the call: one permit per HTTP attempt.
    pub requests: Semaphore,
    /// Part buffers of files and memory across the call: a permit is held
    /// from reading a part until it was sent (stream parts are bounded by
    /// the reader's slots instead).
    pub buffers: Semaphore,
    pub events: UnboundedSender<Event>,
}

impl<'a> Call<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client: &'a Client,
        policy: &'a Policy,
        opts: &'a TransferOptions,
        progress: Arc<Progress>,
        cancel: CancellationToken,
        part_size: u64,
        buffers: usize,
        events: UnboundedSender<Event>,
    ) -> Call<'a> {
        Call {
            client,
            policy,
            opts,
            progress,
            cancel,
            pool: BufferPool::new(part_size as usize),
            requests: Semaphore::new(opts.concurrency as usize),
            buffers: Semaphore::new(buffers.max(1)),
            events,
        }
    }

    /// A permit for one request; the semaphore is never closed.
    async fn request_permit(&self) -> SemaphorePermit<'_> {
        self.requests
            .acquire()
            .await
            .expect("the request semaphore is never closed")
    }

    async fn buffer_permit(&self) -> SemaphorePermit<'_> {
        self.buffers
            .acquire()
            .await
            .expect("the buffer semaphore is never closed")
    }
}

/// One file's upload inside a call.
pub struct Shared<'a> {
    pub call: &'a Call<'a>,
    pub target: &'a Target,
    pub retry: Retrier,
    pub stats: Mutex<Stats>,
    /// Set when blockComplete is first sent: from then on a cancel cannot
    /// say whether the file was stored.
    pub completing: AtomicBool,
    pub part_size: u64,
    pub threshold: u64,
}

impl<'a> Shared<'a> {
    pub fn new(call: &'a Call<'a>, target: &'a Target, part_size: u64, threshold: u64) -> Self {
        Shared {
            call,
            target,
            retry: Retrier::new(call.opts.retry_limits()),
            stats: Mutex::new(Stats {
                part_size,
                checkpoint: "none",
                ..Stats::default()
            }),
            completing: AtomicBool::new(false),
            part_size,
            threshold,
        }
    }

    fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats_now(&self) -> Stats {
        self.stats().clone()
    }
}

pub struct FileInput<'a> {
    pub path: &'a Path,
    pub file: Arc<File>,
    /// `fstat` of `file` when it was opened: a multipart upload compares
    /// it again after every part read and before blockComplete, and ends
    /// with `FileChanged` on any difference; a checkpoint must name it.
    pub identity: FileIdentity,
    pub checkpoint: Option<Arc<CheckpointFile>>,
    pub loaded: Loaded,
}

pub enum Input<'a> {
    File(Box<FileInput<'a>>),
    Memory(&'a [u8]),
    Stream(UnboundedReceiver<StreamMsg>),
}

/// Runs the upload; on cancel or failure cleans up on the server. With
/// integrity on, the whole-file MD5 is `known` (the caller hashed the file
/// already) or computed from the bytes as they are read for sending.
pub async fn run(sh: &Shared<'_>, input: Input<'_>, known: Option<String>) -> Result<Value> {
    let checkpoint = match &input {
        Input::File(f) => f.checkpoint.clone(),
        _ => None,
    };
    let work = async move {
        match input {
            Input::File(f) => sized(sh, Known::File(&f), f.identity.size, known).await,
            Input::Memory(data) => sized(sh, Known::Memory(data), data.len() as u64, known).await,
            Input::Stream(rx) => stream(sh, rx).await,
        }
    };
    // Dropping `work` drops every part in flight: their connections close
    // at once, which is what makes a cancel prompt.
    let outcome = tokio::select! {
        biased;
        _ = sh.call.cancel.cancelled() => Err(Error::Cancelled("the upload was cancelled by the caller".into())),
        r = work => r,
    };
    let ids = {
        let s = sh.stats();
        s.id.clone().zip(s.upload_id.clone())
    };
    match outcome {
        Ok(v) => {
            if let Some(c) = &checkpoint {
                c.remove();
            }
            Ok(v)
        }
        Err(Error::Cancelled(msg)) if sh.completing.load(Ordering::SeqCst) => {
            // blockComplete was sent: the server may have stored the file
            // (then a blockCancel would only fail with NoSuchUpload) or not.
            // Nothing here can tell, so nothing claims either.
            if let Some(c) = &checkpoint {
                c.remove();
            }
            let id = ids.map(|(id, _)| id).unwrap_or_default();
            Err(Error::Cancelled(format!(
                "{msg}; the cancel came while blockComplete was in flight (upload {id}): the \
                 file may or may not be stored; check with wantu_file_get"
            )))
        }
        Err(Error::Cancelled(msg)) => {
            let note = match ids {
                Some((id, up)) if abort(sh, &id, &up).await => {
                    format!("upload {id} was cancelled on the server (blockCancel)")
                }
                Some((id, _)) => format!(
                    "cancelling upload {id} on the server failed; it expires there in 24 hours"
                ),
                None => "nothing was stored on the server".to_string(),
            };
            if let Some(c) = &checkpoint {
                c.remove();
            }
            Err(Error::Cancelled(format!("{msg}; {note}")))
        }
        Err(e @ Error::FileChanged(_)) => {
            // Its parts are of a file that no longer exists as it was: the
            // checkpoint must never resume them, and nobody can finish the
            // server-side upload.
            if let Some(c) = &checkpoint {
                c.remove();
            }
            if let Some((id, up)) = ids {
                abort(sh, &id, &up).await;
            }
            Err(e)
        }
        Err(e) => {
            // With a checkpoint the upload is kept for a later resume;
            // without one nobody can finish it, so it is discarded.
            if let (None, Some((id, up))) = (&checkpoint, ids) {
                abort(sh, &id, &up).await;
            }
            Err(e)
        }
    }
}

/// `blockCancel`, a few quick attempts; true when the server discarded it.
async fn abort(sh: &Shared<'_>, id: &str, up: &str) -> bool {
    for attempt in 1..=3u32 {
        let call = sh.call.client.multipart_cancel(sh.call.policy, id, up);
        match tokio::time::timeout(Duration::from_secs(5), call).await {
            Ok(Ok(_)) => return true,
            Ok(Err(e)) if !e.is_transient() => {
                tracing::debug!(target: "wantu", id, error = %e, "blockCancel refused");
                return false;
            }
            outcome => {
                tracing::debug!(target: "wantu", id, attempt, timed_out = outcome.is_err(), "blockCancel failed");
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
        }
    }
    false
}

const DAMAGED: &str = "integrity check failed";

/// Digest trouble means the bytes were damaged on the way: a buffer is
/// sent again as it is; a file body only once the file proved unchanged
/// (see [`send`]).
fn damaged_in_transit(e: &Error) -> bool {
    match e {
        Error::Server { code, .. } => code == "BadDigest",
        Error::InvalidResponse(m) => m.starts_with(DAMAGED),
        _ => false,
    }
}

fn no_such_upload(e: &Error) -> bool {
    matches!(e, Error::Server { status: 404, code, .. } if code == "NoSuchUpload")
}

fn e_tag(v: &Value, what: &str) -> Result<String> {
    v.get("e_tag")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Error::InvalidResponse(format!("{what}: the answer has no eTag")))
}

fn check_e_tag(e_tag: &str, md5: Option<&str>, what: &str) -> Result<()> {
    match md5 {
        Some(m) if !e_tag.eq_ignore_ascii_case(m) => Err(Error::InvalidResponse(format!(
            "{DAMAGED}: {what}: the server's eTag {e_tag} differs from the local MD5 {}",
            m.to_ascii_uppercase()
        ))),
        _ => Ok(()),
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("a worker thread failed: {e}")))?
}

/// Which request carries the content.
#[derive(Clone, Copy)]
enum Req<'a> {
    Simple,
    Init,
    Part(&'a str, &'a str),
}

/// One request carrying content (simple upload, blockInit, blockUpload),
/// retried; each attempt's body is metered.
///
/// A digest mismatch (`BadDigest`, or an eTag that is not the local MD5) is
/// retried only when the retry sends the very bytes whose MD5 was computed:
/// a buffer (`Content::Bytes`) is sent again as it is. A body streamed
/// from a file (`reread`: its path and size) is read anew by every
/// attempt, so after a mismatch the file is read again and hashed: if its
/// MD5 is no longer the one sent, the file changed and the upload ends at
/// once with `FileChanged`; if it is, the bytes were damaged on the way and
/// the request is retried.
#[allow(clippy::too_many_arguments)]
async fn send(
    sh: &Shared<'_>,
    meter: &Arc<PartMeter>,
    n: u32,
    content: Content,
    md5: Option<&str>,
    req: Req<'_>,
    reread: Option<(&Path, u64)>,
) -> Result<Value> {
    let what = match req {
        Req::Simple => "upload".to_string(),
        Req::Init => "blockInit (part 1)".to_string(),
        Req::Part(..) => format!("blockUpload (part {n})"),
    };
    let what = what.as_str();
    sh.retry
        .run(what, damaged_in_transit, |_| {
            let body = Content::Metered(Box::new(content.clone()), meter.attempt());
            async move {
                let sent = async {
                    let _permit = sh.call.request_permit().await;
                    let c = sh.call.client;
                    let v = match req {
                        Req::Simple => c.upload(sh.call.policy, sh.target, body, md5).await?,
                        Req::Init => {
                            c.multipart_init(sh.call.policy, sh.target, body, md5)
                                .await?
                        }
                        Req::Part(id, up) => {
                            c.multipart_upload(sh.call.policy, id, up, n, body, md5)
                                .await?
                        }
                    };
                    check_e_tag(&e_tag(&v, what)?, md5, what)?;
                    Ok(v)
                };
                match (sent.await, reread, md5) {
                    (Err(e), Some((path, size)), Some(first)) if damaged_in_transit(&e) => {
                        let (p, stop) = (path.to_path_buf(), sh.call.cancel.clone());
                        let now = blocking(move || hash_file(&p, size, &stop)).await;
                        match now {
                            Ok(m) if m.eq_ignore_ascii_case(first) => Err(e),
                            Ok(m) => Err(file_changed(
                                path,
                                &format!(
                                    "read again after the server answered `{}`, its MD5 is {m}, \
                                     not {first} as first read",
                                    e.name()
                                ),
                            )),
                            Err(Error::Io(why)) if why.contains("shrank") => Err(file_changed(
                                path,
                                "it shrank before it could be read again",
                            )),
                            Err(other) => Err(other),
                        }
                    }
                    (outcome, ..) => outcome,
                }
            }
        })
        .await
}

/// Sends one pooled buffer of a stream (part 1 by blockInit, the others by
/// blockUpload), then returns the buffer to the pool and frees the reader's
/// slot so it can read the next part. The reader hashed it (`md5`).
async fn send_stream_part(
    sh: &Shared<'_>,
    n: u32,
    bytes: Bytes,
    md5: Option<String>,
    req: Req<'_>,
) -> Result<Value> {
    let meter = PartMeter::new(sh.call.progress.clone());
    let v = send(
        sh,
        &meter,
        n,
        Content::Bytes(bytes.clone()),
        md5.as_deref(),
        req,
        None,
    )
    .await?;
    sh.call.pool.give(bytes);
    let _ = sh.call.events.send(Event::SlotFree);
    Ok(v)
}

/// One simple request; `reread` names the file a `Content::File` streams
/// from (and its size), for the digest rule of [`send`].
async fn simple(
    sh: &Shared<'_>,
    content: Content,
    md5: Option<String>,
    reread: Option<(&Path, u64)>,
) -> Result<Value> {
    {
        let mut s = sh.stats();
        s.multipart = false;
        s.parts = 1;
        s.md5 = md5.clone();
    }
    let meter = PartMeter::new(sh.call.progress.clone());
    let v = send(sh, &meter, 1, content, md5.as_deref(), Req::Simple, reread).await?;
    sh.stats().uploaded_parts = 1;
    Ok(v)
}

async fn complete(
    sh: &Shared<'_>,
    id: &str,
    up: &str,
    parts: &[PartTag],
    md5: Option<String>,
) -> Result<Value> {
    sh.stats().md5 = md5.clone();
    sh.completing.store(true, Ordering::SeqCst);
    let mut broke_off = false;
    let outcome = sh
        .retry
        .run(
            "blockComplete",
            |_| false,
            |attempt| {
                broke_off |= attempt > 1;
                let md5 = md5.as_deref();
                async move {
                    let _permit = sh.call.request_permit().await;
                    sh.call
                        .client
                        .multipart_complete(sh.call.policy, id, up, parts, md5)
                        .await
                }
            },
        )
        .await;
    match outcome {
        Err(e) if broke_off && no_such_upload(&e) => Err(annotate(
            e,
            "an earlier blockComplete attempt broke off after sending, so the file may have \
             been stored: check it with the file-info call",
        )),
        other => other,
    }
}

enum Known<'a> {
    File(&'a FileInput<'a>),
    Memory(&'a [u8]),
}

/// How the MD5s of a known-size upload's parts are made.
#[derive(Clone)]
enum Hashing {
    /// Integrity off.
    None,
    /// Each part's own; the whole file's is known.
    Known(String),
    /// Each part's and, in order, the whole file's.
    InOrder(Arc<InOrder>),
}

impl Hashing {
    /// Waits until part `n` may be read: its turn when the whole file is
    /// hashed in order. Called before the part takes a buffer.
    async fn turn(&self, plan: &Plan, n: u32) {
        if let Hashing::InOrder(o) = self {
            o.turn(plan.range(n).0).await;
        }
    }

    /// Blocking: the MD5 of the part at `offset` when `own`, and the
    /// whole file's extended by it.
    fn hash(&self, offset: u64, data: &[u8], own: bool) -> Option<String> {
        match self {
            Hashing::None => None,
            Hashing::Known(_) => own.then(|| md5_hex(data)),
            Hashing::InOrder(o) => o.hash(offset, data, own),
        }
    }
}

impl Known<'_> {
    /// Part `n` read into a pooled buffer (each byte read once) and hashed:
    /// its own MD5 when `own`, the whole file's as `hashing` says.
    async fn part(
        &self,
        sh: &Shared<'_>,
        plan: &Plan,
        n: u32,
        hashing: &Hashing,
        own: bool,
    ) -> Result<(Bytes, Option<String>)> {
        let (offset, len) = plan.range(n);
        let mut buf = sh.call.pool.take(len as usize);
        let hashing = hashing.clone();
        match self {
            Known::File(f) => {
                let (file, path) = (f.file.clone(), f.path.to_path_buf());
                let opened = f.identity.clone();
                blocking(move || {
                    // A read that falls short, or a file whose size or
                    // times moved, is a file that changed under us.
                    let read = read_at(&file, &path, offset, &mut buf);
                    opened.check(&file, &path)?;
                    read?;
                    let md5 = hashing.hash(offset, &buf, own);
                    Ok((buf.freeze(), md5))
                })
                .await
            }
            Known::Memory(data) => {
                buf.copy_from_slice(&data[offset as usize..(offset + len) as usize]);
                let bytes = buf.freeze();
                let b = bytes.clone();
                let md5 = blocking(move || Ok(hashing.hash(offset, &b, own))).await?;
                Ok((bytes, md5))
            }
        }
    }
}

/// A file's or memory's upload: one simple request, or multipart.
async fn sized(sh: &Shared<'_>, src: Known<'_>, size: u64, known: Option<String>) -> Result<Value> {
    let file = match &src {
        Known::File(f) => Some(*f),
        Known::Memory(_) => None,
    };
    let integrity = sh.call.opts.integrity;
    if size <= sh.threshold {
        let (content, md5) = match &src {
            Known::File(f) => {
                let md5 = match (integrity, known) {
                    (true, None) => {
                        let (path, stop) = (f.path.to_path_buf(), sh.call.cancel.clone());
                        Some(blocking(move || hash_file(&path, size, &stop)).await?)
                    }
                    (_, known) => known.filter(|_| integrity),
                };
                (Content::File(f.path.to_path_buf()), md5)
            }
            Known::Memory(data) => {
                let bytes = Bytes::copy_from_slice(data);
                let md5 = match (integrity, known) {
                    (true, None) => {
                        let b = bytes.clone();
                        Some(blocking(move || Ok(md5_hex(&b))).await?)
                    }
                    (_, known) => known.filter(|_| integrity),
                };
                (Content::Bytes(bytes), md5)
            }
        };
        let reread = file.map(|f| (f.path, size));
        return simple(sh, content, md5, reread).await;
    }
    // Kept across a restart: bytes hashed already are not hashed again.
    let hashing = match (integrity, &known) {
        (false, _) => Hashing::None,
        (true, Some(m)) => Hashing::Known(m.clone()),
        (true, None) => Hashing::InOrder(InOrder::new()),
    };
    let plan = Plan::new(size, sh.part_size);
    {
        let mut s = sh.stats();
        s.multipart = true;
        s.parts = plan.count;
    }
    let meters: Vec<_> = (0..plan.count)
        .map(|_| PartMeter::new(sh.call.progress.clone()))
        .collect();
    let target = TargetIdentity {
        namespace: sh.call.policy.namespace().to_string(),
        dir: sh.target.dir.clone(),
        name: sh.target.name.clone(),
    };
    let mut resume = None;
    if let Some(f) = file.filter(|f| f.checkpoint.is_some()) {
        let usable = match &f.loaded {
            Loaded::Found(cp) if cp.matches(&f.identity, &target, plan.part_size, plan.count) => {
                Some(cp.as_ref().clone())
            }
            _ => None,
        };
        sh.stats().checkpoint = match (&f.loaded, &usable) {
            (_, Some(_)) => "resumed",
            (Loaded::Missing, None) => "new",
            _ => "stale",
        };
        resume = usable;
    }
    loop {
        let resumed = resume.is_some();
        let attempt = multipart(sh, &src, &plan, &meters, &target, resume.take(), &hashing);
        match attempt.await {
            Err(e) if resumed && no_such_upload(&e) => {
                // The server no longer knows the upload (expired or
                // cancelled): start over cleanly.
                tracing::debug!(target: "wantu", error = %e, "checkpointed upload is gone; starting over");
                let mut s = sh.stats();
                s.checkpoint = "stale";
                s.resumed_parts = 0;
            }
            other => return other,
        }
    }
}

/// The checkpoint being kept for this upload, written after every part.
type Keeper = Option<Arc<Mutex<Journal>>>;

/// Starts keeping `cp` (a new upload's, or a resumed one's) in `file`.
async fn keep(file: &Arc<CheckpointFile>, cp: Checkpoint) -> Keeper {
    let file = file.clone();
    match blocking(move || file.begin(&cp)).await {
        Ok(j) => Some(Arc::new(Mutex::new(j))),
        Err(e) => {
            // Without a checkpoint a crash only means sending everything again.
            tracing::debug!(target: "wantu", error = %e, "checkpoint not written");
            None
        }
    }
}

async fn record(keeper: &Keeper, tag: PartTag) {
    let Some(journal) = keeper.clone() else {
        return;
    };
    let outcome = blocking(move || journal.lock().unwrap_or_else(|p| p.into_inner()).add(tag));
    if let Err(e) = outcome.await {
        // An older checkpoint only means re-sending more after a crash.
        tracing::debug!(target: "wantu", error = %e, "checkpoint not written");
    }
}

#[allow(clippy::too_many_arguments)]
async fn multipart(
    sh: &Shared<'_>,
    src: &Known<'_>,
    plan: &Plan,
    meters: &[Arc<PartMeter>],
    target: &TargetIdentity,
    resume: Option<Checkpoint>,
    hashing: &Hashing,
) -> Result<Value> {
    let file = match src {
        Known::File(f) => Some(*f),
        Known::Memory(_) => None,
    };
    let mut tags: Vec<Option<PartTag>> = vec![None; plan.count as usize];
    let keeper: Keeper;
    let (id, up) = match resume {
        Some(cp) => {
            for t in &cp.parts {
                meters[t.part_number as usize - 1].finished(plan.range(t.part_number).1);
                tags[t.part_number as usize - 1] = Some(t.clone());
            }
            let ids = (cp.id.clone(), cp.upload_id.clone());
            {
                let mut s = sh.stats();
                s.resumed_parts = cp.parts.len() as u32;
                s.id = Some(ids.0.clone());
                s.upload_id = Some(ids.1.clone());
            }
            keeper = match file.and_then(|f| f.checkpoint.as_ref()) {
                Some(c) => keep(c, cp).await,
                None => None,
            };
            ids
        }
        None => {
            if let Some(c) = file.and_then(|f| f.checkpoint.as_ref()) {
                c.remove();
            }
            hashing.turn(plan, 1).await;
            let buffer = sh.call.buffer_permit().await;
            let (bytes, md5) = src.part(sh, plan, 1, hashing, true).await?;
            let v = send(
                sh,
                &meters[0],
                1,
                Content::Bytes(bytes.clone()),
                md5.as_deref(),
                Req::Init,
                None,
            )
            .await?;
            sh.call.pool.give(bytes);
            drop(buffer);
            let field = |k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .ok_or_else(|| {
                        Error::InvalidResponse(format!("blockInit: the answer has no `{k}`"))
                    })
            };
            let (id, up) = (field("id")?, field("upload_id")?);
            let tag = PartTag {
                part_number: 1,
                e_tag: e_tag(&v, "blockInit")?,
            };
            {
                let mut s = sh.stats();
                s.id = Some(id.clone());
                s.upload_id = Some(up.clone());
                s.uploaded_parts += 1;
            }
            keeper = match file.and_then(|f| f.checkpoint.as_ref().map(|c| (f, c))) {
                Some((f, c)) => {
                    let mut cp = Checkpoint::new(
                        f.identity.clone(),
                        target.clone(),
                        id.clone(),
                        up.clone(),
                        plan.part_size,
                    );
                    cp.add(tag.clone());
                    keep(c, cp).await
                }
                None => None,
            };
            tags[0] = Some(tag);
            (id, up)
        }
    };
    // Parts stored already (resumed) are read only when the whole file is
    // hashed here; such a job sends nothing and answers no tag.
    let job = |n: u32, upload: bool| {
        let (id, up, keeper) = (&id, &up, &keeper);
        async move {
            hashing.turn(plan, n).await;
            let _buffer = sh.call.buffer_permit().await;
            let (bytes, md5) = src.part(sh, plan, n, hashing, upload).await?;
            if !upload {
                sh.call.pool.give(bytes);
                return Ok(None);
            }
            let meter = &meters[n as usize - 1];
            let v = send(
                sh,
                meter,
                n,
                Content::Bytes(bytes.clone()),
                md5.as_deref(),
                Req::Part(id, up),
                None,
            )
            .await?;
            sh.call.pool.give(bytes);
            let tag = PartTag {
                part_number: n,
                e_tag: e_tag(&v, "blockUpload")?,
            };
            record(keeper, tag.clone()).await;
            sh.stats().uploaded_parts += 1;
            Ok::<_, Error>(Some(tag))
        }
    };
    let whole_here = matches!(hashing, Hashing::InOrder(_));
    let todo: Vec<(u32, bool)> = (1..=plan.count)
        .map(|n| (n, tags[n as usize - 1].is_none()))
        .filter(|(_, upload)| *upload || whole_here)
        .collect();
    let mut todo = todo.into_iter();
    let mut inflight = FuturesUnordered::new();
    loop {
        while inflight.len() < sh.call.opts.concurrency as usize {
            match todo.next() {
                Some((n, upload)) => inflight.push(job(n, upload)),
                None => break,
            }
        }
        match inflight.next().await {
            Some(tag) => {
                if let Some(tag) = tag? {
                    let i = tag.part_number as usize - 1;
                    tags[i] = Some(tag);
                }
            }
            None => break,
        }
    }
    let parts: Vec<PartTag> = tags.into_iter().flatten().collect();
    let md5 = match hashing {
        Hashing::None => None,
        Hashing::Known(m) => Some(m.clone()),
        Hashing::InOrder(o) => Some(o.finish(plan.size)?),
    };
    if let Some(f) = file {
        // Every part was read through the one descriptor opened at the
        // start; a file that changed meanwhile is never completed.
        f.identity.check(&f.file, f.path)?;
    }
    match complete(sh, &id, &up, &parts, md5).await {
        // The whole file's MD5 (of the bytes read now) differs from the
        // parts the server holds: parts sent earlier (before a resume, or
        // hashed before the upload) were of other bytes.
        Err(e)
            if file.is_some()
                && matches!(&e, Error::Server { code, .. } if code == "BadDigest") =>
        {
            let path = file.map_or(Path::new(""), |f| f.path);
            Err(file_changed(
                path,
                &format!(
                    "its bytes now differ from the parts sent earlier: the server says {}",
                    e.message()
                ),
            ))
        }
        other => other,
    }
}

fn stream_closed() -> Error {
    Error::Cancelled("the stream reader stopped".into())
}

async fn recv(rx: &mut UnboundedReceiver<StreamMsg>) -> Result<StreamMsg> {
    match rx.recv().await {
        Some(StreamMsg::Failed(e)) => Err(e),
        Some(m) => Ok(m),
        None => Err(stream_closed()),
    }
}

/// A stream of unknown length: simple when it ends within the threshold,
/// otherwise multipart with parts as they come.
async fn stream(sh: &Shared<'_>, mut rx: UnboundedReceiver<StreamMsg>) -> Result<Value> {
    let first = match recv(&mut rx).await? {
        StreamMsg::Part(_, b, md5) => (b, md5),
        StreamMsg::End { md5, .. } => {
            return simple(sh, Content::Bytes(Bytes::new()), md5, None).await
        }
        StreamMsg::Failed(e) => return Err(e),
    };
    let mut ended = None;
    let mut queued = None;
    match recv(&mut rx).await? {
        StreamMsg::End { total, md5 } if total <= sh.threshold => {
            return simple(sh, Content::Bytes(first.0), md5, None).await;
        }
        StreamMsg::End { total, md5 } => ended = Some((total, md5)),
        StreamMsg::Part(n, b, md5) => queued = Some((n, b, md5)),
        StreamMsg::Failed(e) => return Err(e),
    }
    sh.stats().multipart = true;
    let v = send_stream_part(sh, 1, first.0, first.1, Req::Init).await?;
    let field = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| Error::InvalidResponse(format!("blockInit: the answer has no `{k}`")))
    };
    let (id, up) = (field("id")?, field("upload_id")?);
    let mut tags = vec![PartTag {
        part_number: 1,
        e_tag: e_tag(&v, "blockInit")?,
    }];
    {
        let mut s = sh.stats();
        s.id = Some(id.clone());
        s.upload_id = Some(up.clone());
        s.uploaded_parts = 1;
    }
    let job = |n: u32, bytes: Bytes, md5: Option<String>| {
        let (id, up) = (&id, &up);
        async move {
            let v = send_stream_part(sh, n, bytes, md5, Req::Part(id, up)).await?;
            sh.stats().uploaded_parts += 1;
            Ok::<_, Error>(PartTag {
                part_number: n,
                e_tag: e_tag(&v, "blockUpload")?,
            })
        }
    };
    let mut inflight = FuturesUnordered::new();
    if let Some((n, b, md5)) = queued {
        inflight.push(job(n, b, md5));
    }
    let limit = sh.call.opts.concurrency as usize;
    while ended.is_none() || !inflight.is_empty() {
        tokio::select! {
            msg = recv(&mut rx), if ended.is_none() && inflight.len() < limit => match msg? {
                StreamMsg::Part(n, b, md5) => inflight.push(job(n, b, md5)),
                StreamMsg::End { total, md5 } => ended = Some((total, md5)),
                StreamMsg::Failed(e) => return Err(e),
            },
            Some(tag) = inflight.next(), if !inflight.is_empty() => tags.push(tag?),
        }
    }
    tags.sort_by_key(|t| t.part_number);
    sh.stats().parts = tags.len() as u32;
    let md5 = ended.and_then(|(_, md5)| md5);
    complete(sh, &id, &up, &tags, md5).await
}
