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

use crate::error::{Error, Result};
use std::fs::{File, Metadata};
use std::path::Path;
use std::time::SystemTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileIdentity {
    pub len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    unix: (u64, u64, i64, i64),
}

impl FileIdentity {
    pub fn of(meta: &Metadata) -> FileIdentity {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        FileIdentity {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            unix: (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// The modification time `fstat` gave, if the system has one.
    pub fn modified(&self) -> Option<SystemTime> {
        self.modified
    }

    /// The identity of an open file, now.
    pub fn now(file: &File, path: &Path) -> Result<FileIdentity> {
        let meta = file
            .metadata()
            .map_err(|e| Error::Io(format!("cannot read the size of {}: {e}", path.display())))?;
        Ok(FileIdentity::of(&meta))
    }

    /// `FileChanged` unless the open file still has this identity.
    pub fn check(&self, file: &File, path: &Path) -> Result<()> {
        let now = FileIdentity::now(file, path)?;
        if now == *self {
            return Ok(());
        }
        let what = if now.len != self.len {
            format!("its size went from {} to {} bytes", self.len, now.len)
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
    Ok((file, FileIdentity::of(&meta)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn identity_sees_size_and_content_changes() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"hello").unwrap();
        let past = SystemTime::now() - std::time::Duration::from_secs(60);
        f.as_file().set_modified(past).unwrap();
        let (file, id) = open_regular(f.path()).unwrap();
        assert_eq!(id.len, 5);
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
