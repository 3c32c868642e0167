//! Where the bytes come from, and the memory they occupy on the way.
//!
//! - A file is read by offset (positional reads), one part at a time, only
//!   when a worker is about to send that part.
//! - Memory is copied part by part the same way, so the request bodies own
//!   their bytes and never point into the caller's buffer.
//! - A reader of unknown length is read sequentially on the calling thread
//!   into at most `concurrency + 1` part buffers (back-pressure).
//!
//! Every byte is read once. The whole-file MD5 needs the bytes in order
//! while parts travel out of order: a file's or memory's parts are read in
//! order and each is hashed for itself and for the whole file in one pass
//! (engine.rs, digest.rs); a stream is hashed in order as it is read.

use super::digest::Whole;
use crate::error::{Error, Result};
use crate::multipart::MAX_PART_NUMBER;
use bytes::{Bytes, BytesMut};
use md5_simd::Md5;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// What to upload.
pub enum Source<'a> {
    /// A file on disk.
    File(PathBuf),
    /// Bytes in memory; only read during the call.
    Memory(&'a [u8]),
    /// A stream of unknown length, read to its end on the calling thread.
    Reader(&'a mut (dyn Read + 'a)),
}

/// Recycles part buffers: allocating and freeing multi-MiB buffers from
/// several threads lets the allocator keep freed ones around, and the
/// process would grow well past what is in use.
pub struct BufferPool {
    capacity: usize,
    free: Mutex<Vec<BytesMut>>,
}

impl BufferPool {
    pub fn new(capacity: usize) -> Arc<BufferPool> {
        Arc::new(BufferPool {
            capacity,
            free: Mutex::new(Vec::new()),
        })
    }

    /// A buffer of `len` bytes (at most the part size) for the caller to
    /// overwrite. A recycled buffer keeps its old bytes: zeroing 8 MiB per
    /// part only to overwrite it costs a memory pass per upload, so only
    /// bytes that were never in use are zeroed.
    pub fn take(&self, len: usize) -> BytesMut {
        let reused = self.free.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut buf = reused.unwrap_or_else(|| BytesMut::with_capacity(self.capacity));
        if buf.len() >= len {
            buf.truncate(len);
        } else {
            buf.resize(len, 0);
        }
        buf
    }

    /// Returns a buffer once nothing else refers to it; one still shared
    /// (or too small) is simply dropped.
    pub fn give(&self, bytes: Bytes) {
        if let Ok(buf) = bytes.try_into_mut() {
            if buf.capacity() >= self.capacity {
                self.free
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(buf);
            }
        }
    }
}

pub use super::digest::md5_hex;

/// Reads `buf.len()` bytes at `offset` (blocking).
pub fn read_at(file: &File, path: &Path, offset: u64, buf: &mut [u8]) -> Result<()> {
    crate::fs_compat::read_exact_at(file, buf, offset).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::UnexpectedEof {
            "the file shrank during the upload".to_string()
        } else {
            e.to_string()
        };
        Error::Io(format!(
            "cannot read {} bytes at offset {offset} of {}: {why}",
            buf.len(),
            path.display()
        ))
    })
}

fn stopped() -> Error {
    Error::Cancelled("hashing stopped".into())
}

/// The MD5 of the first `size` bytes of a file, read sequentially (blocking).
pub fn hash_file(path: &Path, size: u64, stop: &CancellationToken) -> Result<String> {
    let shown = path.display();
    let mut file = File::open(path).map_err(|e| crate::fs_compat::open_error(path, e))?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        if stop.is_cancelled() {
            return Err(stopped());
        }
        let want = buf.len().min(left as usize);
        let n = file
            .read(&mut buf[..want])
            .map_err(|e| Error::Io(format!("cannot read {shown}: {e}")))?;
        if n == 0 {
            return Err(Error::Io(format!("{shown} shrank during the upload")));
        }
        md5.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(hex::encode(md5.finalize()))
}

/// From the calling thread's reader to the engine.
pub enum StreamMsg {
    /// Part number, bytes, and the part's MD5 with integrity on.
    Part(u32, Bytes, Option<String>),
    /// The stream ended: its length and, with integrity on, its MD5.
    End {
        total: u64,
        md5: Option<String>,
    },
    Failed(Error),
}

/// Reads a stream of unknown length into parts, on the calling thread.
pub struct Producer<'r> {
    reader: &'r mut (dyn Read + 'r),
    part_size: usize,
    next: u32,
    total: u64,
    md5: Option<Whole>,
    finished: bool,
    tx: tokio::sync::mpsc::UnboundedSender<StreamMsg>,
    pool: Arc<BufferPool>,
    /// Part buffers that may still be filled: `concurrency + 1` at the
    /// start, one less per part sent, one more per part the engine is done with.
    pub slots: usize,
}

