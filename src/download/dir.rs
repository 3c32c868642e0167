//! A remote folder to a local folder: the tree is listed as a stream
//! (`lister.rs`), local folders are created as they are listed, and every
//! file goes through one scheduler — at most `concurrency` files in
//! progress and `concurrency` requests in flight across all files, ranges
//! and listing pages of the call. Each file's result goes to `Results` as
//! it ends, so the call's memory does not grow with the tree.

use super::file::{self, FileStats, Job, Shared};
use super::lister::{Entry, Found, Lister};
use super::options::{DownloadOptions, Skip};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::manage::normalize_dir;
use crate::remote_file::RemoteFile;
use crate::report::{FileReport, FileStatus};
use crate::results::{OnFile, Results};
use crate::tree::Filters;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What happened to one file.
struct FileResult {
    rel: String,
    outcome: std::result::Result<FileStatus, Error>,
    size: u64,
    md5: String,
    stats: Option<FileStats>,
}

impl FileResult {
    fn failed(rel: String, e: Error) -> FileResult {
        FileResult {
            rel,
            outcome: Err(e),
            size: 0,
            md5: String::new(),
            stats: None,
        }
    }

    fn into_report(self) -> FileReport {
        let mut report = FileReport::new(self.rel, FileStatus::Failed);
        match self.outcome {
            Ok(status) => {
                report.set_status(status);
                report.insert("size", self.size);
                report.insert("md5", self.md5);
            }
            Err(e) => report.fail(e),
        }
        if let Some(s) = &self.stats {
            let mut m = serde_json::Map::new();
            s.add_to(&mut m);
            for (k, v) in m {
                report.insert(&k, v);
            }
        }
        report
    }
}

/// Files listed but not started, at most: with a few pages in flight on
/// top, this bounds what the call holds whatever the size of the tree.
const READY_MAX: usize = 2048;

/// Runs the folder download; `cancel` covers the user's cancel and
/// `fail_fast`. Listing, starting files and collecting their results are
/// one loop on the calling task, so `on_file` runs there.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    client: &Client,
    shared: Arc<Shared>,
    ns: &str,
    remote_dir: &str,
    local_dir: &Path,
    on_file: Option<OnFile<'_>>,
    cancel: &CancellationToken,
    user_cancelled: impl Fn() -> bool,
) -> Result<Value> {
    let opts = &shared.opts;
    crate::manage::dir_rid(ns, "/")?;
    let filter = Filters::new(&opts.include, &opts.exclude)?;
    let root = normalize_dir(remote_dir);
    if root != "/" {
        let exists = client.dir_exists(ns, &root).await?;
        if exists.get("exist").and_then(Value::as_bool) != Some(true) {
            return Err(Error::invalid(format!(
                "`remote_dir` {root} does not exist in namespace {ns:?}"
            )));
        }
    }
    // After the remote check: a refused call creates nothing.
    check_local_dir(local_dir, opts.dry_run)?;
    let mut results = Results::new(&opts.result_options(), on_file)?;
    let mut bytes = 0u64;
    let mut add = |results: &mut Results<'_>, r: FileResult| {
        if opts.fail_fast && r.outcome.is_err() {
            cancel.cancel();
        }
        if matches!(r.outcome, Ok(FileStatus::Downloaded)) {
            bytes += r.size;
        }
        let rel = r.rel.clone();
        results.add((0, rel), r.into_report());
    };
    // Folders holding files are made as their files come; empty ones as
    // they are listed, unless patterns select files (then only their
    // folders).
    let make_empty_folders = !opts.dry_run && opts.include.is_empty() && opts.exclude.is_empty();
    let mut lister = Lister::new(client, &shared.requests, ns, &root, opts.max_files);
    let mut ready: VecDeque<Entry> = VecDeque::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut total = 0u64;
    let mut call_error = None;
    loop {
        while tasks.len() < opts.concurrency as usize && !cancel.is_cancelled() {
            let Some(entry) = ready.pop_front() else {
                break;
            };
            let (shared, cancel) = (shared.clone(), cancel.clone());
            let (local, source_ns) = (local_dir.to_path_buf(), ns.to_string());
            tasks.spawn(async move { one_file(&shared, &source_ns, &local, entry, &cancel).await });
        }
        let listing = !cancel.is_cancelled() && !lister.is_done();
        if !listing && tasks.is_empty() {
            break;
        }
        tokio::select! {
            found = lister.next(), if listing && ready.len() < READY_MAX => match found {
                Some(Ok(found)) => for f in found {
                    match f {
                        Found::File(e) if filter.allows(&e.rel) => {
                            if let Ok(r) = &e.remote {
                                total += r.size;
                                shared.progress.set_total(total);
                            }
                            ready.push_back(e);
                        }
                        Found::File(_) => {}
                        Found::Folder(rel) => {
                            if make_empty_folders {
                                if let Err(e) = make_dirs(local_dir, &rel) {
                                    add(&mut results, FileResult::failed(format!("{rel}/"), e));
                                }
                            }
                        }
                        Found::Failed(rel, e) => add(&mut results, FileResult::failed(rel, e)),
                    }
                },
                Some(Err(e)) => {
                    // The call's error: stop what runs, then answer it.
                    call_error = Some(e);
                    cancel.cancel();
                }
                None => {}
            },
            Some(r) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok(r) = r {
                    add(&mut results, r);
                }
            }
            _ = cancel.cancelled(), if !cancel.is_cancelled() => {}
            // Not reached: with nothing listing and nothing running the
            // loop ended above.
            else => break,
        }
    }
    if let Some(e) = call_error {
        return Err(e);
    }
    let why = if user_cancelled() {
        "not started: the download was cancelled"
    } else {
        "not started: an earlier file failed and `fail_fast` is on"
    };
    for entry in ready {
        add(
            &mut results,
            FileResult::failed(entry.rel, Error::Cancelled(why.into())),
        );
    }
    Ok(summary(results, bytes, opts, user_cancelled()))
}

