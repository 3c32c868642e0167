//! `cp` and `sync`. Each direction is served by one engine of the library:
//!
//! - local files → remote: the one-call uploader, `wantu::transfer::upload`
//!   (parallel parts, integrity checks, checkpoints), one file at a time;
//! - local folder → remote (`cp -r`, `sync` up) and remote → local (`cp`,
//!   `sync` down): the folder and download engines of the issue "Many files
//!   both ways". They are not in the library yet, so these directions answer
//!   "not yet available" (exit 2) instead of a second engine of our own;
//!   `upload_tree` and `download` are where they plug in.

use crate::args::{CpArgs, SyncArgs, TransferArgs};
use crate::fail::{explain, Fail, Host, Outcome};
use crate::manage::{now_ms, remote};
use crate::remote::{is_remote, Remote};
use crate::report::{details, Action, Report};
use serde_json::Value;
use std::path::{Path, PathBuf};
use wantu::policy::Policy;
use wantu::transfer::{CancelToken, Source, TransferOptions};
use wantu::upload::Target;
use wantu::Client;

/// How long the upload tokens the tool makes for itself stay valid.
const OWN_TOKEN_LIFETIME_MS: i64 = 24 * 3600 * 1000;

pub fn cp(client: &Client, report: &mut Report, args: &CpArgs, cancel: &CancelToken) -> Outcome {
    let (dst, srcs) = args.paths.split_last().expect("clap requires two paths");
    let remote_srcs = srcs.iter().filter(|s| is_remote(s)).count();
    match (remote_srcs, is_remote(dst)) {
        (0, true) => {
            let dst = remote(dst)?;
            if srcs.len() > 1 && !dst.is_folder() {
                return Err(Fail::Usage(format!(
                    "several sources go into a folder: end {dst} with /"
                )));
            }
            let opts = transfer_options(&args.transfer)?;
            if args.recursive {
                return upload_tree(client, report, srcs, &dst, &opts);
            }
            let checkpoints = prepare_checkpoint_dir(checkpoint_dir(&args.transfer), report);
            upload_files(client, report, srcs, &dst, &opts, checkpoints, cancel)
        }
        (n, false) if n == srcs.len() => {
            for s in srcs {
                remote(s)?;
            }
            download(client, report)
        }
        (_, true) if remote_srcs == srcs.len() => Err(Fail::Usage(
            "remote to remote copies are not supported: use `mv` within a namespace".into(),
        )),
        (0, false) => Err(Fail::Usage(
            "one side of `cp` must be a remote path (wantu://NAMESPACE/dir/name)".into(),
        )),
        _ => Err(Fail::Usage(
            "the sources of one `cp` must all be local or all be remote".into(),
        )),
    }
}

pub fn sync(_client: &Client, _report: &mut Report, args: &SyncArgs) -> Outcome {
    match (is_remote(&args.src), is_remote(&args.dst)) {
        (false, true) => remote(&args.dst).map(|_| ()),
        (true, false) => remote(&args.src).map(|_| ()),
        _ => Err(Fail::Usage(
            "`sync` goes between a local folder and a remote one (wantu://NAMESPACE/dir/)".into(),
        )),
    }?;
    transfer_options(&args.transfer)?;
    Err(not_yet("`sync`"))
}

/// The folder engine's entry point (`cp -r` up).
fn upload_tree(
    _client: &Client,
    _report: &mut Report,
    _srcs: &[String],
    _dst: &Remote,
    _opts: &TransferOptions,
) -> Outcome {
    Err(not_yet("`cp -r`"))
}

/// The download engine's entry point (remote → local `cp`).
fn download(_client: &Client, _report: &mut Report) -> Outcome {
    Err(not_yet("copying from the service to local files"))
}

fn not_yet(what: &str) -> Fail {
    Fail::Usage(format!(
        "{what} is not yet available in this version of wantu: it needs the library's folder \
         and download engine, which is still being built; upload single files with \
         `wantu cp FILE wantu://NAMESPACE/dir/`"
    ))
}

/// The uploader's options from the command line.
pub fn transfer_options(args: &TransferArgs) -> Outcome<TransferOptions> {
    let mut opts = TransferOptions::default();
    if let Some(c) = args.concurrency {
        opts.concurrency = c;
    }
    if let Some(ps) = &args.part_size {
        opts.part_size = Some(parse_size(ps)?);
    }
    opts.integrity = !args.no_integrity;
    opts.validate().map_err(|e| {
        Fail::Usage(
            e.message()
                .replace("option `part_size`", "--part-size")
                .replace("option `concurrency`", "--concurrency"),
        )
    })?;
    Ok(opts)
}

/// `1048576`, `512KiB`, `8MiB`, `8M`, `1GiB` → bytes.
pub fn parse_size(text: &str) -> Outcome<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => 0,
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            Fail::Usage(format!(
                "--part-size {text:?} is not a size: give bytes or a number with KiB, MiB or GiB"
            ))
        })
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
                jobs.push((src, path, to, m.len()));
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
    report.start_progress(jobs.len() as u64, total);
    let mut base = 0;
    for (src, path, to, size) in jobs {
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
        file_opts.checkpoint_path = checkpoints
            .as_deref()
            .map(|d| checkpoint_for(d, &path, &to));
        upload_one(
            client, report, src, &path, &to, size, base, &file_opts, cancel,
        )?;
        base += size;
    }
    report.summary();
    match report.failed() {
        0 => Ok(()),
        _ => Err(Fail::Reported),
    }
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
    let policy_text = serde_json::json!({
        "namespace": to.namespace,
        "expiration": now_ms() + OWN_TOKEN_LIFETIME_MS,
    })
    .to_string();
    let policy = Policy::parse(&policy_text).map_err(|e| Fail::Usage(e.message().into()))?;
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
