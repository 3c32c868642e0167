//! File-system calls whose standard-library spelling differs by platform.

use crate::error::Error;
use std::fs::File;
use std::io;
use std::path::Path;

/// The error for a file that could not be opened for reading. Unix opens a
/// directory and the caller's size check names it; Windows refuses to open
/// one at all ("Access denied"), so the directory is named here instead and
/// both platforms say the same.
pub fn open_error(path: &Path, e: io::Error) -> Error {
    if path.is_dir() {
        Error::Io(format!(
            "{} is a directory; give the path of a file",
            path.display()
        ))
    } else {
        Error::Io(format!("cannot open file {}: {e}", path.display()))
    }
}

/// Fills `buf` from `offset` without using a shared cursor, so several
/// threads can read parts of one open file at once: `pread` on Unix.
#[cfg(unix)]
pub fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

/// The same on Windows. `seek_read` also reads at an explicit offset (safe
/// from several threads on one handle) but may return fewer bytes than
/// asked, so it is looped, and it moves the handle's cursor as a side
/// effect, which is harmless: nothing reads this handle sequentially.
#[cfg(windows)]
pub fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "failed to fill whole buffer",
                ))
            }
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_exactly_at_an_offset_and_reports_a_short_file() {
        let mut f = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        f.write_all(&data).unwrap();
        let mut buf = vec![0u8; 70_000];
        read_exact_at(&f, &mut buf, 12_345).unwrap();
        assert_eq!(buf, data[12_345..82_345]);
        let err = read_exact_at(&f, &mut buf, 50_000).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
