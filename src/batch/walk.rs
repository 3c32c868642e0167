//! The lazy walk of a local folder: one entry at a time, a folder's files
//! (in name order) before its subfolders,
//! never the whole tree in memory. Runs on a blocking thread and feeds the
//! scheduler through a bounded channel.

use crate::error::Error;
use crate::tree::Filters;
use std::path::{Path, PathBuf};

/// What the walk found that the scheduler must report.
#[derive(Debug)]
pub enum Found {
    /// A regular file (or a link to one, with `follow_symlinks`).
    File {
        rel: String,
        rel_parent: String,
        name: String,
        path: PathBuf,
    },
    /// Not uploaded, and not an error (a symbolic link not followed).
    Skipped { rel: String, reason: String },
    /// Cannot be uploaded: a FIFO, device or socket, an unreadable folder,
    /// a name that is not UTF-8, a link loop.
    Problem { rel: String, error: Error },
}

/// `rel` with `/` separators, or the lossy text and an error when a part
/// of it is not UTF-8.
fn relative(root: &Path, path: &Path) -> (String, bool) {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut ok = true;
    let parts: Vec<String> = rel
        .components()
        .map(|c| {
            let s = c.as_os_str();
            ok &= s.to_str().is_some();
            s.to_string_lossy().into_owned()
        })
        .collect();
    (parts.join("/"), ok)
}

/// What a non-regular, non-folder entry is, for the error. Only Unix has
/// FIFOs, devices and sockets in a folder; elsewhere there is no finer name.
#[cfg(unix)]
fn kind(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn kind(_: &std::fs::FileType) -> &'static str {
    "not a regular file"
}

/// Everything under `root` that `filters` allow, lazily.
pub fn walk(root: PathBuf, filters: Filters, follow: bool) -> impl Iterator<Item = Found> {
    // Files before subfolders, each in name order: a folder's files come
    // one after the other, so the remote listing they are compared with is
    // needed once (`tree::remote::KEPT_LISTINGS`).
    let entries = walkdir::WalkDir::new(&root)
        .min_depth(1)
        .follow_links(follow)
        .sort_by(|a, b| {
            let dir = |e: &walkdir::DirEntry| e.file_type().is_dir();
            dir(a)
                .cmp(&dir(b))
                .then_with(|| a.file_name().cmp(b.file_name()))
        })
        .into_iter();
    entries.filter_map(move |entry| {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.clone());
                let (rel, _) = relative(&root, &path);
                let why = match e.loop_ancestor() {
                    Some(a) => format!("a symbolic link loop back to {}", a.display()),
                    None => e
                        .io_error()
                        .map(|io| io.to_string())
                        .unwrap_or_else(|| e.to_string()),
                };
                return Some(Found::Problem {
                    error: Error::Io(format!("cannot read {}: {why}", path.display())),
                    rel,
                });
            }
        };
        let ft = entry.file_type();
        if ft.is_dir() {
            return None;
        }
        let (rel, utf8) = relative(&root, entry.path());
        if !filters.allows(&rel) {
            return None;
        }
        if !utf8 {
            return Some(Found::Problem {
                error: Error::invalid(format!(
                    "{} has a name that is not UTF-8; the service stores UTF-8 names",
                    entry.path().display()
                )),
                rel,
            });
        }
        if ft.is_symlink() {
            return Some(Found::Skipped {
                rel,
                reason: "a symbolic link (set follow_symlinks to upload what it points to)".into(),
            });
        }
        // Skipped with a note, as rsync does: opening a FIFO or device
        // could block the walk, and it is no file to copy. Given on its
        // own to the one-file upload, it is streamed (transfer/pipe.rs).
        if !ft.is_file() {
            return Some(Found::Skipped {
                rel,
                reason: format!(
                    "{}: only regular files are uploaded with a folder (upload it on its own to \
                     stream it)",
                    kind(&ft)
                ),
            });
        }
        let (rel_parent, name) = match rel.rsplit_once('/') {
            Some((p, n)) => (p.to_string(), n.to_string()),
            None => (String::new(), rel.clone()),
        };
        Some(Found::File {
            rel_parent,
            name,
            path: entry.into_path(),
            rel,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_in_order_with_filters_links_and_fifos() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("b/c")).unwrap();
        std::fs::write(r.join("a.txt"), b"a").unwrap();
        std::fs::write(r.join("b/c/d e.jpg"), b"d").unwrap();
        std::fs::write(r.join("b/skip.tmp"), b"t").unwrap();
        std::os::unix::fs::symlink(r.join("a.txt"), r.join("link")).unwrap();
        let fifo = std::ffi::CString::new(r.join("pipe").to_str().unwrap()).unwrap();
        // SAFETY: `fifo` is a NUL-terminated path that lives through the call.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let filters = Filters::new(&[], &["*.tmp".to_string()]).unwrap();
        let found: Vec<String> = walk(r.to_path_buf(), filters.clone(), false)
            .map(|f| match f {
                Found::File {
                    rel,
                    rel_parent,
                    name,
                    ..
                } => format!("F {rel} [{rel_parent}] {name}"),
                Found::Skipped { rel, .. } => format!("S {rel}"),
                Found::Problem { rel, error } => format!("P {rel} {}", error.message()),
            })
            .collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(found[0], "F a.txt [] a.txt");
        assert_eq!(found[1], "S link");
        assert_eq!(found[2], "S pipe", "{found:?}");
        assert_eq!(found[3], "F b/c/d e.jpg [b/c] d e.jpg");
        let followed = walk(r.to_path_buf(), filters, true)
            .filter(|f| matches!(f, Found::File { rel, .. } if rel == "link"))
            .count();
        assert_eq!(followed, 1);
    }
}
