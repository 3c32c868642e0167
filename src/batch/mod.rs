//! Many files in one call, upload side: a local folder
//! (`upload_dir`) or a list of jobs (`upload_batch`), under ONE scheduler.
//!
//! - Files are fed lazily (the folder walk advances `WALK_STEP` entries at
//!   a time on the runtime's blocking pool), at most `2 × concurrency`
//!   files are in progress at once, and every file's upload is the transfer
//!   engine's future on the calling thread: no thread per file.
//! - The call's `Call` bounds what all files share: `concurrency` requests
//!   in flight (small files, parts of large files and listings alike) and
//!   a part-buffer budget (`options::PART_BUFFER_BUDGET`), so memory does
//!   not grow with the number or size of the files.
//! - `skip` compares against one listing per remote folder (`tree::remote`).
//! - One failing file does not stop the others unless `fail_fast`.
//!
//! The answer is one JSON document: counts, `bytes`, and the per-file
//! `results` that `crate::results` keeps (see `docs/folders.md`).
//!
//! This file owns the scheduling and the answer; `feed.rs` the items and
//! where they come from, `file.rs` one file from open to end, `walk.rs`
//! the folder walk, `jobs.rs` and `options.rs` the call's input.

mod feed;
mod file;
mod jobs;
mod options;
mod walk;

pub use jobs::{parse as parse_jobs, Job, JobSource};
pub use options::{BatchOptions, DEFAULT_BATCH_CONCURRENCY, PART_BUFFER_BUDGET};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::report::FileStatus;
use crate::results::{OnFile, Results};
use crate::transfer::engine::{Call, Event};
use crate::transfer::progress::{Progress, Reporter};
use crate::transfer::source::Producer;
use crate::transfer::{drive, outside_runtime, plan, Callback, CancelToken};
use crate::tree::{Filters, Listings};
use feed::{item_of, Feed, Item, What};
use file::{one_file, Ctx, Done};
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::Map;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use walk::Found;

/// The call's running totals; each file's result goes on to `results`.
struct Tally<'a> {
    results: Results<'a>,
    bytes: u64,
    attempts: u64,
    retries: u64,
}

impl Tally<'_> {
    fn add(&mut self, d: Done) {
        self.bytes += d.bytes;
        self.attempts += d.attempts;
        self.retries += d.retries;
        self.results.add(d.key, d.report);
    }

    fn failed(&self) -> u64 {
        self.results.counts().get(FileStatus::Failed)
    }
}

/// Runs the files of `feed` to their end: at most `2 × concurrency` in
/// progress; the feed stops when the call is cancelled (or a file failed
/// with `fail_fast`).
async fn schedule<'a>(
    ctx: &Ctx<'_>,
    mut feed: Feed,
    mut count: Option<JoinHandle<u64>>,
    stop: &CancellationToken,
    results: Results<'a>,
) -> Tally<'a> {
    let at_once = ctx.call.opts.concurrency as usize * 2;
    let mut running = FuturesUnordered::new();
    let mut tally = Tally {
        results,
        bytes: 0,
        attempts: 0,
        retries: 0,
    };
    let mut fed_all = false;
    loop {
        let open = !fed_all && !ctx.call.cancel.is_cancelled() && running.len() < at_once;
        if !open && running.is_empty() {
            break;
        }
        tokio::select! {
            item = feed.next(), if open => match item {
                Some(item) => {
                    ctx.fed_bytes.fetch_add(item.size_hint, Ordering::Relaxed);
                    running.push(one_file(ctx, item));
                }
                None => {
                    fed_all = true;
                    ctx.fed_all.store(true, Ordering::Relaxed);
                    ctx.call.progress.set_total(ctx.fed_bytes.load(Ordering::Relaxed));
                }
            },
            Some(done) = running.next(), if !running.is_empty() => {
                if done.status() == FileStatus::Failed && ctx.opts.fail_fast {
                    ctx.call.cancel.cancel();
                }
                tally.add(done);
            },
            // The quick first pass over the sizes: the progress total
            // until the feed ends and gives the exact one.
            n = async { count.as_mut().expect("checked").await }, if count.is_some() => {
                count = None;
                if let (Ok(n), false) = (n, fed_all) {
                    ctx.call.progress.set_total(n);
                }
            }
        }
    }
    // Nothing of the call outlives it: the size count and a walk step in
    // flight hold folders open (on Windows such a folder cannot be
    // removed), so both are stopped and awaited; each ends within one
    // entry, or one step of `WALK_STEP` entries.
    stop.cancel();
    if let Some(c) = count {
        let _ = c.await;
    }
    feed.settle().await;
    tally
}

