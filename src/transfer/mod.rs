//! The one-call parallel uploader: any size, from a file, memory or a
//! stream of unknown length.
//!
//! Threads of one call:
//! - the calling thread reports progress (callbacks run there, never on I/O
//!   threads) and, for a stream, calls the reader;
//! - an engine thread drives the async engine on the client's runtime
//!   (`Client::run`); parts travel in parallel on the runtime's workers;
//! - with integrity on, a hashing thread computes the whole-file MD5 of a
//!   file or buffer in one sequential pass while the parts travel.
//!
//! All three are scoped to the call: nothing outlives it, so borrowed
//! inputs (memory, reader, client) are safe to use without copies of the
//! whole input.

mod checkpoint;
mod engine;
pub mod options;
pub mod plan;
pub mod progress;
pub mod source;
mod threads;

pub use engine::Stats;
pub use options::TransferOptions;
pub use progress::{Callback, UNKNOWN};
pub use source::Source;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::upload::Target;
use checkpoint::{CheckpointFile, FileIdentity};
use engine::{Event, FileInput, Input, Shared, WholeMd5};
use progress::{Progress, Reporter};
use serde_json::Value;
use source::{BufferPool, Producer};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use threads::{Joiner, Mailbox};
use tokio_util::sync::CancellationToken;

/// Cancels uploads from any thread, any number of times. A triggered token
/// stays triggered: an upload started with it ends at once as cancelled.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(CancellationToken);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    pub fn trigger(&self) {
        self.0.cancel();
    }

    pub fn is_triggered(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// The end of one upload: the answer and the figures for the result JSON.
#[derive(Debug)]
pub struct Outcome {
    pub result: Result<Value>,
    pub stats: Stats,
    /// Requests made, retries included.
    pub attempts: u64,
    pub retries: u64,
    /// False when the call was refused before anything was sent.
    pub started: bool,
}

impl Outcome {
    fn refused(e: Error) -> Outcome {
        Outcome {
            result: Err(e),
            stats: Stats::default(),
            attempts: 0,
            retries: 0,
            started: false,
        }
    }

    /// The result JSON: the server's answer (or the error) plus `multipart`,
    /// `parts`, `part_size`, `uploaded_parts`, `resumed_parts`, `attempts`,
    /// `retries`, `checkpoint`, and `md5` with integrity on; an error after
    /// the upload began also carries its `id` and `upload_id`.
    pub fn to_json(&self) -> Value {
        let mut v = crate::result::to_json(self.result.clone());
        if !self.started {
            return v;
        }
        if let Value::Object(m) = &mut v {
            let s = &self.stats;
            m.insert("multipart".into(), s.multipart.into());
            m.insert("parts".into(), s.parts.into());
            m.insert("part_size".into(), s.part_size.into());
            m.insert("uploaded_parts".into(), s.uploaded_parts.into());
            m.insert("resumed_parts".into(), s.resumed_parts.into());
            m.insert("attempts".into(), self.attempts.into());
            m.insert("retries".into(), self.retries.into());
            m.insert("checkpoint".into(), s.checkpoint.into());
            if let Some(md5) = &s.md5 {
                m.insert("md5".into(), md5.as_str().into());
            }
            if self.result.is_err() {
                if let (Some(id), Some(up)) = (&s.id, &s.upload_id) {
                    m.insert("id".into(), id.as_str().into());
                    m.insert("upload_id".into(), up.as_str().into());
                }
            }
        }
        v
    }
}

/// A file opened and identified before anything is sent.
struct OpenFile {
    path: PathBuf,
    file: Arc<std::fs::File>,
    identity: FileIdentity,
    checkpoint: Option<Arc<CheckpointFile>>,
}

/// Uploads `source` to the policy's namespace in one call: simple up to
/// the threshold, multipart beyond, parts in parallel. `progress` gets
/// `(sent, total)` on the calling thread (`total` None while a stream's
/// length is unknown) and answers false to cancel; `cancel` may be
/// triggered from any thread. Blocks until the upload ends.
pub fn upload(
    client: &Client,
    policy: &Policy,
    target: &Target,
    source: Source<'_>,
    opts: &TransferOptions,
    progress: Option<Callback<'_>>,
    cancel: Option<&CancelToken>,
) -> Outcome {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Outcome::refused(Error::Internal(
            "a blocking libwantu call was made from inside an async runtime; call it from an \
             ordinary thread"
                .into(),
        ));
    }
    if let Err(e) = opts.validate() {
        return Outcome::refused(e);
    }
    let mut file = None;
    let mut memory = None;
    let mut reader = None;
    let prepared = match source {
        Source::File(path) => open_file(path, opts).map(|f| file = Some(f)),
        Source::Memory(data) => no_checkpoint(opts, "memory").map(|_| memory = Some(data)),
        Source::Reader(r) => no_checkpoint(opts, "stream").map(|_| reader = Some(r)),
    };
    if let Err(e) = prepared {
        return Outcome::refused(e);
    }
    let size = match (&file, &memory) {
        (Some(f), _) => Some(f.identity.size),
        (None, Some(d)) => Some(d.len() as u64),
        _ => None,
    };
    let part_size = match plan::part_size(size, opts) {
        Ok(ps) => ps,
        Err(e) => return Outcome::refused(e),
    };

    let events = Arc::new(Mailbox::new());
    let nudge_to = events.clone();
    let progress_state = Arc::new(Progress::new(size, move || nudge_to.send(Event::Nudge)));
    let user = cancel.map(|c| c.0.clone()).unwrap_or_default();
    let internal = user.child_token();
    let stop = internal.child_token();
    let shared = Shared {
        client,
        policy,
        target,
        opts,
        retry: crate::retry::Retrier::new(opts.retry_limits()),
        progress: progress_state,
        cancel: internal.clone(),
        pool: BufferPool::new(part_size as usize),
        events: events.clone(),
        stats: Mutex::new(Stats {
            part_size,
            checkpoint: "none",
            ..Stats::default()
        }),
        part_size,
        threshold: plan::threshold(opts, part_size, file.is_some()),
    };
    let sources = Sources {
        file: &file,
        memory,
        reader,
    };
    let result = run_threads(&shared, &events, sources, progress, &internal, &stop);
    let stats = shared
        .stats
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    Outcome {
        result,
        stats,
        attempts: shared.retry.attempts(),
        retries: shared.retry.retries(),
        started: true,
    }
}

