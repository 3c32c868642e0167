//! A remote folder to a local folder: the tree is listed, local folders
//! are created, and every file goes through one scheduler — at most
//! `concurrency` files in progress and `concurrency` requests in flight
//! across all files, ranges and listing pages of the call.

use super::file::{self, FileStats, Job, Shared};
use super::options::{DownloadOptions, Skip};
use super::plan::{self, Entry};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::manage::normalize_dir;
use crate::remote_file::RemoteFile;
use crate::report::{Counts, FileReport, FileStatus};
use crate::tree::Filters;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// What happened to one file.
struct FileResult {
    rel: String,
    outcome: std::result::Result<FileStatus, Error>,
    size: u64,
    md5: String,
    stats: Option<FileStats>,
}

/// Runs the folder download; `cancel` covers the user's cancel and
/// `fail_fast`.
pub async fn run(
    client: &Client,
    shared: Arc<Shared>,
    ns: &str,
    remote_dir: &str,
    local_dir: &Path,
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
    let tree = tokio::select! {
        _ = cancel.cancelled() => return Err(Error::Cancelled("the download was cancelled".into())),
        t = plan::walk(client, &shared.requests, ns, &root, opts.max_files) => t?,
    };
    let mut results: Vec<FileResult> = Vec::new();
    for (rel, err) in tree.refused_folders {
        results.push(FileResult {
            rel: format!("{rel}/"),
            outcome: Err(err),
            size: 0,
            md5: String::new(),
            stats: None,
        });
    }
    let entries: Vec<Entry> = tree
        .files
        .into_iter()
        .filter(|e| filter.allows(&e.rel))
        .collect();
    let total: u64 = entries
        .iter()
        .filter_map(|e| e.remote.as_ref().ok())
        .map(|r| r.size)
        .sum();
    shared.progress.set_total(total);
    // Folders holding files are made as their files come; empty ones are
    // made here, unless patterns select files (then only their folders).
    if !opts.dry_run && opts.include.is_empty() && opts.exclude.is_empty() {
        for folder in &tree.folders {
            if let Err(e) = make_dirs(local_dir, folder) {
                results.push(FileResult {
                    rel: format!("{folder}/"),
                    outcome: Err(e),
                    size: 0,
                    md5: String::new(),
                    stats: None,
                });
            }
        }
    }

    // One file slot per request permit: files in progress stay bounded
    // (open files, tasks) whatever the size of the tree.
    let slots = Arc::new(Semaphore::new(opts.concurrency as usize));
    let mut tasks = tokio::task::JoinSet::new();
    let mut not_started = Vec::new();
    let mut entries = entries.into_iter();
    let collect = |r: std::result::Result<FileResult, tokio::task::JoinError>,
                   results: &mut Vec<FileResult>| {
        if let Ok(r) = r {
            if opts.fail_fast && r.outcome.is_err() {
                cancel.cancel();
            }
            results.push(r);
        }
    };
    for entry in entries.by_ref() {
        let slot = tokio::select! {
            _ = cancel.cancelled() => { not_started.push(entry); break; }
            s = slots.clone().acquire_owned() => s.map_err(|_| Error::Internal("slots closed".into()))?,
        };
        while let Some(r) = tasks.try_join_next() {
            collect(r, &mut results);
        }
        if cancel.is_cancelled() {
            not_started.push(entry);
            break;
        }
        let shared = shared.clone();
        let cancel = cancel.clone();
        let local = local_dir.to_path_buf();
        let source_ns = ns.to_string();
        tasks.spawn(async move {
            let r = one_file(&shared, &source_ns, &local, entry, &cancel).await;
            drop(slot);
            r
        });
    }
    not_started.extend(entries);
    while let Some(r) = tasks.join_next().await {
        collect(r, &mut results);
    }
    for entry in not_started {
        let why = if user_cancelled() {
            "not started: the download was cancelled"
        } else {
            "not started: an earlier file failed and `fail_fast` is on"
        };
        results.push(FileResult {
            rel: entry.rel,
            outcome: Err(Error::Cancelled(why.into())),
            size: 0,
            md5: String::new(),
            stats: None,
        });
    }
    Ok(summary(results, opts, user_cancelled()))
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

fn summary(mut results: Vec<FileResult>, opts: &DownloadOptions, cancelled: bool) -> Value {
    results.sort_by(|a, b| a.rel.cmp(&b.rel));
    let mut counts = Counts::default();
    let mut bytes = 0u64;
    let mut first_failure: Option<(String, Error)> = None;
    let items: Vec<Value> = results
        .into_iter()
        .map(|r| {
            let mut report = FileReport::new(r.rel.clone(), FileStatus::Failed);
            match r.outcome {
                Ok(status) => {
                    report.set_status(status);
                    report.insert("size", r.size);
                    report.insert("md5", r.md5);
                    if status == FileStatus::Downloaded {
                        bytes += r.size;
                    }
                }
                Err(e) => {
                    first_failure.get_or_insert_with(|| (r.rel.clone(), e.clone()));
                    report.fail(e);
                }
            }
            counts.add(report.status());
            let mut m = report.into_json();
            if let Some(s) = &r.stats {
                s.add_to(&mut m);
            }
            Value::Object(m)
        })
        .collect();
    let (done, failed) = (
        counts.get(FileStatus::Downloaded),
        counts.get(FileStatus::Failed),
    );
    let mut doc = match (&first_failure, cancelled) {
        (_, true) => crate::result::error(&Error::Cancelled(format!(
            "the download was cancelled: {done} files downloaded, {failed} not"
        ))),
        (None, false) => json!({"code": 200, "message": "OK", "request_id": ""}),
        (Some((rel, e)), false) => json!({
            "code": 0,
            "error": "SomeFilesFailed",
            "message": format!("{failed} of {} files failed; first: {rel}: {}",
                counts.total(), e.message()),
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
    m.insert("results".into(), Value::Array(items));
    doc
}