/// The call's answer as JSON text: the counts, then `results` last.
fn answer(mut t: Tally, user_cancelled: bool, stopped: bool, dry_run: bool) -> String {
    let file_error = t.results.finish_file().err();
    let c = t.results.counts();
    let total = c.total();
    let mut m = Map::new();
    let failed = c.get(FileStatus::Failed);
    let ok = failed == 0 && !user_cancelled && !stopped && file_error.is_none();
    if ok {
        m.insert("code".into(), 200.into());
        let skipped = c.get(FileStatus::Skipped);
        let what = if dry_run {
            let would = c.get(FileStatus::WouldUpload);
            format!("dry run: {would} to upload, {skipped} to skip")
        } else {
            let uploaded = c.get(FileStatus::Uploaded);
            format!("{uploaded} uploaded, {skipped} skipped")
        };
        m.insert("message".into(), what.into());
    } else {
        m.insert("code".into(), 0.into());
        let (error, mut message) = if user_cancelled {
            (
                "Cancelled",
                "the call was cancelled by the caller; multipart uploads in flight were \
                 cancelled on the server"
                    .to_string(),
            )
        } else if failed == 0 && file_error.is_some() {
            ("IoError", String::new())
        } else {
            ("FilesFailed", format!("{failed} of {total} files failed"))
        };
        if let Some((path, e)) = t.results.first_failure() {
            message.push_str(&format!("; first: {path}: {}", e.message()));
        }
        if stopped && !user_cancelled {
            message.push_str("; the other files were stopped (fail_fast)");
        }
        if let Some(e) = &file_error {
            if !message.is_empty() {
                message.push_str("; ");
            }
            message.push_str(e.message());
        }
        m.insert("error".into(), error.into());
        m.insert("message".into(), message.into());
    }
    m.insert("request_id".into(), "".into());
    m.insert("files".into(), total.into());
    use FileStatus::{Failed, Skipped, Uploaded, WouldUpload};
    c.write(&[Uploaded, Skipped, Failed], &mut m);
    if dry_run {
        m.insert("dry_run".into(), true.into());
        c.write(&[WouldUpload], &mut m);
    }
    m.insert("bytes".into(), t.bytes.into());
    m.insert("attempts".into(), t.attempts.into());
    m.insert("retries".into(), t.retries.into());
    t.results.answer_text(m)
}

/// The shared frame of both calls: the `Call`, the calling thread's loop,
/// the answer.
fn run_call(
    client: &Client,
    policy: &Policy,
    opts: &BatchOptions,
    progress: Option<Callback<'_>>,
    on_file: Option<OnFile<'_>>,
    cancel: Option<&CancelToken>,
    start: impl FnOnce(CancellationToken) -> (Feed, Option<JoinHandle<u64>>),
) -> Result<String> {
    let results = Results::new(&opts.results, on_file)?;
    let topts = &opts.transfer;
    let part_size = plan::part_size(None, topts)?;
    let (events, mut inbox) = mpsc::unbounded_channel();
    let nudge = events.clone();
    let progress_state = Arc::new(Progress::new(None, move || {
        let _ = nudge.send(Event::Nudge);
    }));
    let user = cancel.map(|c| c.token().clone()).unwrap_or_default();
    let internal = user.child_token();
    let files = internal.child_token();
    let stop = internal.child_token();
    let _stop = stop.clone().drop_guard();
    let call = Call::new(
        client,
        policy,
        topts,
        progress_state.clone(),
        files.clone(),
        part_size,
        opts.part_buffers(part_size),
        events,
    );
    let ctx = Ctx {
        call: &call,
        opts,
        listings: Listings::default(),
        fed_bytes: AtomicU64::new(0),
        fed_all: AtomicBool::new(false),
    };
    let work = async {
        let (feed, count) = start(stop.clone());
        let mut reporter = Reporter::new(progress);
        let mut no_reader: Option<Producer<'_>> = None;
        let tally = drive(
            schedule(&ctx, feed, count, &stop, results),
            &mut inbox,
            &progress_state,
            &mut reporter,
            &mut no_reader,
            &internal,
            &stop,
        )
        .await;
        let cancelled = internal.is_cancelled();
        let ok = tally.failed() == 0 && !cancelled;
        if ok && !opts.dry_run {
            reporter.finish(
                progress_state
                    .total()
                    .unwrap_or_else(|| progress_state.sent()),
            );
        }
        tally
    };
    let tally = client.run(work)?;
    let user_cancelled = internal.is_cancelled();
    let stopped = files.is_cancelled();
    Ok(answer(tally, user_cancelled, stopped, opts.dry_run))
}

