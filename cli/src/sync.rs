//! `sync SRC DST`: makes a destination folder match a source folder, in
//! either direction. What to send is decided by the folder engines (by
//! default size and the recorded modification time, else MD5; `--size-only`
//! and `--checksum` choose: a second run sends nothing); `--delete` then removes what the
//! destination has and the source lacks (`plan`), after the transfers so
//! that an interrupted sync never deleted anything it did not replace.
//!
//! Deleting is the one step that cannot be undone, so it is all or
//! nothing: after any failure (a file that could not be read, listed or
//! sent, an interrupt) a file missing from the source may only be missing
//! from what was seen, and nothing is deleted; `--max-delete N` refuses
//! the whole phase when more would go, rather than stopping half-way.

use crate::args::SyncArgs;
use crate::engines::{self, Way};
use crate::fail::{explain, Fail, Host, Outcome};
use crate::manage::remote;
use crate::plan::{self, Extras};
use crate::remote::{is_remote, join_dir, Remote};
use crate::report::{Action, Report};
use serde_json::json;
use std::path::{Path, PathBuf};
use wantu::transfer::CancelToken;
use wantu::tree::{Filters, Skip};
use wantu::Client;

pub fn sync(
    client: &Client,
    report: &mut Report,
    args: &SyncArgs,
    cancel: &CancelToken,
) -> Outcome {
    let (way, local, folder) = match (is_remote(&args.src), is_remote(&args.dst)) {
        (false, true) => (Way::Up, &args.src, remote(&args.dst)?),
        (true, false) => (Way::Down, &args.dst, remote(&args.src)?),
        _ => {
            return Err(Fail::Usage(
                "`sync` goes between a local folder and a remote one (wantu://NAMESPACE/dir/)"
                    .into(),
            ))
        }
    };
    let folder = folder.as_folder();
    let local = PathBuf::from(local);
    if way == Way::Up {
        check_local_folder(&local)?;
    }
    let (t, dry) = (&args.transfer, args.dry_run);
    let skip = match (args.size_only, args.checksum) {
        (true, _) => Skip::Size,
        (_, true) => Skip::Md5,
        _ => Skip::Mtime,
    };
    match way {
        Way::Up => engines::upload_folder(client, report, &local, &folder, t, skip, dry, cancel)?,
        Way::Down => {
            engines::download_folder(client, report, &folder, &local, t, skip, dry, cancel)?
        }
    }
    let mut refused = false;
    if args.delete {
        if cancel.is_triggered() {
            report.stderr("wantu: interrupted; nothing was deleted");
        } else if report.failed() > 0 {
            report.stderr(&format!(
                "wantu: {} failed, and what could not be read may be missing from the \
                 comparison; nothing was deleted (fix the failures and sync again)",
                plural(report.failed(), "file")
            ));
        } else {
            let keep = crate::options::filters(&args.transfer)?;
            let extras =
                plan_extras(client, way, &local, &folder, &keep).map_err(nothing_deleted)?;
            match too_many(&extras, args.max_delete) {
                Some(message) => {
                    report.stderr(&message);
                    refused = true;
                }
                None => delete_extras(client, report, way, &local, &folder, &extras, dry)?,
            }
        }
    }
    report.summary();
    match (report.failed(), refused) {
        (0, false) => Ok(()),
        _ => Err(Fail::Reported),
    }
}

fn plural(n: u64, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        _ => format!("{n} {what}s"),
    }
}

/// A failure while listing what to delete is said to have deleted nothing.
fn nothing_deleted(fail: Fail) -> Fail {
    match fail {
        Fail::Failed(m) => Fail::Failed(format!("{m}; nothing was deleted")),
        other => other,
    }
}

/// The refusal when more than `--max-delete` would be deleted.
fn too_many(extras: &Extras, max: Option<u64>) -> Option<String> {
    let count = (extras.files.len() + extras.folders.len()) as u64;
    let max = max?;
    (count > max).then(|| {
        format!(
            "wantu: {count} files and folders would be deleted, more than --max-delete {max}; \
             nothing was deleted (check the source, or raise --max-delete)"
        )
    })
}