/// What to read, borrowed for the call.
struct Sources<'a, 'r> {
    file: &'a Option<OpenFile>,
    memory: Option<&'a [u8]>,
    reader: Option<&'a mut (dyn std::io::Read + 'r)>,
}

/// Starts the hashing and engine threads, runs the calling thread's loop,
/// and joins them all before returning.
fn run_threads(
    shared: &Shared<'_>,
    events: &Mailbox<Event>,
    sources: Sources<'_, '_>,
    progress: Option<Callback<'_>>,
    internal: &CancellationToken,
    stop: &CancellationToken,
) -> Result<Value> {
    let opts = shared.opts;
    let Sources {
        file,
        memory,
        reader,
    } = sources;
    // Declared before the guard, so dropped after it, even in a panic: the
    // guard stops the helpers, then the joiner waits for them. Everything
    // they borrow belongs to our caller and outlives both.
    let mut joiner = Joiner::new();
    let _guard = StopOnExit { internal, stop };
    let whole = match (opts.integrity, file, memory) {
        (true, Some(_), _) | (true, None, Some(_)) => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let stop = stop.clone();
            let hash = move || {
                let md5 = match (file, memory) {
                    (Some(f), _) => source::hash_file(&f.path, f.identity.size, &stop),
                    (None, Some(d)) => source::hash_slice(d, &stop),
                    (None, None) => return,
                };
                let _ = tx.send(md5);
            };
            // SAFETY: `file` and `memory` outlive `joiner` (see above).
            unsafe { joiner.spawn("wantu-hash", hash)? };
            Some(WholeMd5::new(rx))
        }
        _ => None,
    };
    let mut producer = None;
    let input = match (file, memory, reader) {
        (Some(f), _, _) => Input::File(Box::new(FileInput {
            path: &f.path,
            file: f.file.clone(),
            identity: f.identity.clone(),
            loaded: f
                .checkpoint
                .as_ref()
                .map_or(checkpoint::Loaded::Missing, |c| c.load()),
            checkpoint: f.checkpoint.clone(),
        })),
        (None, Some(d), _) => Input::Memory(d),
        (None, None, Some(r)) => {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let slots = opts.concurrency as usize + 1;
            let pool = shared.pool.clone();
            producer = Some(Producer::new(
                r,
                shared.part_size,
                opts.integrity,
                slots,
                tx,
                pool,
            ));
            Input::Stream(rx)
        }
        _ => return Err(Error::Internal("no source to upload".into())),
    };
    let engine_stop = stop.clone();
    let engine = move || {
        let client = shared.client;
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            client.run(engine::run(shared, input, whole))
        }));
        let result = match run {
            Ok(r) => r.and_then(|r| r),
            Err(_) => Err(Error::Internal(
                "the upload engine failed unexpectedly".into(),
            )),
        };
        engine_stop.cancel();
        events.send(Event::Done(result));
    };
    // SAFETY: `shared`, `events` and the sources outlive `joiner`.
    unsafe { joiner.spawn("wantu-transfer", engine)? };
    let mut reporter = Reporter::new(progress);
    let p = &shared.progress;
    let result = drive(events, p, &mut reporter, &mut producer, internal, stop);
    if result.is_ok() {
        reporter.finish(p.total().unwrap_or_else(|| p.sent()));
    }
    result
}