/// Uploads every file under `local_dir` to `remote_dir` + its relative
/// path. Answers the call's JSON document as text (`docs/folders.md`);
/// `on_file` is given each file's result as the file ends.
#[allow(clippy::too_many_arguments)]
pub fn upload_dir(
    client: &Client,
    policy: &Policy,
    local_dir: &Path,
    remote_dir_root: &str,
    opts: &BatchOptions,
    progress: Option<Callback<'_>>,
    on_file: Option<OnFile<'_>>,
    cancel: Option<&CancelToken>,
) -> Result<String> {
    outside_runtime()?;
    if policy.names_file() {
        return Err(Error::invalid(
            "`policy_json` has a \"name\": a folder upload names each file after its local \
             name, so the policy must not (use wantu_transfer_batch to choose names)",
        ));
    }
    let shown = local_dir.display();
    let meta = std::fs::metadata(local_dir)
        .map_err(|e| Error::Io(format!("`local_dir` {shown} cannot be used: {e}")))?;
    if !meta.is_dir() {
        return Err(Error::invalid(format!(
            "`local_dir` {shown} is not a folder"
        )));
    }
    std::fs::read_dir(local_dir)
        .map_err(|e| Error::Io(format!("`local_dir` {shown} cannot be read: {e}")))?;
    let filters = Filters::new(&opts.include, &opts.exclude)?;
    let root = local_dir.to_path_buf();
    let remote_root = remote_dir_root.to_string();
    let follow = opts.follow_symlinks;
    run_call(
        client,
        policy,
        opts,
        progress,
        on_file,
        cancel,
        move |stop| {
            let (walk_root, walk_filters) = (root.clone(), filters.clone());
            let walker = walk::walk(walk_root, walk_filters, follow).map(move |found| {
                let mut item = item_of(found, &remote_root);
                if let What::File(p) = &item.what {
                    item.size_hint = std::fs::metadata(p).map_or(0, |m| m.len());
                }
                item
            });
            let count = tokio::task::spawn_blocking(move || {
                let mut total = 0;
                for found in walk::walk(root, filters, follow) {
                    if stop.is_cancelled() {
                        break;
                    }
                    if let Found::File { path, .. } = found {
                        total += std::fs::metadata(path).map_or(0, |m| m.len());
                    }
                }
                total
            });
            (Feed::walk(Box::new(walker)), Some(count))
        },
    )
}
/// Uploads the given jobs (files or bytes, each with its own target).
/// Answers the call's JSON document as text (`docs/folders.md`);
/// `on_file` is given each file's result as the file ends.
pub fn upload_batch(
    client: &Client,
    policy: &Policy,
    jobs: Vec<Job>,
    opts: &BatchOptions,
    progress: Option<Callback<'_>>,
    on_file: Option<OnFile<'_>>,
    cancel: Option<&CancelToken>,
) -> Result<String> {
    outside_runtime()?;
    let items: Vec<Item> = jobs
        .into_iter()
        .map(|j| {
            let (shown, size_hint, what) = match j.source {
                JobSource::File(p) => (
                    p.to_string_lossy().into_owned(),
                    std::fs::metadata(&p).map_or(0, |m| m.len()),
                    What::File(p),
                ),
                JobSource::Memory(b) => (format!("#{}", j.index), b.len() as u64, What::Memory(b)),
            };
            Item {
                shown,
                size_hint,
                index: Some(j.index),
                what,
                target: j.target,
            }
        })
        .collect();
    let total: u64 = items.iter().map(|i| i.size_hint).sum();
    run_call(client, policy, opts, progress, on_file, cancel, move |_| {
        let known = tokio::task::spawn_blocking(move || total);
        (Feed::Jobs(items.into_iter()), Some(known))
    })
}
