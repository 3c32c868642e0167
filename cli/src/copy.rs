//! `cp`: local files and folders to the service, remote files and folders
//! to local disk.
//!
//! - local files → remote: the one-call uploader, `wantu::transfer::upload`
//!   (parallel parts, integrity checks, a checkpoint per file), one file at
//!   a time;
//! - local folders → remote (`-r`): the folder engine, `wantu::upload_dir`;
//! - remote files → local: `wantu::download_file`; remote folders (`-r`):
//!   `wantu::download_dir`.
//!
//! A folder is copied INTO the destination folder under its own name
//! (`cp -r photos wantu://ns/backup/` fills `backup/photos/`), so running
//! the same command again lands in the same place; files already there
//! with the same size and MD5 are then skipped, which is how an
//! interrupted `cp -r` goes on where it stopped.

use crate::args::{CpArgs, TransferArgs};
use crate::engines::{self, Way};
use crate::fail::{explain, Fail, Host, Outcome};
use crate::manage::remote;
use crate::options::{download_options, own_policy, transfer_options};
use crate::remote::{is_remote, Remote};
use crate::report::{details, Action, Report};
use crate::stdio;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use wantu::transfer::{CancelToken, Source, TransferOptions};
use wantu::upload::Target;
use wantu::Client;

pub fn cp(client: &Client, report: &mut Report, args: &CpArgs, cancel: &CancelToken) -> Outcome {
    let (dst, srcs) = args.paths.split_last().expect("clap requires two paths");
    if let Some(piped) = through_pipe(client, report, args, srcs, dst, cancel) {
        return piped;
    }
    let remote_srcs = srcs.iter().filter(|s| is_remote(s)).count();
    match (remote_srcs, is_remote(dst)) {
        (0, true) => upload(client, report, args, srcs, &remote(dst)?, cancel)?,
        (n, false) if n == srcs.len() => download(client, report, args, srcs, dst, cancel)?,
        (_, true) if remote_srcs == srcs.len() => {
            return Err(Fail::Usage(
                "remote to remote copies are not supported: use `mv` within a namespace".into(),
            ))
        }
        (0, false) => {
            return Err(Fail::Usage(
                "one side of `cp` must be a remote path (wantu://NAMESPACE/dir/name)".into(),
            ))
        }
        _ => {
            return Err(Fail::Usage(
                "the sources of one `cp` must all be local or all be remote".into(),
            ))
        }
    }
    report.summary();
    match report.failed() {
        0 => Ok(()),
        _ => Err(Fail::Reported),
    }
}

/// `-` as the source (standard input) or the destination (standard
/// output), see stdio.rs; None when neither side is `-`.
fn through_pipe(
    client: &Client,
    report: &mut Report,
    args: &CpArgs,
    srcs: &[String],
    dst: &str,
    cancel: &CancelToken,
) -> Option<Outcome> {
    let dash_src = srcs.iter().any(|s| s == stdio::DASH);
    if !dash_src && dst != stdio::DASH {
        return None;
    }
    let usage = |m: &str| Some(Err(Fail::Usage(m.into())));
    if dash_src && dst == stdio::DASH {
        return usage("`-` cannot be both the source and the destination");
    }
    if args.recursive {
        return usage("`-` is one file: leave out -r");
    }
    if dash_src {
        if srcs.len() > 1 {
            return usage("`-` (standard input) must be the only source");
        }
        if !is_remote(dst) {
            return usage("standard input goes to a stored file: wantu://NAMESPACE/dir/name");
        }
        let run = |report: &mut Report| {
            let opts = transfer_options(&args.transfer, TransferOptions::default())?;
            stdio::cp_from_stdin(client, report, &remote(dst)?, &opts, cancel)
        };
        return Some(run(report));
    }
    if report.mode().json {
        return usage("--json writes to standard output, which `-` gives to the bytes");
    }
    if srcs.iter().any(|s| !is_remote(s)) {
        return usage("standard output takes stored files: wantu://NAMESPACE/dir/name");
    }
    Some(stdio::cp_to_stdout(
        client,
        report,
        srcs,
        &args.transfer,
        cancel,
    ))
}