impl<'r> Producer<'r> {
    pub fn new(
        reader: &'r mut (dyn Read + 'r),
        part_size: u64,
        integrity: bool,
        slots: usize,
        tx: tokio::sync::mpsc::UnboundedSender<StreamMsg>,
        pool: Arc<BufferPool>,
    ) -> Producer<'r> {
        Producer {
            reader,
            part_size: part_size as usize,
            next: 1,
            total: 0,
            md5: integrity.then(Whole::new),
            finished: false,
            tx,
            pool,
            slots,
        }
    }

    pub fn ready(&self) -> bool {
        !self.finished && self.slots > 0
    }

    /// The stream's length, once its end was read.
    pub fn total(&self) -> Option<u64> {
        (self.finished).then_some(self.total)
    }

    fn fail(&mut self, err: Error) {
        self.finished = true;
        let _ = self.tx.send(StreamMsg::Failed(err));
    }

    /// Fills the next part buffer and hands it over (or the end of the
    /// stream). `between` runs between reads so that progress stays live
    /// and a cancel is noticed while a slow stream is read.
    pub fn step(&mut self, stop: &CancellationToken, between: &mut dyn FnMut()) {
        let mut buf = self.pool.take(self.part_size);
        let mut filled = 0;
        let mut eof = false;
        while filled < buf.len() {
            if stop.is_cancelled() {
                self.finished = true;
                return;
            }
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n.min(buf.len() - filled),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let at = self.total + filled as u64;
                    return self.fail(Error::Io(format!(
                        "reading the stream failed at byte {at}: {e}"
                    )));
                }
            }
            between();
        }
        buf.truncate(filled);
        if filled > 0 {
            if self.next > MAX_PART_NUMBER {
                return self.fail(Error::invalid(format!(
                    "the stream is longer than {MAX_PART_NUMBER} parts of {} bytes; set the \
                     option `part_size` larger (up to 64 MiB) for longer streams",
                    self.part_size
                )));
            }
            // The part's MD5 and the stream's, in one pass.
            let md5 = self.md5.as_mut().map(|w| w.add_part(&buf));
            self.total += filled as u64;
            let _ = self.tx.send(StreamMsg::Part(self.next, buf.freeze(), md5));
            self.next += 1;
            self.slots -= 1;
        }
        if eof {
            self.finished = true;
            let md5 = self.md5.take().map(|w| w.hex());
            let _ = self.tx.send(StreamMsg::End {
                total: self.total,
                md5,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_recycles_unshared_buffers() {
        let pool = BufferPool::new(1000);
        let a = pool.take(1000).freeze();
        let ptr = a.as_ptr();
        let clone = a.clone();
        pool.give(a);
        assert!(
            pool.free.lock().unwrap().is_empty(),
            "still shared: dropped"
        );
        let mut b = pool.take(10);
        assert_eq!(&b[..], &[0; 10], "a new buffer is zeroed");
        b.copy_from_slice(b"0123456789");
        let b = b.freeze();
        drop(clone);
        pool.give(b);
        let c = pool.take(4);
        assert_eq!(&c[..], b"0123", "recycled, not zeroed again");
        let c = c.freeze();
        pool.give(c);
        let d = pool.take(8);
        assert_eq!(
            &d[..],
            b"0123\0\0\0\0",
            "only the never-used tail is zeroed"
        );
        let _ = ptr;
    }

    #[test]
    fn hashes_match_one_shot_md5() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7) as u8).collect();
        let stop = CancellationToken::new();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, &data).unwrap();
        assert_eq!(
            hash_file(&p, data.len() as u64, &stop).unwrap(),
            md5_hex(&data)
        );
        assert!(hash_file(&p, data.len() as u64 + 1, &stop).is_err());
        stop.cancel();
        let e = hash_file(&p, data.len() as u64, &stop).unwrap_err();
        assert_eq!(e.name(), "Cancelled");
    }

    #[test]
    fn producer_splits_a_stream_into_full_parts() {
        // A reader that hands out odd-sized pieces.
        struct Dribble(Vec<u8>, usize);
        impl Read for Dribble {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(777).min(self.0.len() - self.1);
                buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
                self.1 += n;
                Ok(n)
            }
        }
        let data: Vec<u8> = (0..250_000u32).map(|i| (i % 251) as u8).collect();
        let mut r = Dribble(data.clone(), 0);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let stop = CancellationToken::new();
        let mut p = Producer::new(&mut r, 102_400, true, 10, tx, BufferPool::new(102_400));
        while p.ready() {
            p.step(&stop, &mut || {});
        }
        assert_eq!(p.total(), Some(250_000));
        let mut got = Vec::new();
        let mut sizes = Vec::new();
        while let Ok(msg) = rx.try_recv() {
            match msg {
                StreamMsg::Part(n, b, md5) => {
                    assert_eq!(n as usize, sizes.len() + 1);
                    assert_eq!(md5.unwrap(), md5_hex(&b));
                    sizes.push(b.len());
                    got.extend_from_slice(&b);
                }
                StreamMsg::End { total, md5 } => {
                    assert_eq!(total, 250_000);
                    assert_eq!(md5.unwrap(), md5_hex(&data));
                }
                StreamMsg::Failed(e) => panic!("{e}"),
            }
        }
        assert_eq!(sizes, vec![102_400, 102_400, 45_200]);
        assert_eq!(got, data);
    }
}