/// The source of an upward sync must be an existing folder; the message
/// names the path.
fn check_local_folder(local: &Path) -> Outcome {
    match std::fs::metadata(local) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Fail::Usage(format!(
            "{} is not a folder; `sync` goes between folders (use `cp` for a file)",
            local.display()
        ))),
        Err(e) => Err(Fail::Failed(format!(
            "cannot read local folder {}: {e}",
            local.display()
        ))),
    }
}

/// The download engine's temporary files (`.NAME.wantu-part`, and its
/// `.json` sidecar) are its own, not part of the destination: never
/// deleted, never compared.
fn engine_temp(name: &str) -> bool {
    name.starts_with('.') && (name.ends_with(".wantu-part") || name.ends_with(".wantu-part.json"))
}

/// The destination's extras. Files that `--include`/`--exclude` leave out
/// are not part of the sync: they are never deleted, nor the folders that
/// hold them.
fn plan_extras(
    client: &Client,
    way: Way,
    local: &Path,
    folder: &Remote,
    filters: &Filters,
) -> Outcome<Extras> {
    let remote = plan::RemoteSide::new(client, folder)?;
    let local = plan::LocalSide {
        root: local,
        skip: &engine_temp,
    };
    local.check()?;
    let (src, dst): (&dyn plan::Side, &dyn plan::Side) = match way {
        Way::Up => (&local, &remote),
        Way::Down => (&remote, &local),
    };
    plan::extras(src, dst, &|rel| filters.allows(rel))
}

/// Deletes (or, with `dry_run`, reports) the destination's extras.
fn delete_extras(
    client: &Client,
    report: &mut Report,
    way: Way,
    local: &Path,
    folder: &Remote,
    extras: &Extras,
    dry_run: bool,
) -> Outcome {
    let Extras { files, folders } = extras;
    let folder_paths = folders.iter().map(|f| (f, true));
    for (rel, is_folder) in files.iter().map(|f| (f, false)).chain(folder_paths) {
        let shown = match way {
            Way::Up if is_folder => format!("{folder}{rel}/"),
            Way::Up => format!("{folder}{rel}"),
            Way::Down => local.join(rel).display().to_string(),
        };
        if dry_run {
            report.file(&shown, Action::WouldDelete, None, json!({}));
            continue;
        }
        let done = match way {
            Way::Up => delete_remote(client, folder, rel, is_folder),
            Way::Down => delete_local(&local.join(rel), is_folder),
        };
        match done {
            Ok(()) => report.file(&shown, Action::Deleted, None, json!({})),
            Err(Fail::Failed(m)) => report.file(&shown, Action::Failed, Some(&m), json!({})),
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

fn delete_remote(client: &Client, root: &Remote, rel: &str, is_folder: bool) -> Outcome {
    let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let dir = match parent {
        "" => root.dir.clone(),
        p => join_dir(&root.dir, p),
    };
    let answer = match is_folder {
        true => client.run(client.dir_delete(&root.namespace, &join_dir(&dir, name))),
        false => client.run(client.file_delete(&root.namespace, &dir, name)),
    }
    .and_then(|r| r);
    match answer {
        Ok(_) => Ok(()),
        // The service drops a folder once it is emptied.
        Err(e) if is_folder && e.name() == "DirNotExist" => Ok(()),
        Err(e) => Err(explain(&e, client, Host::Manage)),
    }
}

/// Removes a local file (a link itself, never its target) or an emptied
/// folder.
fn delete_local(path: &Path, is_folder: bool) -> Outcome {
    let done = match is_folder {
        true => std::fs::remove_dir(path),
        false => std::fs::remove_file(path),
    };
    done.map_err(|e| Fail::Failed(format!("cannot delete {}: {e}", path.display())))
}
