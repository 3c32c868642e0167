//! Content objects on disk: streaming writes with MD5 computed on the way,
//! temporary-file cleanup, and multipart assembly.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use md5::{Digest, Md5};
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

/// A finished, fsynced temporary file and what was learnt while writing it.
#[derive(Debug)]
pub struct Written {
    pub tmp: TempFile,
    pub size: u64,
    /// Lower-case hex MD5.
    pub md5: String,
    pub head: Vec<u8>,
}

enum Msg {
    Data(Bytes),
    Finish,
}

/// Streams chunks to a file on a blocking thread, hashing them there, so
/// the async side only forwards buffers. The bounded channel keeps memory
/// flat whatever the upload size.
pub struct BlobWriter {
    tx: mpsc::Sender<Msg>,
    task: Option<JoinHandle<io::Result<(u64, String)>>>,
    head: Vec<u8>,
    path: PathBuf,
}

impl BlobWriter {
    pub fn create(path: PathBuf) -> Self {
        let (tx, mut rx) = mpsc::channel::<Msg>(16);
        let p = path.clone();
        let task = tokio::task::spawn_blocking(move || {
            let mut run = || -> io::Result<Option<(u64, String)>> {
                let mut w = BufWriter::with_capacity(256 * 1024, File::create(&p)?);
                let mut md5 = Md5::new();
                let mut size = 0u64;
                while let Some(msg) = rx.blocking_recv() {
                    match msg {
                        Msg::Data(b) => {
                            md5.update(&b);
                            w.write_all(&b)?;
                            size += b.len() as u64;
                        }
                        Msg::Finish => {
                            let f = w.into_inner().map_err(|e| e.into_error())?;
                            f.sync_all()?;
                            return Ok(Some((size, hex::encode(md5.finalize()))));
                        }
                    }
                }
                Ok(None)
            };
            match run() {
                Ok(Some(done)) => Ok(done),
                Ok(None) => {
                    // The request was abandoned: nothing may stay behind.
                    let _ = std::fs::remove_file(&p);
                    Err(io::Error::new(
                        io::ErrorKind::Interrupted,
                        "upload abandoned",
                    ))
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&p);
                    Err(e)
                }
            }
        });
        BlobWriter {
            tx,
            task: Some(task),
            head: Vec::new(),
            path,
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
        let (size, md5) = task
            .await
            .map_err(|e| io::Error::other(format!("content writer failed: {e}")))??;
        Ok(Written {
            tmp: TempFile::new(self.path.clone()),
            size,
            md5,
            head: std::mem::take(&mut self.head),
        })
    }
}

/// Feeds a whole file into `hasher`.
pub fn hash_file(hasher: &mut Md5, path: &Path) -> io::Result<()> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
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
pub fn assemble(dest: &Path, sources: &[PathBuf], hash: bool) -> io::Result<Option<String>> {
    let mut out = File::create(dest)?;
    let mut md5 = hash.then(Md5::new);
    let mut buf = if hash { vec![0u8; 1 << 20] } else { Vec::new() };
    for src in sources {
        let mut f = File::open(src)?;
        match md5.as_mut() {
            None => {
                io::copy(&mut f, &mut out)?;
            }
            Some(h) => loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
                out.write_all(&buf[..n])?;
            },
        }
    }
    out.sync_all()?;
    Ok(md5.map(|h| hex::encode(h.finalize())))
}