/// Local files and (with `-r`) folders to the service.
fn upload(
    client: &Client,
    report: &mut Report,
    args: &CpArgs,
    srcs: &[String],
    dst: &Remote,
    cancel: &CancelToken,
) -> Outcome {
    if srcs.len() > 1 && !dst.is_folder() {
        return Err(Fail::Usage(format!(
            "several sources go into a folder: end {dst} with /"
        )));
    }
    let opts = transfer_options(&args.transfer, TransferOptions::default())?;
    let is_dir = |s: &String| std::fs::metadata(s).is_ok_and(|m| m.is_dir());
    let (folders, files): (Vec<String>, Vec<String>) = match args.recursive {
        true => srcs.iter().cloned().partition(is_dir),
        false => (Vec::new(), srcs.to_vec()),
    };
    if !files.is_empty() {
        let checkpoints = prepare_checkpoint_dir(checkpoint_dir(&args.transfer), report);
        upload_files(client, report, &files, dst, &opts, checkpoints, cancel)?;
    }
    for src in &folders {
        if cancel.is_triggered() {
            report.file(src, Action::Failed, Some("interrupted"), empty());
            continue;
        }
        let into = dst
            .as_folder()
            .subfolder(&local_folder_name(Path::new(src)));
        let (path, t) = (Path::new(src), &args.transfer);
        let skip = wantu::tree::Skip::Md5;
        let outcome = engines::upload_folder(client, report, path, &into, t, skip, false, cancel);
        failed_line(report, src, outcome)?;
    }
    Ok(())
}

/// A whole-source failure (a folder that cannot be read…) is one failed
/// line and the other sources go on; configuration errors stop everything.
fn failed_line(report: &mut Report, src: &str, outcome: Outcome) -> Outcome {
    match outcome {
        Err(Fail::Failed(m)) => {
            report.file(src, Action::Failed, Some(&m), empty());
            Ok(())
        }
        other => other,
    }
}

fn empty() -> Value {
    Value::Object(Map::new())
}

/// The name a folder is copied under: its last component (`photos/` and
/// `./photos` give `photos`; `.` gives the current folder's name).
fn local_folder_name(path: &Path) -> String {
    let name = match path.file_name() {
        Some(n) => Some(n.to_owned()),
        None => std::fs::canonicalize(path)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_owned())),
    };
    name.map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into())
}

/// Remote files and (with `-r`) folders to local disk.
fn download(
    client: &Client,
    report: &mut Report,
    args: &CpArgs,
    srcs: &[String],
    dst: &str,
    cancel: &CancelToken,
) -> Outcome {
    let remotes = srcs
        .iter()
        .map(|s| remote(s))
        .collect::<Outcome<Vec<_>>>()?;
    let dst_path = PathBuf::from(dst);
    let dst_is_dir = dst_path.is_dir();
    if dst.ends_with('/') && !dst_is_dir {
        std::fs::create_dir_all(&dst_path)
            .map_err(|e| Fail::Failed(format!("cannot create local folder {dst}: {e}")))?;
    }
    let into_folder = dst_is_dir || dst.ends_with('/');
    if remotes.len() > 1 && !into_folder {
        return Err(Fail::Usage(format!(
            "several sources go into a folder: {dst} is not one (end it with / to create it)"
        )));
    }
    let opts = download_options(&args.transfer)?;
    report.start_progress(Some(remotes.len() as u64), 0);
    let mut base = 0;
    for r in &remotes {
        let shown = r.to_string();
        if cancel.is_triggered() {
            report.file(&shown, Action::Failed, Some("interrupted"), empty());
            continue;
        }
        let is_folder = r.is_folder() || (args.recursive && remote_folder_exists(client, r)?);
        let outcome = match (is_folder, args.recursive) {
            (true, false) => Err(Fail::Failed(format!(
                "{} is a folder; use `cp -r` to copy a folder with its contents",
                r.as_folder()
            ))),
            (true, true) => {
                let folder = r.as_folder();
                let local = dst_path.join(remote_folder_name(&folder));
                let t = &args.transfer;
                let skip = wantu::tree::Skip::Md5;
                engines::download_folder(client, report, &folder, &local, t, skip, false, cancel)
            }
            (false, _) => {
                let name = r.name.as_deref().unwrap_or_default();
                let local = match into_folder {
                    true => dst_path.join(name),
                    false => dst_path.clone(),
                };
                download_one(client, report, r, &local, &opts, &mut base, cancel)
            }
        };
        failed_line(report, &shown, outcome)?;
    }
    Ok(())
}

