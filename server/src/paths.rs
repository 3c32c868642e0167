//! Validation and normalisation of namespaces, folders and file names, and
//! the delivery URLs built from them.
//!
//! Names only ever live in the database; they never become file-system
//! paths. `.`/`..` segments are still refused so that every stored file has a
//! delivery URL that HTTP clients will not rewrite.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::http::error::{ApiError, ApiResult};

const MAX_LEN: usize = 1024;

/// Everything but RFC 3986 unreserved characters is encoded in a segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn validate_namespace(ns: &str) -> ApiResult<()> {
    if ns.is_empty() {
        return Err(ApiError::invalid_argument("namespace must not be empty"));
    }
    if ns.len() > 256 || ns.contains(['/', '\0']) || ns == "." || ns == ".." {
        return Err(ApiError::invalid_argument(format!(
            "invalid namespace '{}'",
            ns.escape_debug()
        )));
    }
    Ok(())
}

/// Normalises a folder: leading `/` added, repeated and trailing `/`
/// removed; the root is `/`. Refuses NUL and `.`/`..` segments.
pub fn normalize_dir(dir: &str) -> ApiResult<String> {
    if dir.contains('\0') {
        return Err(ApiError::invalid_argument("dir must not contain NUL"));
    }
    if dir.len() > MAX_LEN {
        return Err(ApiError::invalid_argument(format!(
            "dir is longer than {MAX_LEN} bytes"
        )));
    }
    let mut out = String::with_capacity(dir.len() + 1);
    for seg in dir.split('/').filter(|s| !s.is_empty()) {
        if seg == "." || seg == ".." {
            return Err(ApiError::invalid_argument(format!(
                "dir '{}' must not contain '.' or '..' segments",
                dir.escape_debug()
            )));
        }
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

pub fn validate_name(name: &str) -> ApiResult<()> {
    if name.is_empty() {
        return Err(ApiError::invalid_argument("file name must not be empty"));
    }
    if name.len() > MAX_LEN {
        return Err(ApiError::invalid_argument(format!(
            "file name is longer than {MAX_LEN} bytes"
        )));
    }
    if name.contains('\0') {
        return Err(ApiError::invalid_argument("file name must not contain NUL"));
    }
    if name.contains('/') {
        return Err(ApiError::invalid_argument(format!(
            "file name '{}' must not contain '/': put folders in dir",
            name.escape_debug()
        )));
    }
    if name == "." || name == ".." {
        return Err(ApiError::invalid_argument(
            "file name must not be '.' or '..'",
        ));
    }
    Ok(())
}

/// `dir + "/" + name` without doubling the slash at the root.
pub fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The delivery URL of a file: `base/files/{namespace}{dir}/{name}` with
/// every segment percent-encoded.
pub fn file_url(base: &str, ns: &str, dir: &str, name: &str) -> String {
    let mut url = String::with_capacity(base.len() + ns.len() + dir.len() + name.len() + 16);
    url.push_str(base.trim_end_matches('/'));
    url.push_str("/files/");
    url.extend(utf8_percent_encode(ns, SEGMENT));
    for seg in dir.split('/').filter(|s| !s.is_empty()) {
        url.push('/');
        url.extend(utf8_percent_encode(seg, SEGMENT));
    }
    url.push('/');
    url.extend(utf8_percent_encode(name, SEGMENT));
    url
}

/// Range bounds for folder prefix queries: every path strictly below `dir`
/// is in `[lo, hi)`, because `'0'` is the character after `'/'`.
pub fn below_range(dir: &str) -> (String, String) {
    if dir == "/" {
        ("/".into(), "0".into())
    } else {
        (format!("{dir}/"), format!("{dir}0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirs() {
        assert_eq!(normalize_dir("").unwrap(), "/");
        assert_eq!(normalize_dir("/").unwrap(), "/");
        assert_eq!(normalize_dir("a//b/").unwrap(), "/a/b");
        assert!(normalize_dir("/a/../b").is_err());
        assert!(normalize_dir("/a/\0").is_err());
        assert_eq!(normalize_dir("/a\\..\\b").unwrap(), "/a\\..\\b");
    }

    #[test]
    fn urls() {
        assert_eq!(
            file_url("http://h:1/", "ns", "/a b/c", "x+y%&?#é.txt"),
            "http://h:1/files/ns/a%20b/c/x%2By%25%26%3F%23%C3%A9.txt"
        );
        assert_eq!(file_url("http://h", "ns", "/", "n"), "http://h/files/ns/n");
        assert_eq!(join("/", "n"), "/n");
        assert_eq!(join("/d", "n"), "/d/n");
    }
}
