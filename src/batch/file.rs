//! One file of a many-files upload, start to end: open it, maybe skip it
//! (size and MD5 against the remote listing), maybe only report it (dry
//! run), else send it through the transfer engine; what it ends as.

use super::feed::{Item, What};
use super::BatchOptions;
use crate::error::{Error, Result};
use crate::file_identity::FileIdentity;
use crate::report::{FileReport, FileStatus};
use crate::transfer::checkpoint::Loaded;
use crate::transfer::engine::{self, Call, FileInput, Input, Shared};
use crate::transfer::plan;
use crate::transfer::source::md5_hex;
use crate::tree::{local_md5, Listings};
use crate::upload::Target;
use bytes::Bytes;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub(super) struct Ctx<'a> {
    pub(super) call: &'a Call<'a>,
    pub(super) opts: &'a BatchOptions,
    pub(super) listings: Listings,
    /// Sizes of the files fed so far: the exact total once the feed ends
    /// (corrected when a file's size changed by the time it is opened).
    pub(super) fed_bytes: AtomicU64,
    pub(super) fed_all: AtomicBool,
}

/// One file's end.
pub(super) struct Done {
    pub(super) report: FileReport,
    pub(super) bytes: u64,
    pub(super) attempts: u64,
    pub(super) retries: u64,
    pub(super) key: (usize, String),
}

impl Done {
    pub(super) fn new(item: &Item) -> Done {
        let mut report = FileReport::new(item.shown.clone(), FileStatus::Failed);
        if let Some(i) = item.index {
            report.insert("index", i);
        }
        let dir = crate::manage::normalize_dir(item.target.dir.as_deref().unwrap_or("/"));
        report.insert("dir", dir);
        if let Some(n) = &item.target.name {
            report.insert("name", n.clone());
        }
        Done {
            report,
            bytes: 0,
            attempts: 0,
            retries: 0,
            key: (item.index.unwrap_or(0), item.shown.clone()),
        }
    }

    pub(super) fn status(&self) -> FileStatus {
        self.report.status()
    }

    pub(super) fn set(mut self, status: FileStatus) -> Done {
        self.report.set_status(status);
        self
    }

    pub(super) fn failed(mut self, e: &Error) -> Done {
        self.report.fail(e.clone());
        self
    }

    pub(super) fn skipped(mut self, reason: &str) -> Done {
        self.report.insert("reason", reason);
        self.set(FileStatus::Skipped)
    }
}

/// What is known of a file before it is sent.
pub(super) enum Opened {
    File {
        path: PathBuf,
        file: Arc<File>,
        size: u64,
        /// What `fstat` said at open, to tell whether the file changed.
        opened: FileIdentity,
    },
    Memory(Bytes),
}

impl Opened {
    pub(super) fn size(&self) -> u64 {
        match self {
            Opened::File { size, .. } => *size,
            Opened::Memory(b) => b.len() as u64,
        }
    }
}

pub(super) fn open(what: What) -> Result<Opened> {
    match what {
        What::File(path) => {
            let (file, opened) = crate::file_identity::open_regular(&path)?;
            Ok(Opened::File {
                path,
                file: Arc::new(file),
                size: opened.size,
                opened,
            })
        }
        What::Memory(b) => Ok(Opened::Memory(b)),
        What::Skipped(_) | What::Problem(_) => Err(Error::Internal("nothing to open".into())),
    }
}

pub(super) async fn md5_of(src: &Opened, stop: &CancellationToken) -> Result<String> {
    match src {
        Opened::File { path, size, .. } => local_md5(path.clone(), *size, stop.clone()).await,
        Opened::Memory(b) => {
            let b = b.clone();
            tokio::task::spawn_blocking(move || md5_hex(&b))
                .await
                .map_err(|e| Error::Internal(format!("the hashing task failed: {e}")))
        }
    }
}

/// One file: open, maybe skip, maybe only report (dry run), else upload.
pub(super) async fn one_file(ctx: &Ctx<'_>, item: Item) -> Done {
    let done = Done::new(&item);
    let Item {
        what,
        target,
        size_hint,
        ..
    } = item;
    let src = match what {
        What::Skipped(reason) => return done.skipped(&reason),
        What::Problem(e) => return done.failed(&e),
        what => match open(what) {
            Ok(s) => s,
            Err(e) => return done.failed(&e),
        },
    };
    if src.size() != size_hint {
        // Everything runs on the calling thread: no race between these.
        let fed = ctx.fed_bytes.load(Ordering::Relaxed) + src.size() - size_hint;
        ctx.fed_bytes.store(fed, Ordering::Relaxed);
        if ctx.fed_all.load(Ordering::Relaxed) {
            ctx.call.progress.set_total(fed);
        }
    }
    if ctx.call.cancel.is_cancelled() {
        return done.failed(&Error::Cancelled(
            "not started: the call was stopped".into(),
        ));
    }
    match send(ctx, &target, src, done).await {
        Ok(d) | Err(d) => d,
    }
}