fn check_local_dir(local_dir: &Path, dry_run: bool) -> Result<()> {
    if local_dir.as_os_str().is_empty() {
        return Err(Error::invalid("`local_dir` is empty; pass a folder path"));
    }
    match std::fs::metadata(local_dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::invalid(format!(
            "`local_dir` {} is not a folder",
            local_dir.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if dry_run {
                return Ok(());
            }
            std::fs::create_dir_all(local_dir).map_err(|e| {
                Error::Io(format!(
                    "cannot create `local_dir` {}: {e}",
                    local_dir.display()
                ))
            })
        }
        Err(e) => Err(Error::Io(format!(
            "cannot use `local_dir` {}: {e}",
            local_dir.display()
        ))),
    }
}

/// Creates `rel` below `base` one folder at a time, refusing anything in
/// the way that is not a real folder — a symbolic link there could send
/// the files outside `base`.
fn make_dirs(base: &Path, rel: &str) -> Result<PathBuf> {
    let mut path = base.to_path_buf();
    for seg in rel.split('/').filter(|s| !s.is_empty()) {
        path.push(seg);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => {
                return Err(Error::Io(format!(
                    "{} is in the way: it is not a folder (a file or a link)",
                    path.display()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::Io(format!("cannot use {}: {e}", path.display()))),
        }
        match std::fs::create_dir(&path) {
            Ok(()) => {}
            // Another file's task created it meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                    return Err(Error::Io(format!("{} is in the way", path.display())));
                }
            }
            Err(e) => return Err(Error::Io(format!("cannot create {}: {e}", path.display()))),
        }
    }
    Ok(path)
}

async fn one_file(
    shared: &Shared,
    ns: &str,
    local_dir: &Path,
    entry: Entry,
    cancel: &CancellationToken,
) -> FileResult {
    let mut result = FileResult {
        rel: entry.rel.clone(),
        outcome: Ok(FileStatus::WouldDownload),
        size: 0,
        md5: String::new(),
        stats: None,
    };
    let remote = match entry.remote {
        Ok(r) => r,
        Err(e) => {
            result.outcome = Err(e);
            return result;
        }
    };
    result.size = remote.size;
    result.md5 = remote.md5.clone();
    let (folder, _) = entry.rel.rsplit_once('/').unwrap_or(("", &entry.rel));
    let local = local_dir.join(&entry.rel);
    result.outcome = async {
        if !shared.opts.dry_run {
            make_dirs(local_dir, folder)?;
        }
        if skip(
            shared.opts.skip,
            shared.opts.dry_run,
            &local,
            &remote,
            cancel,
        )
        .await?
        {
            shared.progress.add(remote.size);
            return Ok(FileStatus::Skipped);
        }
        if shared.opts.dry_run {
            return Ok(FileStatus::WouldDownload);
        }
        let job = Job {
            source: format!(
                "{ns}:{}",
                crate::manage::normalize_dir(&format!("{}/{}", entry.dir, remote.name))
            ),
            remote: remote.clone(),
            local: local.clone(),
        };
        let mut stats = FileStats::default();
        let r = file::download(shared, &job, cancel, &mut stats).await;
        result.stats = Some(stats);
        r.map(|()| FileStatus::Downloaded)
    }
    .await;
    result
}

/// Whether the local file already matches (per `skip`). A folder at the
/// file's place is an error in every mode.
async fn skip(
    mode: Skip,
    dry_run: bool,
    local: &Path,
    remote: &RemoteFile,
    cancel: &CancellationToken,
) -> Result<bool> {
    let meta = match std::fs::symlink_metadata(local) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::Io(format!("cannot check {}: {e}", local.display()))),
    };
    if meta.is_dir() {
        return Err(Error::Io(format!(
            "{} is a folder; the file cannot be written there",
            local.display()
        )));
    }
    if !meta.is_file() || meta.len() != remote.size {
        return Ok(false);
    }
    let recorded = remote.mtime_ms;
    let same_time = recorded.is_some() && crate::mtime::of_local(&meta) == recorded;
    match mode {
        Skip::None => Ok(false),
        Skip::Size => Ok(true),
        Skip::Mtime if same_time => Ok(true),
        Skip::Md5 | Skip::Mtime => {
            let (path, size, stop) = (local.to_path_buf(), remote.size, cancel.clone());
            let md5 = tokio::task::spawn_blocking(move || {
                crate::transfer::source::hash_file(&path, size, &stop)
            })
            .await
            .map_err(|e| Error::Internal(format!("the hashing task failed: {e}")))??;
            let same = md5 == remote.md5;
            // The same bytes under another time: take the recorded one, so
            // the next quick check needs no hashing.
            if let (true, false, Some(ms), false) = (same, same_time, recorded, dry_run) {
                crate::mtime::restore(local, ms)?;
            }
            Ok(same)
        }
    }
}