fn remote_folder_exists(client: &Client, r: &Remote) -> Outcome<bool> {
    let folder = r.as_folder();
    let answer = client
        .run(client.dir_exists(&folder.namespace, &folder.dir))
        .and_then(|x| x)
        .map_err(|e| explain(&e, client, Host::Manage))?;
    Ok(answer["exist"].as_bool() == Some(true))
}

/// The name a remote folder is copied under: its last segment, or the
/// namespace for its root.
fn remote_folder_name(folder: &Remote) -> String {
    match folder.dir.rsplit('/').next() {
        Some(last) if !last.is_empty() => last.to_string(),
        _ => folder.namespace.clone(),
    }
}

/// One remote file to `local`; `base` counts the bytes of earlier files
/// for the overall bar.
fn download_one(
    client: &Client,
    report: &mut Report,
    r: &Remote,
    local: &Path,
    opts: &wantu::DownloadOptions,
    base: &mut u64,
    cancel: &CancelToken,
) -> Outcome {
    let shown = r.to_string();
    let bars = report.bars();
    if let Some(b) = bars {
        b.file_start(&shown, 0);
    }
    let start = *base;
    let mut on_progress = |done: u64, total: Option<u64>| {
        if let Some(b) = bars {
            b.file_sized(start, total);
            b.file_progress(start, done);
        }
        !cancel.is_triggered()
    };
    let name = r.name.as_deref().unwrap_or_default();
    let doc = wantu::download_file(
        client,
        &r.namespace,
        &r.dir,
        name,
        local,
        opts.clone(),
        Some(&mut on_progress),
        Some(cancel),
    );
    let mut fields = details(
        &local.display().to_string(),
        doc["size"].as_u64().unwrap_or(0),
    );
    for key in ["md5", "parts", "resumed_parts"] {
        if let Some(v) = doc.get(key) {
            fields[key] = v.clone();
        }
    }
    if doc["code"] == 200 {
        *base += doc["size"].as_u64().unwrap_or(0);
        report.file(&shown, Action::Downloaded, None, fields);
        return Ok(());
    }
    match engines::doc_error(&doc, client, Way::Down) {
        Fail::Config(m) => Err(Fail::Config(m)),
        other => {
            report.file(&shown, Action::Failed, Some(&other.to_string()), fields);
            Ok(())
        }
    }
}