pub(super) async fn send(
    ctx: &Ctx<'_>,
    target: &Target,
    src: Opened,
    mut done: Done,
) -> std::result::Result<Done, Done> {
    let call = ctx.call;
    let size = src.size();
    let stop = call.cancel.child_token();
    let _stop = stop.clone().drop_guard();
    let mut md5 = None;
    if ctx.opts.skip.lists() {
        let listed = match &target.name {
            Some(name) => {
                let dir = target.dir.as_deref().unwrap_or("/");
                let ns = call.policy.namespace();
                let folder = ctx
                    .listings
                    .get(call.client, ns, dir, &call.requests)
                    .await
                    .map_err(|e| done_copy(&done).failed(&e))?;
                folder.get(name).cloned()
            }
            None => None,
        };
        let skip = ctx.opts.skip;
        let mtime = match &src {
            Opened::File { opened, .. } => opened.modified().map(crate::mtime::ms_of),
            Opened::Memory(_) => None,
        };
        if skip.needs_md5(size, mtime, listed.as_ref()) {
            md5 = Some(
                md5_of(&src, &stop)
                    .await
                    .map_err(|e| done_copy(&done).failed(&e))?,
            );
        }
        if skip.same(size, mtime, md5.as_deref(), listed.as_ref()) {
            if !ctx.opts.dry_run {
                call.progress.add(size);
            }
            return Ok(done.skipped(skip.reason()));
        }
    }
    done.report.insert("size", size);
    if ctx.opts.dry_run {
        return Ok(done.set(FileStatus::WouldUpload));
    }
    let topts = call.opts;
    let part_size = plan::part_size(Some(size), topts).map_err(|e| done_copy(&done).failed(&e))?;
    let threshold = plan::threshold(topts, part_size, matches!(src, Opened::File { .. }));
    let modified = match &src {
        Opened::File { opened, .. } => opened.modified(),
        Opened::Memory(_) => None,
    };
    let target = crate::mtime::recorded(target, modified);
    let sh = Shared::new(call, &target, part_size, threshold);
    // Hashed for the skip rule already, or by the engine as it reads.
    let whole = md5;
    let outcome = match &src {
        Opened::File {
            path, file, opened, ..
        } => {
            let input = Input::File(Box::new(FileInput {
                path,
                file: file.clone(),
                identity: opened.clone(),
                checkpoint: None,
                loaded: Loaded::Missing,
            }));
            engine::run(&sh, input, whole).await
        }
        Opened::Memory(b) => engine::run(&sh, Input::Memory(b), whole).await,
    };
    done.attempts = sh.retry.attempts();
    done.retries = sh.retry.retries();
    let stats = sh.stats_now();
    match outcome {
        Ok(answer) => {
            for k in ["url", "e_tag", "file_size", "mime_type", "request_id"] {
                if let Some(v) = answer.get(k) {
                    done.report.insert(k, v.clone());
                }
            }
            if let Some(m) = stats.md5 {
                done.report.insert("md5", m);
            }
            if stats.multipart {
                done.report.insert("multipart", true);
                done.report.insert("parts", stats.parts);
            }
            if done.retries > 0 {
                done.report.insert("attempts", done.attempts);
                done.report.insert("retries", done.retries);
            }
            done.bytes = size;
            Ok(done.set(FileStatus::Uploaded))
        }
        Err(e) => {
            done.report.insert("attempts", done.attempts);
            // Which multipart upload it was, to check it on the server.
            if let (Some(id), Some(up)) = (stats.id, stats.upload_id) {
                done.report.insert("id", id);
                done.report.insert("upload_id", up);
            }
            Err(done.failed(&e))
        }
    }
}

/// A fresh `Done` with the same identity (path, index, dir, name).
pub(super) fn done_copy(d: &Done) -> Done {
    Done {
        report: d.report.clone(),
        bytes: 0,
        attempts: 0,
        retries: 0,
        key: d.key.clone(),
    }
}
