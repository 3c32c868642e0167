//! What a folder download will fetch: the remote tree listed recursively
//! (pages and folders in parallel, within the call's request limit), each
//! remote name checked before it becomes a local path. (`include` and
//! `exclude` are `crate::tree::Filters`, shared with folder uploads.)
//!
//! Remote names are untrusted input. A name is refused (for that file or
//! folder only) when it could step outside `local_dir` or mean something
//! else locally: empty, `.`, `..`, or holding `/`, `\` or NUL; on Windows
//! also what Windows reads as something else (`windows_problem`).

use crate::client::Client;
use crate::error::{Error, Result};
use crate::manage::{normalize_dir, Listing};
use crate::remote_file::RemoteFile;
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;
use tokio::sync::Semaphore;

/// Items per listing page (the service's largest).
const PAGE: i64 = 100;

/// One file found under the remote folder.
#[derive(Debug)]
pub struct Entry {
    /// Path below the remote folder, `/`-separated (`a/b/c.jpg`).
    pub rel: String,
    /// The remote folder holding it (normalised, as listed).
    pub dir: String,
    /// The file's metadata, or why it cannot be downloaded.
    pub remote: Result<RemoteFile>,
}

/// The listing of a remote tree.
#[derive(Debug, Default)]
pub struct Tree {
    pub files: Vec<Entry>,
    /// Every folder below the root, relative (`a`, `a/b`), including
    /// empty ones: they are created locally too.
    pub folders: Vec<String>,
    /// Folders whose names were refused, with the reason.
    pub refused_folders: Vec<(String, Error)>,
}

/// Checks one remote name before it becomes part of a local path.
pub fn safe_segment(name: &str) -> Result<&str> {
    let bad = |why: &str| {
        Err(Error::invalid(format!(
            "remote name {name:?} {why}; it was not written to disk"
        )))
    };
    match name {
        "" => bad("is empty"),
        "." | ".." => bad("would leave the local folder"),
        n if n.contains('/') || n.contains('\\') => bad("contains a path separator"),
        n if n.contains('\0') => bad("contains a NUL byte"),
        n => match windows_problem(n) {
            Some(why) if cfg!(windows) => bad(why),
            _ => Ok(n),
        },
    }
}

/// Why Windows cannot hold `name` as a file or folder of that name, if it
/// cannot. A `:` makes `C:x` a drive-relative path, which `Path::join`
/// puts outside the local folder altogether, and `a:b` a stream of `a`;
/// `CON`, `NUL` and the other devices (with any extension) are not files;
/// `<>"|?*` and control characters are invalid; a trailing dot or space is
/// dropped, so the file would be stored under another name (and could
/// overwrite that one). Checked on every platform by the tests, applied on
/// Windows only: these are ordinary names on Unix.
pub fn windows_problem(name: &str) -> Option<&'static str> {
    const DEVICES: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    if name.contains(':') {
        return Some("contains `:`, which Windows reads as a drive or a stream");
    }
    if name
        .chars()
        .any(|c| matches!(c, '<' | '>' | '"' | '|' | '?' | '*') || c < ' ')
    {
        return Some(
            "contains a character Windows does not allow in names (<>\"|?* or a control character)",
        );
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Some("ends in a dot or space, which Windows drops");
    }
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    if DEVICES.iter().any(|d| d.eq_ignore_ascii_case(stem)) {
        return Some("is a device name on Windows");
    }
    None
}

