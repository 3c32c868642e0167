//! The resume checkpoint: a small file naming the local file (path, size,
//! mtime), the target and the server-side upload (id, upload id, part
//! size), then the finished parts and their eTags.
//!
//! Its cost is proportional to the change: a header line (compact JSON)
//! written once per upload, then one short line per finished part
//! (`[7,"81FC…2E57"]`), appended and synced with `fdatasync`. A part costs
//! some 40 bytes on disk whatever came before it (the earlier format
//! rewrote the whole file, pretty-printed and fsynced twice, after every
//! part: about 4 GB for a 10000-part upload).
//!
//! Crash safety: the header and the parts known at the start are written
//! to a temporary file, fsynced and renamed over the checkpoint (so the file
//! is always whole or absent); after that, appends only add lines. A crash
//! can tear only the last line, which loading ignores (as any line that
//! does not parse, and all after it: those parts are sent again). Loading
//! a checkpoint to resume it rewrites it compactly the same atomic way, so
//! a torn tail never gets lines appended after it. A checkpoint in the
//! earlier format (one pretty JSON document) does not parse as a header
//! and is treated as stale.

use crate::error::{Error, Result};
use crate::file_identity::FileIdentity;
use crate::multipart::PartTag;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const VERSION: u32 = 2;

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
    /// Boxed: a checkpoint is large beside the other variants.
    Found(Box<Checkpoint>),
}

/// The checkpoint's place on disk.
pub struct CheckpointFile {
    path: PathBuf,
    /// Bytes written to disk for this checkpoint so far (for the tests).
    written: AtomicU64,
}

/// The first line of a checkpoint: everything but the parts.
#[derive(Serialize, Deserialize)]
struct Header {
    version: u32,
    file: FileIdentity,
    target: TargetIdentity,
    id: String,
    upload_id: String,
    part_size: u64,
}

/// One part's line, `[part_number,"eTag"]` and a newline.
fn part_line(tag: &PartTag) -> Vec<u8> {
    let mut line = serde_json::to_vec(&(tag.part_number, &tag.e_tag))
        .expect("a number and a string serialise");
    line.push(b'\n');
    line
}

/// The checkpoint of the upload under way, open for appending its parts.
pub struct Journal {
    store: Arc<CheckpointFile>,
    file: fs::File,
}

impl Journal {
    /// Records a finished part: one line appended and synced (blocking).
    pub fn add(&mut self, tag: PartTag) -> Result<()> {
        let line = part_line(&tag);
        self.file
            .write_all(&line)
            .and_then(|_| self.file.sync_data())
            .map_err(|e| self.store.write_error(e))?;
        self.store.count(line.len());
        Ok(())
    }
}

impl CheckpointFile {
    pub fn new(path: PathBuf) -> CheckpointFile {
        CheckpointFile {
            path,
            written: AtomicU64::new(0),
        }
    }

