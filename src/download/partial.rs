//! The temporary file a download writes into, and its resume sidecar.
//!
//! A download of `dir/photo.jpg` writes `dir/.photo.jpg.wantu-part` (same
//! folder, so the final rename is atomic and never crosses file systems)
//! and, for a file fetched in several ranges with `resume` on, records the
//! finished ranges in `dir/.photo.jpg.wantu-part.json`. The sidecar names
//! the stored file (namespace, folder, name), its size and MD5 and the
//! range size; it is rewritten atomically (temporary name + rename) after
//! each finished range, always after that range's bytes were written. A
//! later download of the same file to the same place skips the recorded
//! ranges; one whose remote size or MD5 (or range size) differs starts
//! over. Only the ranges in flight when the download stopped are fetched
//! again. The final MD5 check covers resumed bytes too.
//!
//! Not covered: a power loss may lose written bytes the sidecar already
//! counts (nothing is fsynced); the MD5 check then fails and the partial
//! download is discarded.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const SUFFIX: &str = ".wantu-part";
const VERSION: u32 = 1;

/// What a sidecar must match to be resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `namespace:/dir/name` of the stored file.
    pub source: String,
    pub size: u64,
    pub md5: String,
    pub part_size: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Sidecar {
    version: u32,
    #[serde(flatten)]
    identity: Identity,
    /// Finished ranges as runs of range indexes `[first, last]`.
    done: Vec<[u64; 2]>,
}

/// How a download began, as reported in its result (`checkpoint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// No sidecar is kept (one range, or `resume` off).
    None,
    /// A fresh download with a new sidecar.
    New,
    /// An interrupted download continued.
    Resumed,
    /// A sidecar was found for another version of the file: started over.
    Stale,
}

impl Start {
    pub fn as_str(self) -> &'static str {
        match self {
            Start::None => "none",
            Start::New => "new",
            Start::Resumed => "resumed",
            Start::Stale => "stale",
        }
    }
}

/// `dir/.name.wantu-part` and `dir/.name.wantu-part.json` for `dir/name`.
pub fn temp_paths(final_path: &Path) -> Result<(PathBuf, PathBuf)> {
    let name = final_path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            Error::invalid(format!(
                "`local_path` {} does not end in a file name",
                final_path.display()
            ))
        })?;
    let temp = final_path.with_file_name(format!(".{name}{SUFFIX}"));
    let sidecar = final_path.with_file_name(format!(".{name}{SUFFIX}.json"));
    Ok((temp, sidecar))
}

/// A download in progress: the open temporary file and what is done.
pub struct Partial {
    pub temp: PathBuf,
    sidecar: PathBuf,
    pub file: File,
    /// Whether the sidecar is kept (several ranges and `resume` on).
    keep: bool,
    state: Mutex<(Identity, Vec<bool>)>,
    pub start: Start,
}

/// Opens without following a symbolic link at the last component: a link
/// planted at the temporary name must not redirect our writes.
fn open_options(truncate: bool) -> OpenOptions {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(truncate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW);
    }
    o
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Io(format!("cannot {what} {}: {e}", path.display()))
}

impl Partial {
    /// Opens the temporary file beside `final_path`: continues a matching
    /// interrupted download when `resume` is on, else starts empty.
    pub fn open(
        final_path: &Path,
        identity: Identity,
        parts: u64,
        resume: bool,
    ) -> Result<Partial> {
        let (temp, sidecar) = temp_paths(final_path)?;
        let keep = resume && parts > 1;
        let found = if keep { read_sidecar(&sidecar) } else { None };
        let usable = found.as_ref().is_some_and(|s| {
            s.identity == identity
                && std::fs::symlink_metadata(&temp)
                    .is_ok_and(|m| m.is_file() && m.len() == identity.size)
        });
        if usable {
            let file = open_options(false)
                .open(&temp)
                .map_err(|e| io("open", &temp, e))?;
            let mut done = vec![false; parts as usize];
            for [first, last] in found.map(|s| s.done).unwrap_or_default() {
                for i in first..=last.min(parts.saturating_sub(1)) {
                    done[i as usize] = true;
                }
            }
            return Ok(Partial {
                temp,
                sidecar,
                file,
                keep,
                state: Mutex::new((identity, done)),
                start: Start::Resumed,
            });
        }
        let file = open_options(true)
            .open(&temp)
            .map_err(|e| io("create", &temp, e))?;
        file.set_len(identity.size)
            .map_err(|e| io("size", &temp, e))?;
        let start = match (keep, found.is_some()) {
            (false, _) => Start::None,
            (true, false) => Start::New,
            (true, true) => Start::Stale,
        };
        let partial = Partial {
            temp,
            sidecar,
            file,
            keep,
            state: Mutex::new((identity, vec![false; parts as usize])),
            start,
        };
        if keep {
            partial.save()?;
        } else {
            let _ = std::fs::remove_file(&partial.sidecar);
        }
        Ok(partial)
    }

