//! Which file an upload reads, and whether it stayed the same while read.
//!
//! An upload opens its file once and uses that one descriptor for the size,
//! the hash and the body (never a second open by path, which could reach a
//! different file). `FileIdentity` is what `fstat` says about the file —
//! device, inode, size, modification and change times — taken when opened
//! and again when the last byte was read: any difference means the bytes
//! sent may match neither version, and the upload answers `FileChanged`.
//!
//! Limits: a change made within the same filesystem timestamp tick as the
//! file's previous change, that keeps the size, shows in neither time; the
//! ctime cannot be set back by the writer, so restoring the mtime does not
//! hide a change.
//!
//! The same identity names the file in a resume checkpoint (path, size,
//! mtime: the saved part; device, inode and ctime are not saved, as they
//! need not survive a copy or a reboot).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, Metadata};
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileIdentity {
    /// The path as opened (made absolute where a checkpoint is kept, so a
    /// checkpoint belongs to one file whatever the working folder).
    pub path: String,
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch (0 unknown).
    pub mtime_ns: u64,
    /// Device, inode and change time (seconds, nanoseconds) on Unix.
    #[serde(skip)]
    node: Node,
}

#[cfg(unix)]
type Node = (u64, u64, i64, i64);
#[cfg(not(unix))]
type Node = ();

/// Equal when what a checkpoint saves agrees (path, size, mtime). Whether
/// an open file changed is `check`'s question, which also compares device,
/// inode and change time.
impl PartialEq for FileIdentity {
    fn eq(&self, other: &FileIdentity) -> bool {
        (&self.path, self.size, self.mtime_ns) == (&other.path, other.size, other.mtime_ns)
    }
}

impl Eq for FileIdentity {}

impl FileIdentity {
    pub fn of(path: &Path, meta: &Metadata) -> FileIdentity {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        FileIdentity {
            path: path.to_string_lossy().into_owned(),
            size: meta.len(),
            mtime_ns,
            #[cfg(unix)]
            node: (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec()),
            #[cfg(not(unix))]
            node: (),
        }
    }

    /// The same identity under the file's absolute, canonical path (as
    /// given when that cannot be had), for a checkpoint.
    pub fn canonical(mut self) -> FileIdentity {
        if let Ok(full) = std::fs::canonicalize(&self.path) {
            self.path = full.to_string_lossy().into_owned();
        }
        self
    }

    /// The modification time `fstat` gave, if the system has one.
    pub fn modified(&self) -> Option<std::time::SystemTime> {
        (self.mtime_ns != 0)
            .then(|| std::time::UNIX_EPOCH + std::time::Duration::from_nanos(self.mtime_ns))
    }

    /// The identity of an open file, now.
    pub fn now(file: &File, path: &Path) -> Result<FileIdentity> {
        let meta = file
            .metadata()
            .map_err(|e| Error::Io(format!("cannot read the size of {}: {e}", path.display())))?;
        Ok(FileIdentity::of(path, &meta))
    }

    /// `FileChanged` unless the open file still has this identity.
    pub fn check(&self, file: &File, path: &Path) -> Result<()> {
        let now = FileIdentity::now(file, path)?;
        if (now.size, now.mtime_ns, now.node) == (self.size, self.mtime_ns, self.node) {
            return Ok(());
        }
        let what = if now.size != self.size {
            format!("its size went from {} to {} bytes", self.size, now.size)
        } else {
            "it was modified".to_string()
        };
        Err(file_changed(path, &what))
    }
}

/// The one error for a file that changed while it was being uploaded.
pub fn file_changed(path: &Path, what: &str) -> Error {
    Error::FileChanged(format!(
        "{} changed while it was being uploaded ({what}); nothing was stored: \
         upload it again once it is complete",
        path.display()
    ))
}

/// Opens a file for upload and takes its identity. Anything but a regular
/// file is refused up front, naming the path: a FIFO or a device has no
/// size to declare, and opening a FIFO that no one writes to would block.
/// (The open is non-blocking for that reason; on a regular file the flag
/// changes nothing.)
pub fn open_regular(path: &Path) -> Result<(File, FileIdentity)> {
    let shown = path.display();
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| crate::fs_compat::open_error(path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::Io(format!("cannot read the size of {shown}: {e}")))?;
    if meta.is_dir() {
        return Err(Error::Io(format!(
            "{shown} is a directory; give the path of a file"
        )));
    }
    if !meta.is_file() {
        return Err(Error::Io(format!(
            "{shown} is not a regular file (a pipe, socket or device has no \
             size to upload); copy it to a file first"
        )));
    }
    Ok((file, FileIdentity::of(path, &meta)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::SystemTime;

    #[test]
    fn identity_sees_size_and_content_changes() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"hello").unwrap();
        let past = SystemTime::now() - std::time::Duration::from_secs(60);
        f.as_file().set_modified(past).unwrap();
        let (file, id) = open_regular(f.path()).unwrap();
        assert_eq!(id.size, 5);
        id.check(&file, f.path()).unwrap();
        f.write_all(b"!").unwrap();
        let e = id.check(&file, f.path()).unwrap_err();
        assert_eq!(e.name(), "FileChanged");
        assert!(e.message().contains("from 5 to 6 bytes"), "{e}");
    }

    #[test]
    fn only_regular_files_open() {
        let dir = tempfile::tempdir().unwrap();
        let e = open_regular(dir.path()).unwrap_err();
        assert!(e.message().contains("is a directory"), "{e}");
        #[cfg(unix)]
        {
            let e = open_regular(Path::new("/dev/null")).unwrap_err();
            assert!(
                e.message().contains("/dev/null is not a regular file"),
                "{e}"
            );
        }
    }
}
