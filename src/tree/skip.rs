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
}

impl Skip {
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::None => "none",
            Skip::Size => "size",
            Skip::Md5 => "md5",
        }
    }

    /// Whether the rule needs the other end's listing at all.
    pub fn lists(self) -> bool {
        self != Skip::None
    }

    /// Whether the local MD5 is needed to decide: only when the rule is
    /// `md5` and the sizes agree (different sizes decide by themselves).
    pub fn needs_md5(self, size: u64, other: Option<&RemoteFile>) -> bool {
        self == Skip::Md5 && other.is_some_and(|o| o.size == size)
    }

    /// Whether the file is the same at both ends under this rule; `md5` is
    /// the local MD5 when `needs_md5` asked for it.
    pub fn same(self, size: u64, md5: Option<&str>, other: Option<&RemoteFile>) -> bool {
        let Some(o) = other else { return false };
        match self {
            Skip::None => false,
            Skip::Size => o.size == size,
            Skip::Md5 => o.size == size && md5.is_some_and(|m| m.eq_ignore_ascii_case(&o.md5)),
        }
    }

    /// Why a file was skipped, for its result.
    pub fn reason(self) -> &'static str {
        match self {
            Skip::None => "",
            Skip::Size => "a file of the same size is already there",
            Skip::Md5 => "a file with the same size and MD5 is already there",
        }
    }
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
        };
        assert!(!Skip::None.same(3, None, Some(&o)));
        assert!(Skip::Size.same(3, None, Some(&o)));
        assert!(!Skip::Size.same(4, None, Some(&o)));
        assert!(!Skip::Size.same(3, None, None));
        assert!(Skip::Md5.needs_md5(3, Some(&o)));
        assert!(!Skip::Md5.needs_md5(4, Some(&o)), "sizes decide alone");
        assert!(Skip::Md5.same(3, Some("abc"), Some(&o)));
        assert!(!Skip::Md5.same(3, Some("abd"), Some(&o)));
        assert!(!Skip::Md5.same(3, None, Some(&o)));
    }
}