fn summary(mut results: Results, bytes: u64, opts: &DownloadOptions, cancelled: bool) -> Value {
    let file_error = results.finish_file().err();
    let counts = results.counts();
    let (done, failed) = (
        counts.get(FileStatus::Downloaded),
        counts.get(FileStatus::Failed),
    );
    let mut doc = match (results.first_failure(), &file_error, cancelled) {
        (_, _, true) => crate::result::error(&Error::Cancelled(format!(
            "the download was cancelled: {done} files downloaded, {failed} not"
        ))),
        (None, None, false) => json!({"code": 200, "message": "OK", "request_id": ""}),
        (None, Some(e), false) => crate::result::error(e),
        (Some((rel, e)), _, false) => json!({
            "code": 0,
            "error": "SomeFilesFailed",
            "message": format!("{failed} of {} files failed; first: {rel}: {}{}",
                counts.total(), e.message(),
                file_error.as_ref().map(|f| format!("; {}", f.message())).unwrap_or_default()),
            "request_id": "",
        }),
    };
    let m = doc.as_object_mut().expect("an object");
    use FileStatus::{Downloaded, Failed, Skipped, WouldDownload};
    counts.write(&[Downloaded, Skipped, Failed], m);
    if opts.dry_run {
        counts.write(&[WouldDownload], m);
    }
    m.insert("bytes".into(), bytes.into());
    m.insert("dry_run".into(), opts.dry_run.into());
    m.insert("skip".into(), opts.skip.as_str().into());
    let kept = results.into_kept(m);
    let items = kept
        .iter()
        .filter_map(|t| serde_json::from_str(t).ok())
        .collect();
    m.insert("results".into(), Value::Array(items));
    doc
}
