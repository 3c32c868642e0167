//! What happened to each file of a many-files call, in one vocabulary for
//! both directions: the folder and batch uploads, the folder download and
//! the `wantu` tool's copies and syncs all say a file's fate with a
//! `FileStatus`, written under the `status` key of its result
//! (docs/folders.md, "Per-file results"). A `FileReport` is one file's
//! result and is the only place such a result becomes JSON; `Counts` is
//! the call's tally by status.

use crate::error::Error;
use serde_json::{Map, Value};

/// The key of a per-file result that holds its `FileStatus`.
pub const STATUS_KEY: &str = "status";

/// What happened to one file (or, in a dry run, what would).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileStatus {
    Uploaded,
    Downloaded,
    /// Left alone: the same file is already there, or the walk passed it
    /// by (a symbolic link not followed). Also in a dry run: nothing is
    /// sent for a skipped file either way.
    Skipped,
    /// Removed by a sync (`wantu sync --delete`).
    Deleted,
    Failed,
    WouldUpload,
    WouldDownload,
    WouldDelete,
}

impl FileStatus {
    /// Every status, in the order a summary names them (`failed` last).
    pub const ALL: [FileStatus; 8] = [
        FileStatus::Uploaded,
        FileStatus::Downloaded,
        FileStatus::Skipped,
        FileStatus::Deleted,
        FileStatus::WouldUpload,
        FileStatus::WouldDownload,
        FileStatus::WouldDelete,
        FileStatus::Failed,
    ];

    /// The word of the `status` key (and of the call's count).
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Uploaded => "uploaded",
            FileStatus::Downloaded => "downloaded",
            FileStatus::Skipped => "skipped",
            FileStatus::Deleted => "deleted",
            FileStatus::Failed => "failed",
            FileStatus::WouldUpload => "would_upload",
            FileStatus::WouldDownload => "would_download",
            FileStatus::WouldDelete => "would_delete",
        }
    }

    /// The status a word names, if any.
    pub fn parse(word: &str) -> Option<FileStatus> {
        FileStatus::ALL.into_iter().find(|s| s.as_str() == word)
    }

    fn slot(self) -> usize {
        self as usize
    }
}

/// One file's result: its path, its status, the error when it failed, and
/// the details (the server's answer, sizes, counters) in the order given.
#[derive(Debug, Clone)]
pub struct FileReport {
    status: FileStatus,
    error: Option<Error>,
    fields: Map<String, Value>,
}

impl FileReport {
    /// A result for `path`, with `status` until told otherwise.
    pub fn new(path: impl Into<String>, status: FileStatus) -> FileReport {
        let mut fields = Map::new();
        fields.insert("path".into(), Value::String(path.into()));
        FileReport {
            status,
            error: None,
            fields,
        }
    }

    pub fn status(&self) -> FileStatus {
        self.status
    }

    /// The file's error, when it failed.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    pub fn set_status(&mut self, status: FileStatus) {
        self.status = status;
    }

    /// The file failed with `error`.
    pub fn fail(&mut self, error: Error) {
        self.status = FileStatus::Failed;
        self.error = Some(error);
    }

    /// Adds a detail (replacing one of the same key).
    pub fn insert(&mut self, key: &str, value: impl Into<Value>) {
        self.fields.insert(key.into(), value.into());
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// The result object: the details, `status`, and `code` 200 — or, for
    /// a failed file, the error's `code`, `error`, `message`, `request_id`.
    pub fn into_json(self) -> Map<String, Value> {
        let mut m = self.fields;
        m.insert(STATUS_KEY.into(), self.status.as_str().into());
        match &self.error {
            Some(e) => {
                if let Value::Object(head) = crate::result::error(e) {
                    m.extend(head);
                }
            }
            None if self.status == FileStatus::Failed => {
                m.insert("code".into(), 0.into());
            }
            None => {
                m.insert("code".into(), 200.into());
            }
        }
        m
    }
}

/// A call's files by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts([u64; FileStatus::ALL.len()]);

impl Counts {
    pub fn add(&mut self, status: FileStatus) {
        self.0[status.slot()] += 1;
    }

    pub fn get(&self, status: FileStatus) -> u64 {
        self.0[status.slot()]
    }

    /// All files counted.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Writes the counts of `which` under their words.
    pub fn write(&self, which: &[FileStatus], m: &mut Map<String, Value>) {
        for s in which {
            m.insert(s.as_str().into(), self.get(*s).into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_names_its_status() {
        for s in FileStatus::ALL {
            assert_eq!(FileStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(FileStatus::parse("done"), None);
    }

    #[test]
    fn a_result_says_its_status_and_error() {
        let mut r = FileReport::new("a/b.txt", FileStatus::Uploaded);
        r.insert("size", 3);
        let ok = Value::Object(r.clone().into_json());
        assert_eq!(
            ok,
            serde_json::json!({"path": "a/b.txt", "size": 3, "status": "uploaded", "code": 200})
        );
        r.fail(Error::Io("disk full".into()));
        let bad = r.into_json();
        assert_eq!(bad["status"], "failed");
        assert_eq!(bad["error"], "IoError");
        assert_eq!(bad["message"], "disk full");
        assert_eq!(bad["code"], 0);
    }

    #[test]
    fn counts_by_status() {
        let mut c = Counts::default();
        c.add(FileStatus::Skipped);
        c.add(FileStatus::Skipped);
        c.add(FileStatus::WouldDownload);
        assert_eq!((c.get(FileStatus::Skipped), c.total()), (2, 3));
        let mut m = Map::new();
        c.write(&[FileStatus::Downloaded, FileStatus::WouldDownload], &mut m);
        assert_eq!(
            Value::Object(m),
            serde_json::json!({"downloaded": 0, "would_download": 1})
        );
    }
}
