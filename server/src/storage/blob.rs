//! Content objects on disk: streaming writes with MD5 computed on the way,
//! temporary-file cleanup, positional writes into multipart staging
//! objects, and multipart assembly.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use md5_simd::Md5;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How many leading bytes are kept in memory for MIME sniffing.
pub const HEAD_LEN: usize = 16 * 1024;

/// A temporary file that is removed when dropped, unless it was promoted.
#[derive(Debug)]
pub struct TempFile(Option<PathBuf>);

impl TempFile {
    pub fn new(path: PathBuf) -> Self {
        TempFile(Some(path))
    }

    pub fn path(&self) -> &Path {
        self.0.as_deref().expect("temp file already taken")
    }

    /// Hands the path over; the caller is now responsible for the file.
    pub fn keep(mut self) -> PathBuf {
        self.0.take().expect("temp file already taken")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Finished, fsynced content and what was learnt while writing it.
#[derive(Debug)]
pub struct Written {
    /// The file holding the content, or `None` when it went into a
    /// [`RangeSink`].
    pub tmp: Option<TempFile>,
    pub size: u64,
    /// Lower-case hex MD5.
    pub md5: String,
    pub head: Vec<u8>,
}

/// A byte range of an existing file (a multipart staging object) to write
/// content into, at most `max` bytes from `offset`. Content that turns out
/// larger moves to a file of its own, so nothing is written past the range
/// (it belongs to the next part). `file` must be open for reading too.
pub struct RangeSink {
    pub file: File,
    pub offset: u64,
    pub max: u64,
}

enum Msg {
    Data(Bytes),
    Finish,
}

const BUF: usize = 256 * 1024;

/// The writing end on the blocking thread.
enum Out {
    Fresh(BufWriter<File>, PathBuf),
    Range {
        sink: RangeSink,
        pending: Vec<u8>,
        flushed: u64,
        spill: PathBuf,
    },
}

impl Out {
    fn write(&mut self, b: &[u8]) -> io::Result<()> {
        let (sink, pending, flushed, spill) = match self {
            Out::Fresh(w, _) => return w.write_all(b),
            Out::Range {
                sink,
                pending,
                flushed,
                spill,
            } => (sink, pending, flushed, spill),
        };
        let written = *flushed + pending.len() as u64;
        if written + b.len() as u64 <= sink.max {
            if pending.len() + b.len() > BUF {
                sink.file.write_all_at(pending, sink.offset + *flushed)?;
                *flushed += pending.len() as u64;
                pending.clear();
            }
            pending.extend_from_slice(b);
            return Ok(());
        }
        // Larger than the range: continue in a file of its own, starting
        // with what the range already holds (at most one stride).
        let spill = spill.clone();
        let mut w = BufWriter::with_capacity(BUF, File::create(&spill)?);
        let mut moved = || -> io::Result<()> {
            let mut f = &sink.file;
            f.seek(SeekFrom::Start(sink.offset))?;
            if io::copy(&mut f.take(*flushed), w.get_mut())? != *flushed {
                return Err(io::Error::other("staging range shorter than written"));
            }
            w.write_all(pending)?;
            w.write_all(b)
        };
        if let Err(e) = moved() {
            let _ = std::fs::remove_file(&spill);
            return Err(e);
        }
        *self = Out::Fresh(w, spill);
        Ok(())
    }

    /// Flushes and syncs; returns the file when the content has its own.
    fn finish(&mut self) -> io::Result<Option<PathBuf>> {
        match self {
            Out::Fresh(w, p) => {
                w.flush()?;
                w.get_ref().sync_all()?;
                Ok(Some(p.clone()))
            }
            Out::Range {
                sink,
                pending,
                flushed,
                ..
            } => {
                sink.file.write_all_at(pending, sink.offset + *flushed)?;
                *flushed += pending.len() as u64;
                pending.clear();
                // Other parts may be writing the same file; fdatasync covers
                // this range whatever else is pending.
                sink.file.sync_data()?;
                Ok(None)
            }
        }
    }

    /// Removes a file of the content's own; a range is left as it is (no
    /// part row points at it).
    fn discard(self) {
        if let Out::Fresh(w, p) = self {
            drop(w);
            let _ = std::fs::remove_file(p);
        }
    }
}

type Done = (u64, String, Option<PathBuf>);

fn pump(rx: &mut mpsc::Receiver<Msg>, out: &mut Option<Out>) -> io::Result<Option<Done>> {
    let mut md5 = Md5::new();
    let mut size = 0u64;
    while let Some(msg) = rx.blocking_recv() {
        let o = out.as_mut().expect("writer open");
        match msg {
            Msg::Data(b) => {
                md5.update(&b);
                o.write(&b)?;
                size += b.len() as u64;
            }
            Msg::Finish => {
                let file = o.finish()?;
                *out = None;
                return Ok(Some((size, hex::encode(md5.finalize()), file)));
            }
        }
    }
    Ok(None)
}

/// Streams chunks to a file (or a [`RangeSink`]) on a blocking thread,
/// hashing them there, so the async side only forwards buffers. The bounded
/// channel keeps memory flat whatever the upload size.
pub struct BlobWriter {
    tx: mpsc::Sender<Msg>,
    task: Option<JoinHandle<io::Result<Done>>>,
    head: Vec<u8>,
}

impl BlobWriter {
    pub fn create(path: PathBuf) -> Self {
        Self::start(None, path)
    }

    /// Writes into `sink`, or into `spill` if the content exceeds it.
    pub fn into_range(sink: RangeSink, spill: PathBuf) -> Self {
        Self::start(Some(sink), spill)
    }

    fn start(sink: Option<RangeSink>, path: PathBuf) -> Self {
        let (tx, mut rx) = mpsc::channel::<Msg>(16);
        let task = tokio::task::spawn_blocking(move || {
            let mut out = None;
            let result = (|| {
                out = Some(match sink {
                    Some(sink) => Out::Range {
                        sink,
                        pending: Vec::with_capacity(BUF),
                        flushed: 0,
                        spill: path.clone(),
                    },
                    None => Out::Fresh(
                        BufWriter::with_capacity(BUF, File::create(&path)?),
                        path.clone(),
                    ),
                });
                pump(&mut rx, &mut out)
            })();
            match result {
                Ok(Some(done)) => Ok(done),
                other => {
                    // Failed or abandoned: nothing may stay behind.
                    if let Some(o) = out {
                        o.discard();
                    }
                    Err(other.err().unwrap_or_else(|| {
                        io::Error::new(io::ErrorKind::Interrupted, "upload abandoned")
                    }))
                }
            }
        });
        BlobWriter {
            tx,
            task: Some(task),
            head: Vec::new(),
        }
    }

    pub async fn write(&mut self, chunk: Bytes) -> io::Result<()> {
        if self.head.len() < HEAD_LEN {
            let n = (HEAD_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..n]);
        }
        if self.tx.send(Msg::Data(chunk)).await.is_err() {
            return Err(self.writer_error().await);
        }
        Ok(())
    }

    async fn writer_error(&mut self) -> io::Error {
        match self.task.take() {
            Some(task) => match task.await {
                Ok(Err(e)) => e,
                Ok(Ok(_)) => io::Error::other("content writer stopped early"),
                Err(e) => io::Error::other(format!("content writer failed: {e}")),
            },
            None => io::Error::other("content writer already failed"),
        }
    }

    /// Flushes and fsyncs the file.
    pub async fn finish(mut self) -> io::Result<Written> {
        if self.tx.send(Msg::Finish).await.is_err() {
            return Err(self.writer_error().await);
        }
        let task = self.task.take().expect("writer task present");
        let (size, md5, file) = task
            .await
            .map_err(|e| io::Error::other(format!("content writer failed: {e}")))??;
        Ok(Written {
            tmp: file.map(TempFile::new),
            size,
            md5,
            head: std::mem::take(&mut self.head),
        })
    }
}

/// Where some content is: `len` bytes at `offset` of the file at `path`.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub offset: u64,
    pub len: u64,
}

