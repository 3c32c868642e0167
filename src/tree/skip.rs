//! The `skip` option: which local files need not be sent because the
//! remote file with the same path is already the same (or, for
//! downloads, the other way round).

use crate::remote_file::RemoteFile;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Skip {
    /// Send everything.
    #[default]
    None,
    /// Skip when a file of the same size exists at the other end.
    Size,
    /// Skip when a file of the same size and MD5 exists at the other end.
    Md5,
    /// The quick check (rsync's): skip when a file of the same size exists
    /// at the other end with the same modification time (uploads record it
    /// in the meta, `mtime::MTIME_KEY`), without reading the local file;
    /// where there is no recorded time, or another, compare MD5s as `md5`.
    Mtime,
}

impl Skip {
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::None => "none",
            Skip::Size => "size",
            Skip::Md5 => "md5",
            Skip::Mtime => "mtime",
        }
    }

    /// Whether the rule needs the other end's listing at all.
    pub fn lists(self) -> bool {
        self != Skip::None
    }

    /// Whether the local MD5 is needed to decide: only when the rule is
    /// `md5` (or `mtime` without matching times) and the sizes agree
    /// (different sizes decide by themselves). `mtime` is the local file's,
    /// in milliseconds.
    pub fn needs_md5(self, size: u64, mtime: Option<i64>, other: Option<&RemoteFile>) -> bool {
        let Some(o) = other.filter(|o| o.size == size) else {
            return false;
        };
        match self {
            Skip::Md5 => true,
            Skip::Mtime => !same_time(mtime, o),
            Skip::None | Skip::Size => false,
        }
    }

    /// Whether the file is the same at both ends under this rule; `md5` is
    /// the local MD5 when `needs_md5` asked for it.
    pub fn same(
        self,
        size: u64,
        mtime: Option<i64>,
        md5: Option<&str>,
        other: Option<&RemoteFile>,
    ) -> bool {
        let Some(o) = other else { return false };
        let same_md5 = || md5.is_some_and(|m| m.eq_ignore_ascii_case(&o.md5));
        match self {
            Skip::None => false,
            Skip::Size => o.size == size,
            Skip::Md5 => o.size == size && same_md5(),
            Skip::Mtime => o.size == size && (same_time(mtime, o) || same_md5()),
        }
    }

    /// Why a file was skipped, for its result.
    pub fn reason(self) -> &'static str {
        match self {
            Skip::None => "",
            Skip::Size => "a file of the same size is already there",
            Skip::Md5 => "a file with the same size and MD5 is already there",
            Skip::Mtime => {
                "a file with the same size and modification time (or MD5) is already there"
            }
        }
    }
}

/// Whether the other end recorded this modification time.
fn same_time(mtime: Option<i64>, other: &RemoteFile) -> bool {
    mtime.is_some() && other.mtime_ms == mtime
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let o = RemoteFile {
            name: "a".into(),
            url: "http://h/files/ns/a".into(),
            size: 3,
            md5: "ABC".into(),
            mtime_ms: None,
        };
        assert!(!Skip::None.same(3, None, None, Some(&o)));
        assert!(Skip::Size.same(3, None, None, Some(&o)));
        assert!(!Skip::Size.same(4, None, None, Some(&o)));
        assert!(!Skip::Size.same(3, None, None, None));
        assert!(Skip::Md5.needs_md5(3, None, Some(&o)));
        assert!(
            !Skip::Md5.needs_md5(4, None, Some(&o)),
            "sizes decide alone"
        );
        assert!(Skip::Md5.same(3, None, Some("abc"), Some(&o)));
        assert!(!Skip::Md5.same(3, None, Some("abd"), Some(&o)));
        assert!(!Skip::Md5.same(3, None, None, Some(&o)));
    }

    #[test]
    fn the_quick_check_reads_no_file_when_the_times_agree() {
        let timed = RemoteFile {
            name: "a".into(),
            url: "http://h/files/ns/a".into(),
            size: 3,
            md5: "abc".into(),
            mtime_ms: Some(1000),
        };
        let m = Skip::Mtime;
        assert!(!m.needs_md5(3, Some(1000), Some(&timed)));
        assert!(m.same(3, Some(1000), None, Some(&timed)));
        // Same time, other size: sent.
        assert!(!m.needs_md5(4, Some(1000), Some(&timed)));
        assert!(!m.same(4, Some(1000), None, Some(&timed)));
        // Another time: the MD5 decides.
        assert!(m.needs_md5(3, Some(999), Some(&timed)));
        assert!(m.same(3, Some(999), Some("ABC"), Some(&timed)));
        assert!(!m.same(3, Some(999), Some("abd"), Some(&timed)));
        // No recorded time (an older upload): the MD5 decides.
        let untimed = RemoteFile {
            mtime_ms: None,
            ..timed.clone()
        };
        assert!(m.needs_md5(3, Some(1000), Some(&untimed)));
        assert!(!m.same(3, Some(1000), None, Some(&untimed)));
        assert!(m.same(3, Some(1000), Some("abc"), Some(&untimed)));
        assert!(!m.same(3, None, None, None));
    }
}