fn no_checkpoint(opts: &TransferOptions, what: &str) -> Result<()> {
    match &opts.checkpoint_path {
        Some(_) => Err(Error::invalid(format!(
            "option `checkpoint_path` is for file uploads only; a {what} upload cannot be resumed"
        ))),
        None => Ok(()),
    }
}

fn open_file(path: PathBuf, opts: &TransferOptions) -> Result<OpenFile> {
    let checkpoint = opts
        .checkpoint_path
        .clone()
        .map(|p| Arc::new(CheckpointFile::new(p)));
    if let Some(c) = &checkpoint {
        c.probe()?;
    }
    let file = std::fs::File::open(&path).map_err(|e| crate::fs_compat::open_error(&path, e))?;
    let identity = FileIdentity::of(&path)?;
    Ok(OpenFile {
        file: Arc::new(file),
        identity,
        checkpoint,
        path,
    })
}

/// Stops the helpers when the calling thread leaves, even by a panic in a
/// callback: the scope then waits for an engine that is already winding down.
struct StopOnExit<'a> {
    internal: &'a CancellationToken,
    stop: &'a CancellationToken,
}

impl Drop for StopOnExit<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.internal.cancel();
        }
        self.stop.cancel();
    }
}

/// The calling thread's loop: progress when due, the stream reader when a
/// buffer is free, and the engine's answer.
fn drive(
    events: &Mailbox<Event>,
    progress: &Progress,
    reporter: &mut Reporter<'_>,
    producer: &mut Option<Producer<'_>>,
    cancel: &CancellationToken,
    stop: &CancellationToken,
) -> Result<Value> {
    let handle = |ev: Event, producer: &mut Option<Producer<'_>>| match ev {
        Event::Nudge => {
            progress.nudge_taken();
            None
        }
        Event::SlotFree => {
            if let Some(p) = producer {
                p.slots += 1;
            }
            None
        }
        Event::Done(r) => Some(r),
    };
    loop {
        while let Some(ev) = events.try_recv() {
            if let Some(r) = handle(ev, producer) {
                return r;
            }
        }
        if !reporter.maybe(progress) {
            cancel.cancel();
        }
        if let Some(p) = producer.as_mut().filter(|p| p.ready()) {
            p.step(stop, &mut || {
                if !reporter.maybe(progress) {
                    cancel.cancel();
                }
            });
            if let Some(total) = p.total() {
                progress.set_total(total);
            }
            continue;
        }
        if let Some(ev) = events.recv_timeout(reporter.due_in().max(Duration::from_millis(1))) {
            if let Some(r) = handle(ev, producer) {
                return r;
            }
        }
    }
}