/// Lists every file and folder under `root` (normalised), at most
/// `max_items` entries in all.
pub async fn walk(
    client: &Client,
    requests: &Semaphore,
    ns: &str,
    root: &str,
    max_items: u64,
) -> Result<Tree> {
    let root = normalize_dir(root);
    let mut tree = Tree::default();
    let mut pending = FuturesUnordered::new();
    let list = |rel: String| {
        let dir = join_remote(&root, &rel);
        async move {
            let files = list_all(client, requests, Listing::Files, ns, &dir);
            let folders = list_all(client, requests, Listing::Folders, ns, &dir);
            let (files, folders) = futures_util::future::join(files, folders).await;
            (rel, dir, files, folders)
        }
    };
    pending.push(list(String::new()));
    let mut count = 0u64;
    while let Some((rel, dir, files, folders)) = pending.next().await {
        let (files, folders) = (files?, folders?);
        count += (files.len() + folders.len()) as u64;
        if count > max_items {
            return Err(Error::invalid(format!(
                "remote folder {root} holds more than {max_items} files and folders (option \
                 `max_files`); raise it or download a smaller folder"
            )));
        }
        for item in files {
            let name = item.get("name").and_then(Value::as_str).unwrap_or("");
            let rel_path = join_rel(&rel, name);
            let remote = safe_segment(name)
                .and_then(|_| RemoteFile::from_object(&item, &join_remote(&dir, name)));
            tree.files.push(Entry {
                rel: rel_path,
                dir: dir.clone(),
                remote,
            });
        }
        for item in folders {
            let name = item.get("name").and_then(Value::as_str).unwrap_or("");
            let rel_path = join_rel(&rel, name);
            match safe_segment(name) {
                Ok(_) => {
                    tree.folders.push(rel_path.clone());
                    pending.push(list(rel_path));
                }
                Err(e) => tree.refused_folders.push((rel_path, e)),
            }
        }
    }
    tree.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    tree.folders.sort();
    Ok(tree)
}

fn join_rel(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

fn join_remote(dir: &str, rel: &str) -> String {
    normalize_dir(&format!("{dir}/{rel}"))
}

/// Every item of one folder's listing: page 1, then the other pages in
/// parallel; one request permit each.
async fn list_all(
    client: &Client,
    requests: &Semaphore,
    kind: Listing,
    ns: &str,
    dir: &str,
) -> Result<Vec<Value>> {
    let page = |n: i64| async move {
        let _permit = requests
            .acquire()
            .await
            .map_err(|_| Error::Cancelled("the download was cancelled".into()))?;
        let mut answer = client.list(kind, ns, dir, n, PAGE).await?;
        let items = match answer.get_mut("result").map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(Error::InvalidResponse(format!(
                    "the listing of {dir} has no `result` array"
                )))
            }
        };
        let pages = answer
            .get("total_page")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        Ok((items, pages))
    };
    let (mut items, pages) = page(1).await?;
    // A hostile page count must not make us queue millions of requests:
    // items beyond the walk's limit are refused by the caller anyway.
    let pages = pages.clamp(1, 100_000);
    let mut rest: FuturesUnordered<_> = (2..=pages)
        .map(|n| async move { (n, page(n).await) })
        .collect();
    let mut later = Vec::new();
    while let Some((n, r)) = rest.next().await {
        let (got, _) = r?;
        if got.is_empty() {
            continue;
        }
        later.push((n, got));
    }
    later.sort_by_key(|(n, _)| *n);
    for (_, got) in later {
        items.extend(got);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_refused() {
        for bad in ["", ".", "..", "a/b", "..\\x", "a\0b"] {
            assert_eq!(
                safe_segment(bad).unwrap_err().name(),
                "InvalidArgument",
                "{bad:?}"
            );
        }
        for good in ["a b", "100%#1", "中文", "😀.jpg", "..a", ".hidden"] {
            assert!(safe_segment(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn names_windows_reads_otherwise_are_found() {
        for bad in [
            "C:x.txt",
            "c:",
            "a:b",
            "NUL",
            "nul.txt",
            "Con",
            "com1.log",
            "LPT9",
            "aux .txt",
            "q?.txt",
            "a*b",
            "a<b",
            "a>b",
            "a|b",
            "a\"b",
            "tab\there",
            "trail.",
            "trail ",
        ] {
            assert!(windows_problem(bad).is_some(), "{bad:?}");
            assert_eq!(safe_segment(bad).is_err(), cfg!(windows), "{bad:?}");
        }
        for good in [
            "a b",
            "100%#1",
            "中文",
            "😀.jpg",
            ".hidden",
            "..a",
            "console",
            "nullify.txt",
            "com10",
            "lpt",
            "a.b.c",
            "#1",
        ] {
            assert_eq!(windows_problem(good), None, "{good:?}");
        }
    }
}
