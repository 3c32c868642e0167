//! The resume checkpoint: a small JSON file naming the local file (path,
//! size, mtime), the target and the server-side upload (id, upload id, part
//! size, finished parts and their eTags). It is rewritten atomically after
//! every finished part — temporary file, fsync, rename, fsync of the
//! directory — so a crash at any moment leaves either the old or the new
//! version, never a torn one.

use crate::error::{Error, Result};
use crate::multipart::PartTag;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const VERSION: u32 = 1;

/// What identifies the local file: if any of it changed, the parts already
/// uploaded may not be this file's and the checkpoint is not used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileIdentity {
    pub path: String,
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: u64,
}

impl FileIdentity {
    pub fn of(path: &Path) -> Result<FileIdentity> {
        let shown = path.display();
        let meta =
            fs::metadata(path).map_err(|e| Error::Io(format!("cannot open file {shown}: {e}")))?;
        if meta.is_dir() {
            return Err(Error::Io(format!(
                "{shown} is a directory; give the path of a file"
            )));
        }
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        let full = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Ok(FileIdentity {
            path: full.to_string_lossy().into_owned(),
            size: meta.len(),
            mtime_ns,
        })
    }
}

/// Where the upload goes: resuming into another target would be wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetIdentity {
    pub namespace: String,
    pub dir: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    pub file: FileIdentity,
    pub target: TargetIdentity,
    pub id: String,
    pub upload_id: String,
    pub part_size: u64,
    /// Finished parts, sorted by part number.
    pub parts: Vec<PartTag>,
}

impl Checkpoint {
    pub fn new(
        file: FileIdentity,
        target: TargetIdentity,
        id: String,
        upload_id: String,
        part_size: u64,
    ) -> Checkpoint {
        Checkpoint {
            version: VERSION,
            file,
            target,
            id,
            upload_id,
            part_size,
            parts: Vec::new(),
        }
    }

    pub fn add(&mut self, tag: PartTag) {
        match self
            .parts
            .binary_search_by_key(&tag.part_number, |p| p.part_number)
        {
            Ok(i) => self.parts[i] = tag,
            Err(i) => self.parts.insert(i, tag),
        }
    }

    /// Whether this checkpoint describes the same upload of the same file.
    /// Any mismatch means starting over: the parts may not be this file's.
    pub fn matches(
        &self,
        file: &FileIdentity,
        target: &TargetIdentity,
        part_size: u64,
        count: u32,
    ) -> bool {
        self.version == VERSION
            && &self.file == file
            && &self.target == target
            && self.part_size == part_size
            && !self.id.is_empty()
            && !self.upload_id.is_empty()
            && self.parts.first().is_some_and(|p| p.part_number == 1)
            && self
                .parts
                .iter()
                .all(|p| p.part_number <= count && !p.e_tag.is_empty())
    }
}

/// What `CheckpointFile::load` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    Missing,
    Unusable,
    Found(Checkpoint),
}

/// The checkpoint's place on disk.
pub struct CheckpointFile {
    path: PathBuf,
}

impl CheckpointFile {
    pub fn new(path: PathBuf) -> CheckpointFile {
        CheckpointFile { path }
    }

