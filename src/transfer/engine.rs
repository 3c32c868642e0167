//! The async engine: one file's upload as a future — simple or multipart,
//! parts in parallel, retries, checkpoints, completion, and clean-up when
//! cancelled or failed.
//!
//! Every upload runs inside a `Call`: what all files of one libwantu call
//! share (client, policy, options, progress, cancel, buffer pool) and the
//! two bounds that hold across all of them: requests in flight
//! (`concurrency`) and part buffers in memory. A one-file call has one
//! upload; a folder or batch call runs many at once under the same bounds.
//!
//! This file owns the call, what its uploads share, and `run`, which picks
//! the way: `sized.rs` for files and bytes of known size (one request or
//! parts in parallel, checkpoints, resume), `stream.rs` for a stream of
//! unknown length, both sending through `requests.rs` (one request,
//! retried, and the answers' checks).

mod requests;
mod sized;
mod stream;

use super::checkpoint::{CheckpointFile, Loaded};
use super::options::TransferOptions;
use super::progress::Progress;
use super::source::{BufferPool, StreamMsg};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::file_identity::FileIdentity;
use crate::policy::Policy;
use crate::retry::Retrier;
use crate::upload::Target;
use requests::abort;
use serde_json::Value;
use sized::{sized, Known};
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use stream::stream;
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