    /// Bytes written to disk for this checkpoint so far.
    #[cfg(test)]
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    fn count(&self, bytes: usize) {
        self.written.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn write_error(&self, e: std::io::Error) -> Error {
        Error::Io(format!(
            "cannot write checkpoint {}: {e}",
            self.path.display()
        ))
    }

    /// Writes `cp` (an upload just begun, or one being resumed: compacted)
    /// atomically, then keeps the file open to append its parts (blocking).
    pub fn begin(self: &Arc<Self>, cp: &Checkpoint) -> Result<Journal> {
        self.save(cp)?;
        let file = fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| self.write_error(e))?;
        Ok(Journal {
            store: self.clone(),
            file,
        })
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

    /// The stored checkpoint. A damaged one (or one in the earlier format)
    /// is `Unusable`: it only means starting over. Part lines that do not
    /// parse — a torn last line after a crash — end the list.
    pub fn load(&self) -> Loaded {
        let Ok(text) = fs::read(&self.path) else {
            return Loaded::Missing;
        };
        let mut lines = text.split(|b| *b == b'\n');
        let header = lines.next().unwrap_or_default();
        let header: Header = match serde_json::from_slice(header) {
            Ok(h) => h,
            Err(e) => {
                tracing::debug!(target: "wantu", path = %self.path.display(), error = %e,
                    "ignoring unreadable checkpoint");
                return Loaded::Unusable;
            }
        };
        let mut cp = Checkpoint {
            version: header.version,
            file: header.file,
            target: header.target,
            id: header.id,
            upload_id: header.upload_id,
            part_size: header.part_size,
            parts: Vec::new(),
        };
        for line in lines.filter(|l| !l.is_empty()) {
            match serde_json::from_slice::<(u32, String)>(line) {
                Ok((part_number, e_tag)) => cp.add(PartTag { part_number, e_tag }),
                Err(_) => break,
            }
        }
        Loaded::Found(Box::new(cp))
    }

    /// Atomic replace with the whole of `cp` (header and part lines): write
    /// a temporary file, fsync, rename over the checkpoint, fsync the
    /// directory so the rename itself is durable.
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
        let header = Header {
            version: VERSION,
            file: cp.file.clone(),
            target: cp.target.clone(),
            id: cp.id.clone(),
            upload_id: cp.upload_id.clone(),
            part_size: cp.part_size,
        };
        let mut text = serde_json::to_vec(&header)
            .map_err(|e| Error::Internal(format!("checkpoint JSON: {e}")))?;
        text.push(b'\n');
        for tag in &cp.parts {
            text.extend(part_line(tag));
        }
        let temp = self.temp_path();
        let mut f = fs::File::create(&temp).map_err(fail)?;
        f.write_all(&text)
            .and_then(|_| f.sync_all())
            .map_err(fail)?;
        self.count(text.len());
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
    use std::path::Path;

    fn sample(dir: &Path) -> (Checkpoint, FileIdentity, TargetIdentity) {
        let src = dir.join("src.bin");
        fs::write(&src, vec![7u8; 300_000]).unwrap();
        let file = FileIdentity::of(&src, &fs::metadata(&src).unwrap()).canonical();
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
        assert_eq!(store.load(), Loaded::Found(Box::new(cp.clone())));
        assert!(cp.matches(&file, &target, 102_400, 3));
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 2, "no temporary file is left behind");
        store.remove();
        assert_eq!(store.load(), Loaded::Missing);
    }

    /// A 10000-part upload must not rewrite its whole list of parts after
    /// every part: what a part costs on disk stays bounded, however many
    /// parts came before it.
    #[test]
    fn each_part_costs_a_bounded_number_of_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (cp, _, _) = sample(dir.path());
        let store = Arc::new(CheckpointFile::new(dir.path().join("cp")));
        let mut journal = store.begin(&cp).unwrap();
        let (first, count) = (3, 400u64);
        let mut last = 0;
        for n in first..first + count as u32 {
            let before = store.written();
            journal
                .add(PartTag {
                    part_number: n,
                    e_tag: format!("{:032X}", u128::from(n) * 0x9E37_79B9),
                })
                .unwrap();
            last = store.written() - before;
        }
        let total = store.written();
        eprintln!("{count} parts: {total} bytes written, the last part {last} bytes");
        assert!(last <= 64, "the last part cost {last} bytes");
        assert!(
            total <= 2000 + 64 * count,
            "{total} bytes for {count} parts"
        );
        match store.load() {
            Loaded::Found(c) => {
                assert_eq!(c.parts.len(), 2 + count as usize);
                assert_eq!(c.parts.last().unwrap().part_number, 402);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_compacted_away() {
        let dir = tempfile::tempdir().unwrap();
        let (cp, _, _) = sample(dir.path());
        let path = dir.path().join("cp");
        let store = Arc::new(CheckpointFile::new(path.clone()));
        let mut journal = store.begin(&cp).unwrap();
        let tag = |n: u32| PartTag {
            part_number: n,
            e_tag: format!("E{n}"),
        };
        journal.add(tag(3)).unwrap();
        drop(journal);
        // A crash in the middle of the next line.
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"[4,\"E").unwrap();
        drop(f);
        let Loaded::Found(loaded) = store.load() else {
            panic!("{:?}", store.load())
        };
        let numbers: Vec<u32> = loaded.parts.iter().map(|p| p.part_number).collect();
        assert_eq!(numbers, [1, 2, 3]);
        // Resuming rewrites it whole first: new lines follow a clean one.
        let mut journal = store.begin(&loaded).unwrap();
        journal.add(tag(5)).unwrap();
        let Loaded::Found(again) = store.load() else {
            panic!()
        };
        let numbers: Vec<u32> = again.parts.iter().map(|p| p.part_number).collect();
        assert_eq!(numbers, [1, 2, 3, 5]);
        assert_eq!(again.id, "id");
    }

    #[test]
    fn the_earlier_pretty_json_format_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let (mut cp, _, _) = sample(dir.path());
        cp.version = 1;
        let path = dir.path().join("old.json");
        fs::write(&path, serde_json::to_vec_pretty(&cp).unwrap()).unwrap();
        assert_eq!(CheckpointFile::new(path).load(), Loaded::Unusable);
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
