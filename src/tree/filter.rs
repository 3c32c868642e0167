//! `include` / `exclude` glob lists (the `globset` crate's syntax) matched
//! against a file's path relative to the folder, with `/` separators, the
//! same way for uploads and downloads (so `wantu sync` filters alike in
//! both directions). A pattern without `/` matches the file's name in any
//! folder (`*.jpg` is every JPEG at any depth, as in rsync and
//! .gitignore); one with `/` matches the whole relative path, where `*`
//! stays within one folder and `**` crosses folders (`raw/**/*.dng`).
//! `?`, `[abc]` and `{a,b}` work as usual. A file is taken when it matches
//! some `include` pattern (or there are none) and no `exclude` pattern.

use crate::error::{Error, Result};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Bounds on what a caller may make us compile.
pub const MAX_PATTERNS: usize = 1000;
pub const MAX_PATTERN_LEN: usize = 1024;

/// One option's patterns: those matched against the name, and those
/// matched against the whole relative path.
#[derive(Debug, Clone)]
struct Patterns {
    names: GlobSet,
    paths: GlobSet,
}

impl Patterns {
    fn new(option: &str, patterns: &[String]) -> Result<Patterns> {
        if patterns.len() > MAX_PATTERNS {
            return Err(Error::invalid(format!(
                "option `{option}` has {} patterns; at most {MAX_PATTERNS} are allowed",
                patterns.len()
            )));
        }
        let (mut names, mut paths) = (GlobSetBuilder::new(), GlobSetBuilder::new());
        for p in patterns {
            if p.is_empty() || p.len() > MAX_PATTERN_LEN {
                return Err(Error::invalid(format!(
                    "option `{option}`: a pattern must be 1 to {MAX_PATTERN_LEN} bytes long, \
                     not {} bytes",
                    p.len()
                )));
            }
            let glob = GlobBuilder::new(p)
                .literal_separator(true)
                .build()
                .map_err(|e| Error::invalid(format!("option `{option}`: pattern {p:?}: {e}")))?;
            match p.contains('/') {
                true => paths.add(glob),
                false => names.add(glob),
            };
        }
        let build = |b: GlobSetBuilder| {
            b.build()
                .map_err(|e| Error::invalid(format!("option `{option}`: {e}")))
        };
        Ok(Patterns {
            names: build(names)?,
            paths: build(paths)?,
        })
    }

    fn matches(&self, rel: &str) -> bool {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        self.names.is_match(name) || self.paths.is_match(rel)
    }
}

#[derive(Debug, Clone)]
pub struct Filters {
    include: Option<Patterns>,
    exclude: Patterns,
}

impl Filters {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Filters> {
        Ok(Filters {
            include: match include.is_empty() {
                true => None,
                false => Some(Patterns::new("include", include)?),
            },
            exclude: Patterns::new("exclude", exclude)?,
        })
    }

    /// Whether the file at `rel` (relative, `/`-separated) is taken.
    pub fn allows(&self, rel: &str) -> bool {
        self.include.as_ref().is_none_or(|p| p.matches(rel)) && !self.exclude.matches(rel)
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
        assert!(f.allows("x/y/a.jpg"), "a pattern without / matches names");
        assert!(f.allows("docs/a/b.txt"), "** crosses folders");
        assert!(f.allows("docs/readme.md"));
        assert!(!f.allows("a.png"));
        assert!(!f.allows("x/tmp/a.jpg"));
        assert!(!f.allows("a.bak.jpg"));
        let f = Filters::new(&[], &v(&["skip/*"])).unwrap();
        assert!(!f.allows("skip/a.jpg"));
        assert!(f.allows("skip/deeper/a.jpg"), "* stays within one folder");
        assert!(
            f.allows("other/skip/a.jpg"),
            "a pattern with / matches the whole path"
        );
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
