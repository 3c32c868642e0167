//! `include` / `exclude` glob lists (the `globset` crate's syntax) matched
//! against a file's path relative to the folder, with `/` separators.
//! `*` matches across `/` as in `aws s3 sync` (`*.jpg` is every JPEG at any
//! depth); `?`, `[abc]`, `{a,b}` and `**` work as usual. A file is taken
//! when it matches some `include` pattern (or there are none) and no
//! `exclude` pattern.

use crate::error::{Error, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};

/// Bounds on what a caller may make us compile.
pub const MAX_PATTERNS: usize = 1000;
pub const MAX_PATTERN_LEN: usize = 1024;

#[derive(Debug, Clone)]
pub struct Filters {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

fn set(option: &str, patterns: &[String]) -> Result<GlobSet> {
    if patterns.len() > MAX_PATTERNS {
        return Err(Error::invalid(format!(
            "option `{option}` has {} patterns; at most {MAX_PATTERNS} are allowed",
            patterns.len()
        )));
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        if p.is_empty() || p.len() > MAX_PATTERN_LEN {
            return Err(Error::invalid(format!(
                "option `{option}`: a pattern must be 1 to {MAX_PATTERN_LEN} bytes long, \
                 not {} bytes",
                p.len()
            )));
        }
        let glob = Glob::new(p)
            .map_err(|e| Error::invalid(format!("option `{option}`: pattern {p:?}: {e}")))?;
        b.add(glob);
    }
    b.build()
        .map_err(|e| Error::invalid(format!("option `{option}`: {e}")))
}

impl Filters {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Filters> {
        Ok(Filters {
            include: match include.is_empty() {
                true => None,
                false => Some(set("include", include)?),
            },
            exclude: set("exclude", exclude)?,
        })
    }

    /// Whether the file at `rel` (relative, `/`-separated) is taken.
    pub fn allows(&self, rel: &str) -> bool {
        self.include.as_ref().is_none_or(|s| s.is_match(rel)) && !self.exclude.is_match(rel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn include_then_exclude() {
        let f = Filters::new(&v(&["*.jpg", "docs/**"]), &v(&["**/tmp/*", "*.bak.jpg"])).unwrap();
        assert!(f.allows("a.jpg"));
        assert!(f.allows("x/y/a.jpg"), "* crosses /");
        assert!(f.allows("docs/readme.md"));
        assert!(!f.allows("a.png"));
        assert!(!f.allows("x/tmp/a.jpg"));
        assert!(!f.allows("a.bak.jpg"));
        let all = Filters::new(&[], &[]).unwrap();
        assert!(all.allows("anything/at all"));
    }

    #[test]
    fn bad_patterns_are_named() {
        let e = Filters::new(&v(&["a[b"]), &[]).unwrap_err();
        assert!(e.message().contains("`include`"), "{e}");
        let e = Filters::new(&[], &v(&[""])).unwrap_err();
        assert!(e.message().contains("`exclude`"), "{e}");
        let many = vec!["*".to_string(); MAX_PATTERNS + 1];
        assert!(Filters::new(&many, &[]).is_err());
    }
}