/// Where checkpoints go: `--checkpoint-dir`, else the user's cache folder.
fn checkpoint_dir(args: &TransferArgs) -> Option<PathBuf> {
    if let Some(d) = &args.checkpoint_dir {
        return Some(d.clone());
    }
    let cache = crate::settings::env("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| crate::settings::env("HOME").map(|h| Path::new(&h).join(".cache")))?;
    Some(cache.join("wantu").join("checkpoints"))
}

/// The checkpoint file of one upload: named by the local file and the
/// destination, so the same command finds it again.
fn checkpoint_for(dir: &Path, local: &Path, dst: &Remote) -> PathBuf {
    let full = std::fs::canonicalize(local).unwrap_or_else(|_| local.to_path_buf());
    let key = format!("{}\n{dst}", full.display());
    dir.join(format!("{}.json", wantu::auth::md5_hex(key.as_bytes())))
}

/// Uploads local files one by one with the one-call uploader.
fn upload_files(
    client: &Client,
    report: &mut Report,
    srcs: &[String],
    dst: &Remote,
    opts: &TransferOptions,
    checkpoints: Option<PathBuf>,
    cancel: &CancelToken,
) -> Outcome {
    // Check every source first: a missing file is named before anything
    // is sent, and the bars know the total.
    let mut jobs = Vec::new();
    for src in srcs {
        let path = PathBuf::from(src);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => report.file(
                src,
                Action::Failed,
                Some(&format!(
                    "{src} is a folder; use `cp -r` to copy a folder with its contents"
                )),
                Value::Object(Default::default()),
            ),
            Ok(m) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let to = match &dst.name {
                    Some(_) => dst.clone(),
                    None => dst.file(&name),
                };
                jobs.push((src, path, to, m.len(), m.is_file()));
            }
            Err(e) => report.file(
                src,
                Action::Failed,
                Some(&format!("cannot read local file {src}: {e}")),
                Value::Object(Default::default()),
            ),
        }
    }
    let total: u64 = jobs.iter().map(|j| j.3).sum();
    report.start_progress(Some(jobs.len() as u64), total);
    let mut base = 0;
    for (src, path, to, size, regular) in jobs {
        if cancel.is_triggered() {
            report.file(
                src,
                Action::Failed,
                Some("interrupted"),
                Value::Object(Default::default()),
            );
            continue;
        }
        let mut file_opts = opts.clone();
        // A FIFO or device is streamed: it cannot be read again to resume.
        file_opts.checkpoint_path = checkpoints
            .as_deref()
            .filter(|_| regular)
            .map(|d| checkpoint_for(d, &path, &to));
        upload_one(
            client, report, src, &path, &to, size, base, &file_opts, cancel,
        )?;
        base += size;
    }
    Ok(())
}

/// The checkpoint folder, created (mode 0700); without one uploads are
/// not resumable, which is said once rather than failing them.
fn prepare_checkpoint_dir(dir: Option<PathBuf>, report: &Report) -> Option<PathBuf> {
    let dir = dir?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(&dir) {
        Ok(()) => Some(dir),
        Err(e) => {
            report.stderr(&format!(
                "wantu: cannot create checkpoint folder {}: {e}; uploads will not be resumable",
                dir.display()
            ));
            None
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn upload_one(
    client: &Client,
    report: &mut Report,
    src: &str,
    path: &Path,
    to: &Remote,
    size: u64,
    base: u64,
    opts: &TransferOptions,
    cancel: &CancelToken,
) -> Outcome {
    let policy = own_policy(&to.namespace)?;
    let target = Target {
        dir: Some(to.dir.clone()),
        name: to.name.clone(),
        ..Target::default()
    };
    if let Some(b) = report.bars() {
        b.file_start(src, size);
    }
    let bars = report.bars();
    let mut on_progress = |sent: u64, _total: Option<u64>| {
        if let Some(b) = bars {
            b.file_progress(base, sent);
        }
        !cancel.is_triggered()
    };
    let outcome = wantu::transfer::upload(
        client,
        &policy,
        &target,
        Source::File(path.to_path_buf()),
        opts,
        Some(&mut on_progress),
        Some(cancel),
    );
    let json = outcome.to_json();
    let mut fields = details(&to.to_string(), size);
    for key in [
        "md5",
        "multipart",
        "parts",
        "resumed_parts",
        "id",
        "upload_id",
    ] {
        if let Some(v) = json.get(key) {
            fields[key] = v.clone();
        }
    }
    match &outcome.result {
        Ok(_) => report.file(src, Action::Uploaded, None, fields),
        Err(e) => match explain(e, client, Host::Upload) {
            // Refused keys fail every file alike: stop at the first.
            Fail::Config(m) => return Err(Fail::Config(m)),
            other => report.file(src, Action::Failed, Some(&other.to_string()), fields),
        },
    }
    Ok(())
}
