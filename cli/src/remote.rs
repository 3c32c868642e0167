//! Remote paths: `wantu://NAMESPACE/dir/name`, and `wantu://NAMESPACE/dir/`
//! (a trailing `/`) for a folder. Parsed strictly: a missing namespace, an
//! empty segment (`//`) or a `.`/`..` segment is a usage error that names
//! the argument, so a typo never reaches the server as some other path.

use std::fmt;

pub const SCHEME: &str = "wantu://";

/// A file or folder in a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub namespace: String,
    /// The folder, normalised as the service stores it: `/` or `/a/b`.
    pub dir: String,
    /// The file name; `None` for a folder.
    pub name: Option<String>,
}

/// Whether a command-line argument means a remote path (anything starting
/// with `wantu:` is taken as one, so `wantu:/ns/x` is an error, not a local
/// file of that name).
pub fn is_remote(arg: &str) -> bool {
    arg.starts_with("wantu:")
}

impl Remote {
    pub fn parse(arg: &str) -> Result<Remote, String> {
        let rest = arg.strip_prefix(SCHEME).ok_or_else(|| {
            format!(
                "remote path {arg:?} must start with {SCHEME}: write {SCHEME}NAMESPACE/dir/name"
            )
        })?;
        let (namespace, path) = rest.split_once('/').unwrap_or((rest, ""));
        if namespace.is_empty() {
            return Err(format!(
                "remote path {arg:?} has no namespace: write {SCHEME}NAMESPACE/dir/name"
            ));
        }
        let folder = path.is_empty() || path.ends_with('/');
        let trimmed = path.strip_suffix('/').unwrap_or(path);
        let mut segments: Vec<&str> = Vec::new();
        if !trimmed.is_empty() {
            for seg in trimmed.split('/') {
                if seg.is_empty() || seg == "." || seg == ".." {
                    return Err(format!(
                        "remote path {arg:?} has an empty, `.` or `..` segment; \
                         write {SCHEME}NAMESPACE/dir/name with single slashes"
                    ));
                }
                segments.push(seg);
            }
        }
        let name = if folder {
            None
        } else {
            segments.pop().map(str::to_string)
        };
        Ok(Remote {
            namespace: namespace.to_string(),
            dir: format!("/{}", segments.join("/")),
            name,
        })
    }

    pub fn is_folder(&self) -> bool {
        self.name.is_none()
    }

    /// The same place seen as a folder: a file path's name becomes the last
    /// folder segment (`ls wantu://ns/photos` lists the folder `photos`).
    pub fn as_folder(&self) -> Remote {
        match &self.name {
            None => self.clone(),
            Some(name) => Remote {
                namespace: self.namespace.clone(),
                dir: join_dir(&self.dir, name),
                name: None,
            },
        }
    }

    /// A file named `name` in this folder.
    pub fn file(&self, name: &str) -> Remote {
        Remote {
            namespace: self.namespace.clone(),
            dir: self.dir.clone(),
            name: Some(name.to_string()),
        }
    }

    /// The sub-folder `name` of this folder.
    pub fn subfolder(&self, name: &str) -> Remote {
        Remote {
            namespace: self.namespace.clone(),
            dir: join_dir(&self.dir, name),
            name: None,
        }
    }
}

/// `/a` + `b` → `/a/b`; `/` + `b` → `/b`.
pub fn join_dir(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}{}", self.namespace, self.dir)?;
        match &self.name {
            Some(name) if self.dir == "/" => write!(f, "{name}"),
            Some(name) => write!(f, "/{name}"),
            None if self.dir == "/" => Ok(()),
            None => write!(f, "/"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_files_and_folders() {
        let r = Remote::parse("wantu://ns/a/b/c.jpg").unwrap();
        assert_eq!((r.namespace.as_str(), r.dir.as_str()), ("ns", "/a/b"));
        assert_eq!(r.name.as_deref(), Some("c.jpg"));
        assert_eq!(r.to_string(), "wantu://ns/a/b/c.jpg");
        let r = Remote::parse("wantu://ns/a/b/").unwrap();
        assert_eq!((r.dir.as_str(), r.name.clone()), ("/a/b", None));
        assert_eq!(r.to_string(), "wantu://ns/a/b/");
        for root in ["wantu://ns", "wantu://ns/"] {
            let r = Remote::parse(root).unwrap();
            assert_eq!((r.dir.as_str(), r.is_folder()), ("/", true));
            assert_eq!(r.to_string(), "wantu://ns/");
        }
        let r = Remote::parse("wantu://ns/x").unwrap();
        assert_eq!(r.to_string(), "wantu://ns/x");
        assert_eq!(r.as_folder().to_string(), "wantu://ns/x/");
    }

    #[test]
    fn refuses_malformed_paths_naming_them() {
        for (arg, needle) in [
            ("wantu:///dir/x", "has no namespace"),
            ("wantu://", "has no namespace"),
            ("wantu:/ns/x", "must start with wantu://"),
            ("wantu://ns//x", "empty"),
            ("wantu://ns/a/../x", "`..`"),
        ] {
            let e = Remote::parse(arg).unwrap_err();
            assert!(e.contains(needle) && e.contains(arg), "{arg}: {e}");
        }
    }
}
