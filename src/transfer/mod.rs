//! The one-call parallel uploader: any size, from a file, memory or a
//! stream of unknown length.
//!
//! No thread is started per call. The calling thread runs the call's
//! future on the client's runtime (`Client::run`, i.e. `block_on`): the
//! engine's futures, the progress callbacks and, for a stream, the reader
//! all run there, so borrowed inputs (memory, reader, client) need no
//! copies and nothing outlives the call. Connections are driven by the
//! runtime's worker threads; file reads and MD5s of parts and whole files
//! run on its blocking pool (threads that are reused across calls).

pub(crate) mod checkpoint;
pub mod digest;
mod drive;
pub(crate) mod engine;
pub mod options;
mod ordered;
mod pipe;
pub mod plan;
pub mod progress;
pub mod source;

pub use engine::Stats;
pub use options::TransferOptions;
pub use progress::{Callback, UNKNOWN};
pub use source::Source;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::file_identity::FileIdentity;
use crate::policy::Policy;
use crate::upload::Target;
use checkpoint::CheckpointFile;
pub(crate) use drive::drive;
use engine::{Call, Event, FileInput, Input, Shared};
use progress::{Progress, Reporter};
use serde_json::Value;
use source::Producer;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedReceiver;
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

    /// A handle on an existing token (an operation's own, say).
    pub(crate) fn from_token(token: CancellationToken) -> CancelToken {
        CancelToken(token)
    }

    pub(crate) fn token(&self) -> &CancellationToken {
        &self.0
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
    pub(crate) fn refused(e: Error) -> Outcome {
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
    /// What `fstat` said at open (under the canonical path, for the
    /// checkpoint): compared again before completion.
    identity: FileIdentity,
    checkpoint: Option<Arc<CheckpointFile>>,
}

/// Refuses a blocking call made from inside an async runtime (it would
/// deadlock or panic there).
pub(crate) fn outside_runtime() -> Result<()> {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => Err(Error::Internal(
            "a blocking libwantu call was made from inside an async runtime; call it from an \
             ordinary thread"
                .into(),
        )),
        Err(_) => Ok(()),
    }
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
    if let Err(e) = outside_runtime().and_then(|_| opts.validate()) {
        return Outcome::refused(e);
    }
    let mut file = None;
    let mut memory = None;
    let mut reader = None;
    // A FIFO or device given as a path is read as a stream.
    let mut pipe = None;
    let prepared = match source {
        Source::File(path) => match pipe::open(&path) {
            Ok(pipe::Opened::File(f)) => open_file(path, f, opts).map(|f| file = Some(f)),
            Ok(pipe::Opened::Stream(p)) => {
                no_checkpoint(opts, "FIFO or device").map(|_| pipe = Some(p))
            }
            Err(e) => Err(e),
        },
        Source::Memory(data) => no_checkpoint(opts, "memory").map(|_| memory = Some(data)),
        Source::Reader(r) => no_checkpoint(opts, "stream").map(|_| reader = Some(r)),
    };
    if let Err(e) = prepared {
        return Outcome::refused(e);
    }
    if let Some(p) = pipe.as_mut() {
        reader = Some(p as &mut dyn std::io::Read);
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

    let (events, mut inbox) = tokio::sync::mpsc::unbounded_channel();
    let nudge = events.clone();
    let progress_state = Arc::new(Progress::new(size, move || {
        let _ = nudge.send(Event::Nudge);
    }));
    let user = cancel.map(|c| c.0.clone()).unwrap_or_default();
    let internal = user.child_token();
    let stop = internal.child_token();
    // Stops the blocking helpers (hashing) however the call ends.
    let _guard = stop.clone().drop_guard();
    let call = Call::new(
        client,
        policy,
        opts,
        progress_state,
        internal.clone(),
        part_size,
        opts.concurrency as usize,
        events,
    );
    let threshold = plan::threshold(opts, part_size, file.is_some());
    // A local file's mtime goes with it, for downloads and `skip: mtime`.
    let modified = file.as_ref().and_then(|f| f.identity.modified());
    let target = crate::mtime::recorded(target, modified);
    let shared = Shared::new(&call, &target, part_size, threshold);
    let sources = Sources {
        file: &file,
        memory,
        reader,
    };
    let one = upload_one(&shared, sources, progress, &mut inbox, &stop);
    let result = client.run(one).and_then(|r| r);
    Outcome {
        result,
        stats: shared.stats_now(),
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

/// The future of a one-source call: the engine and the calling thread's
/// loop (progress, stream reads).
async fn upload_one(
    shared: &Shared<'_>,
    sources: Sources<'_, '_>,
    progress: Option<Callback<'_>>,
    inbox: &mut UnboundedReceiver<Event>,
    stop: &CancellationToken,
) -> Result<Value> {
    let call = shared.call;
    let opts = call.opts;
    let Sources {
        file,
        memory,
        reader,
    } = sources;
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
            let pool = call.pool.clone();
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
    let work = engine::run(shared, input, None);
    let mut reporter = Reporter::new(progress);
    let p = &call.progress;
    let result = drive(
        work,
        inbox,
        p,
        &mut reporter,
        &mut producer,
        &call.cancel,
        stop,
    )
    .await;
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

fn open_file(path: PathBuf, file: std::fs::File, opts: &TransferOptions) -> Result<OpenFile> {
    let checkpoint = opts
        .checkpoint_path
        .clone()
        .map(|p| Arc::new(CheckpointFile::new(p)));
    if let Some(c) = &checkpoint {
        c.probe()?;
    }
    // One descriptor for everything: the identities come from its `fstat`,
    // the parts are read through it.
    let meta = file
        .metadata()
        .map_err(|e| Error::Io(format!("cannot read the size of {}: {e}", path.display())))?;
    if meta.is_dir() {
        return Err(Error::Io(format!(
            "{} is a directory; give the path of a file",
            path.display()
        )));
    }
    Ok(OpenFile {
        file: Arc::new(file),
        identity: FileIdentity::of(&path, &meta).canonical(),
        checkpoint,
        path,
    })
}
