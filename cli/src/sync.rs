//! `sync SRC DST`: makes a destination folder match a source folder, in
//! either direction. What to send is decided by the folder engines (size,
//! then MD5: a second run sends nothing); `--delete` then removes what the
//! destination has and the source lacks (`plan`), after the transfers so
//! that an interrupted sync never deleted anything it did not replace.

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
use wantu::tree::Filters;
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
    match way {
        Way::Up => engines::upload_folder(client, report, &local, &folder, t, true, dry, cancel)?,
        Way::Down => engines::download_folder(client, report, &folder, &local, t, dry, cancel)?,
    }
    if args.delete {
        if cancel.is_triggered() {
            report.stderr("wantu: interrupted; nothing was deleted");
        } else {
            let keep = crate::options::filters(&args.transfer)?;
            delete_extras(client, report, way, &local, &folder, &keep, args.dry_run)?;
        }
    }
    report.summary();
    match report.failed() {
        0 => Ok(()),
        _ => Err(Fail::Reported),
    }
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

/// Deletes (or, with `dry_run`, reports) the destination's extras. Files
/// that `--include`/`--exclude` leave out are not part of the sync: they are
/// never deleted, nor the folders that hold them.
fn delete_extras(
    client: &Client,
    report: &mut Report,
    way: Way,
    local: &Path,
    folder: &Remote,
    filters: &Filters,
    dry_run: bool,
) -> Outcome {
    let remote_tree = plan::remote_tree(client, folder)?;
    let local_tree = plan::local_tree(local, &engine_temp)?;
    let (src, dst) = match way {
        Way::Up => (&local_tree, &remote_tree),
        Way::Down => (&remote_tree, &local_tree),
    };
    let Extras { files, folders } = plan::extras(src, dst, &|rel| filters.allows(rel));
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