    /// The ranges already finished (from the sidecar).
    pub fn done(&self) -> Vec<bool> {
        self.lock().1.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Identity, Vec<bool>)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a finished range (its bytes are written already).
    pub fn mark_done(&self, part: u64) -> Result<()> {
        if !self.keep {
            return Ok(());
        }
        // The lock is held while saving, so saves never interleave.
        let mut state = self.lock();
        state.1[part as usize] = true;
        write_sidecar(&self.sidecar, &state.0, &state.1)
    }

    fn save(&self) -> Result<()> {
        let state = self.lock();
        write_sidecar(&self.sidecar, &state.0, &state.1)
    }

    /// Moves the verified file to its final name and drops the sidecar.
    pub fn finish(self, final_path: &Path) -> Result<()> {
        let Partial {
            temp,
            sidecar,
            file,
            ..
        } = self;
        drop(file);
        std::fs::rename(&temp, final_path).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            io("move the download to", final_path, e)
        })?;
        let _ = std::fs::remove_file(sidecar);
        Ok(())
    }

    /// After a failure: keeps the temporary file and sidecar for a resume,
    /// or removes them. Answers whether they were kept.
    pub fn abandon(self, keep_for_resume: bool) -> bool {
        if self.keep && keep_for_resume {
            return true;
        }
        self.discard();
        false
    }

    /// Removes the temporary file and the sidecar (a failed MD5 check: the
    /// bytes cannot be trusted for a resume).
    pub fn discard(self) {
        let Partial {
            temp,
            sidecar,
            file,
            ..
        } = self;
        drop(file);
        let _ = std::fs::remove_file(temp);
        let _ = std::fs::remove_file(sidecar);
    }
}

fn read_sidecar(path: &Path) -> Option<Sidecar> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    // A sidecar holds at most 10000 runs; anything far larger is not ours.
    if !meta.is_file() || meta.len() > 1 << 20 {
        return None;
    }
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice::<Sidecar>(&text)
        .ok()
        .filter(|s| s.version == VERSION)
}

fn write_sidecar(path: &Path, identity: &Identity, done: &[bool]) -> Result<()> {
    let mut runs: Vec<[u64; 2]> = Vec::new();
    for (i, _) in done.iter().enumerate().filter(|(_, d)| **d) {
        let i = i as u64;
        match runs.last_mut() {
            Some(run) if run[1] + 1 == i => run[1] = i,
            _ => runs.push([i, i]),
        }
    }
    let sidecar = Sidecar {
        version: VERSION,
        identity: identity.clone(),
        done: runs,
    };
    let text = serde_json::to_vec(&sidecar).map_err(|e| Error::Internal(e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    {
        use std::io::Write;
        let mut f = open_options(true)
            .open(&tmp)
            .map_err(|e| io("write", &tmp, e))?;
        f.write_all(&text).map_err(|e| io("write", &tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io("write", path, e))
}

/// Writes `data` at `offset` of `file` (positional: ranges write in
/// parallel without sharing a file cursor).
pub fn write_at(file: &File, offset: u64, data: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.write_all_at(data, offset)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < data.len() {
            done += file.seek_write(&data[done..], offset + done as u64)?;
        }
        Ok(())
    }
}

/// Reads up to `buf.len()` bytes at `offset`.
pub fn read_at(file: &File, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_at(buf, offset)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        file.seek_read(buf, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(md5: &str) -> Identity {
        Identity {
            source: "ns:/d/f".into(),
            size: 10,
            md5: md5.into(),
            part_size: 4,
        }
    }

    #[test]
    fn resumes_a_matching_sidecar_and_restarts_a_stale_one() {
        let dir = tempfile::tempdir().unwrap();
        let fin = dir.path().join("f");
        let p = Partial::open(&fin, id("a"), 3, true).unwrap();
        assert_eq!(p.start, Start::New);
        p.mark_done(0).unwrap();
        p.mark_done(2).unwrap();
        assert!(p.abandon(true), "kept for a resume");
        let p = Partial::open(&fin, id("a"), 3, true).unwrap();
        assert_eq!(p.start, Start::Resumed);
        assert_eq!(p.done(), vec![true, false, true]);
        p.abandon(true);
        let p = Partial::open(&fin, id("b"), 3, true).unwrap();
        assert_eq!(p.start, Start::Stale);
        assert_eq!(p.done(), vec![false; 3]);
        p.discard();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_at_the_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let fin = dir.path().join("f");
        let (temp, _) = temp_paths(&fin).unwrap();
        std::os::unix::fs::symlink(&victim, &temp).unwrap();
        assert!(Partial::open(&fin, id("a"), 1, false).is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    }
}