fn open_range(src: &Source) -> io::Result<io::Take<File>> {
    let mut f = File::open(&src.path)?;
    f.seek(SeekFrom::Start(src.offset))?;
    Ok(f.take(src.len))
}

fn short(src: &Source) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("{} ends before {} bytes", src.path.display(), src.len),
    )
}

/// Feeds a range into `hasher`.
pub fn hash_range(hasher: &mut Md5, src: &Source) -> io::Result<()> {
    let mut f = open_range(src)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return if total == src.len {
                Ok(())
            } else {
                Err(short(src))
            };
        }
        total += n as u64;
        hasher.update(&buf[..n]);
    }
}

pub fn read_head(path: &Path) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD_LEN);
    File::open(path)?
        .take(HEAD_LEN as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// Concatenates `sources` into `dest` and fsyncs it. Without hashing the
/// copy stays in the kernel (`copy_file_range`); with hashing it goes
/// through a 1 MiB buffer. Returns the lower-case hex MD5 when asked.
pub fn assemble(dest: &Path, sources: &[Source], hash: bool) -> io::Result<Option<String>> {
    let mut out = File::create(dest)?;
    let mut md5 = hash.then(Md5::new);
    let mut buf = if hash { vec![0u8; 1 << 20] } else { Vec::new() };
    for src in sources {
        let mut f = open_range(src)?;
        let mut copied = 0u64;
        match md5.as_mut() {
            None => copied = io::copy(&mut f, &mut out)?,
            Some(h) => loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                copied += n as u64;
                h.update(&buf[..n]);
                out.write_all(&buf[..n])?;
            },
        }
        if copied != src.len {
            return Err(short(src));
        }
    }
    out.sync_all()?;
    Ok(md5.map(|h| hex::encode(h.finalize())))
}

/// Turns a multipart staging object into the finished file in place:
/// copies `patches` (source, offset) into it, cuts it to `len` and fsyncs.
/// Returns the lower-case hex MD5 when asked (one read pass, no copy).
pub fn finish_staging(
    path: &Path,
    patches: &[(Source, u64)],
    len: u64,
    hash: bool,
) -> io::Result<Option<String>> {
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    for (src, at) in patches {
        f.seek(SeekFrom::Start(*at))?;
        if io::copy(&mut open_range(src)?, &mut f)? != src.len {
            return Err(short(src));
        }
    }
    f.set_len(len)?;
    f.sync_all()?;
    if !hash {
        return Ok(None);
    }
    let mut md5 = Md5::new();
    hash_range(
        &mut md5,
        &Source {
            path: path.to_path_buf(),
            offset: 0,
            len,
        },
    )?;
    Ok(Some(hex::encode(md5.finalize())))
}
