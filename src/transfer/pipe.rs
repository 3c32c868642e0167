//! A local path that is not a regular file: a FIFO or a device is
//! uploaded as a stream of unknown length, read without ever blocking the
//! call beyond a cancel; a socket cannot be opened and is refused at once.
//!
//! The path is opened non-blocking, so that opening a FIFO does not wait
//! for a writer. Reads then wait for data in slices of `SLICE` (poll), and
//! between slices answer `Interrupted`: the stream reader (`Producer`)
//! runs the progress callback and sees a cancel, then reads again.

use crate::error::{Error, Result};
use std::fs::File;
use std::path::Path;

/// How long one read waits for data before letting the caller look up.
#[cfg(unix)]
const SLICE_MS: i32 = 100;

/// What a local path turned out to be once opened.
pub enum Opened {
    /// A regular file (or anything else the file path handles, such as a
    /// folder it refuses), opened for positional reads.
    File(File),
    /// A FIFO or a device: to be read in order to its end.
    Stream(PipeReader),
}

/// Opens `path` for an upload without blocking on it.
#[cfg(unix)]
pub fn open(path: &Path) -> Result<Opened> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let shown = path.display();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            // open(2) answers ENXIO for a Unix socket.
            Some(libc::ENXIO) => Error::Io(format!(
                "{shown} is a socket, which cannot be read as a file; connect to it and upload \
                 what it sends as a stream (wantu_transfer_stream, or `wantu cp - …` from a pipe)"
            )),
            _ => crate::fs_compat::open_error(path, e),
        })?;
    let kind = file
        .metadata()
        .map_err(|e| Error::Io(format!("cannot read the type of {shown}: {e}")))?
        .file_type();
    if kind.is_fifo() || kind.is_char_device() || kind.is_block_device() {
        return Ok(Opened::Stream(PipeReader { file }));
    }
    // Back to blocking reads for a regular file (a no-op for them on
    // Linux, but the descriptor says what it is).
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function owns.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    Ok(Opened::File(file))
}

/// Opens `path` for an upload (no FIFOs to wait on here).
#[cfg(not(unix))]
pub fn open(path: &Path) -> Result<Opened> {
    File::open(path)
        .map(Opened::File)
        .map_err(|e| crate::fs_compat::open_error(path, e))
}

/// A non-blocking FIFO or device, read as `std::io::Read`.
pub struct PipeReader {
    file: File,
}

impl std::io::Read for PipeReader {
    #[cfg(unix)]
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::fd::AsRawFd;
        let mut poll = libc::pollfd {
            fd: self.file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, SLICE_MS) };
        if ready < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Nothing yet: a FIFO no writer has opened, or a quiet one. (A
        // FIFO whose writer came and went polls as ready: POLLHUP.)
        if ready == 0 {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        match std::io::Read::read(&mut self.file, buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                Err(std::io::ErrorKind::Interrupted.into())
            }
            r => r,
        }
    }

    #[cfg(not(unix))]
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        std::io::Read::read(&mut self.file, buf)
    }
}