    fn temp_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".tmp-{}", std::process::id()));
        self.path.with_file_name(name)
    }

    /// Proves, before anything is sent, that checkpoints can be written
    /// there: an upload that cannot record its progress should not start.
    pub fn probe(&self) -> Result<()> {
        let shown = self.path.display();
        if self.path.is_dir() {
            return Err(Error::invalid(format!(
                "option `checkpoint_path` {shown} is a directory; give a file path"
            )));
        }
        let temp = self.temp_path();
        let outcome = fs::File::create(&temp).and_then(|mut f| f.write_all(b"{}"));
        let _ = fs::remove_file(&temp);
        outcome.map_err(|e| {
            Error::Io(format!(
                "option `checkpoint_path` {shown} is not writable ({e}); give a path in a \
                 writable directory"
            ))
        })
    }

    /// The stored checkpoint. A damaged one is `Unusable`: it only means
    /// starting over.
    pub fn load(&self) -> Loaded {
        let Ok(text) = fs::read(&self.path) else {
            return Loaded::Missing;
        };
        match serde_json::from_slice(&text) {
            Ok(c) => Loaded::Found(c),
            Err(e) => {
                tracing::debug!(target: "wantu", path = %self.path.display(), error = %e,
                    "ignoring unreadable checkpoint");
                Loaded::Unusable
            }
        }
    }

    /// Atomic replace: write a temporary file, fsync, rename over the
    /// checkpoint, fsync the directory so the rename itself is durable.
    /// `fs::rename` replaces an existing file on Windows as well: std calls
    /// `MoveFileExW(MOVEFILE_REPLACE_EXISTING)` (checked in 1.96's sources;
    /// `tests/c/test_paths.c` resumes from such a checkpoint under Wine);
    /// there a directory cannot be opened as a file, so the last step is
    /// skipped and the rename's durability is left to NTFS's journal.
    pub fn save(&self, cp: &Checkpoint) -> Result<()> {
        let fail = |e: std::io::Error| {
            Error::Io(format!(
                "cannot write checkpoint {}: {e}",
                self.path.display()
            ))
        };
        let text = serde_json::to_vec_pretty(cp)
            .map_err(|e| Error::Internal(format!("checkpoint JSON: {e}")))?;
        let temp = self.temp_path();
        let mut f = fs::File::create(&temp).map_err(fail)?;
        f.write_all(&text)
            .and_then(|_| f.sync_all())
            .map_err(fail)?;
        drop(f);
        fs::rename(&temp, &self.path).map_err(fail)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    pub fn remove(&self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) -> (Checkpoint, FileIdentity, TargetIdentity) {
        let src = dir.join("src.bin");
        fs::write(&src, vec![7u8; 300_000]).unwrap();
        let file = FileIdentity::of(&src).unwrap();
        let target = TargetIdentity {
            namespace: "ns".into(),
            dir: Some("/d".into()),
            name: Some("n".into()),
        };
        let mut cp = Checkpoint::new(
            file.clone(),
            target.clone(),
            "id".into(),
            "UP".into(),
            102_400,
        );
        cp.add(PartTag {
            part_number: 2,
            e_tag: "B".into(),
        });
        cp.add(PartTag {
            part_number: 1,
            e_tag: "A".into(),
        });
        (cp, file, target)
    }

    #[test]
    fn saves_atomically_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let (cp, file, target) = sample(dir.path());
        assert_eq!(cp.parts[0].part_number, 1);
        let store = CheckpointFile::new(dir.path().join("cp.json"));
        store.probe().unwrap();
        store.save(&cp).unwrap();
        assert_eq!(store.load(), Loaded::Found(cp.clone()));
        assert!(cp.matches(&file, &target, 102_400, 3));
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 2, "no temporary file is left behind");
        store.remove();
        assert_eq!(store.load(), Loaded::Missing);
    }

    #[test]
    fn mismatches_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        let (cp, file, target) = sample(dir.path());
        let mut other = file.clone();
        other.size += 1;
        assert!(!cp.matches(&other, &target, 102_400, 3));
        let mut moved = file.clone();
        moved.mtime_ns += 1;
        assert!(!cp.matches(&moved, &target, 102_400, 3));
        let mut t2 = target.clone();
        t2.name = Some("other".into());
        assert!(!cp.matches(&file, &t2, 102_400, 3));
        assert!(!cp.matches(&file, &target, 204_800, 3));
        assert!(
            !cp.matches(&file, &target, 102_400, 1),
            "parts beyond the count"
        );
    }

    #[test]
    fn unusable_paths_are_refused_and_damage_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let e = CheckpointFile::new(dir.path().to_path_buf())
            .probe()
            .unwrap_err();
        assert!(e.message().contains("directory"), "{e}");
        let e = CheckpointFile::new(dir.path().join("missing/cp.json"))
            .probe()
            .unwrap_err();
        assert!(e.message().contains("not writable"), "{e}");
        let bad = dir.path().join("bad.json");
        fs::write(&bad, "{not json").unwrap();
        assert_eq!(CheckpointFile::new(bad).load(), Loaded::Unusable);
    }
}
