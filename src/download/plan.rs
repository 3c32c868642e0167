//! Which remote names a folder download may write (the listing itself is
//! `lister.rs`; `include` and `exclude` are `crate::tree::Filters`, shared
//! with folder uploads).
//!
//! Remote names are untrusted input. A name is refused (for that file or
//! folder only) when it could step outside `local_dir` or mean something
//! else locally: empty, `.`, `..`, or holding `/`, `\` or NUL; on Windows
//! also what Windows reads as something else (`windows_problem`).

use crate::error::{Error, Result};

/// Checks one remote name before it becomes part of a local path.
pub fn safe_segment(name: &str) -> Result<&str> {
    let bad = |why: &str| {
        Err(Error::invalid(format!(
            "remote name {name:?} {why}; it was not written to disk"
        )))
    };
    match name {
        "" => bad("is empty"),
        "." | ".." => bad("would leave the local folder"),
        n if n.contains('/') || n.contains('\\') => bad("contains a path separator"),
        n if n.contains('\0') => bad("contains a NUL byte"),
        n => match windows_problem(n) {
            Some(why) if cfg!(windows) => bad(why),
            _ => Ok(n),
        },
    }
}

/// Why Windows cannot hold `name` as a file or folder of that name, if it
/// cannot. A `:` makes `C:x` a drive-relative path, which `Path::join`
/// puts outside the local folder altogether, and `a:b` a stream of `a`;
/// `CON`, `NUL` and the other devices (with any extension) are not files;
/// `<>"|?*` and control characters are invalid; a trailing dot or space is
/// dropped, so the file would be stored under another name (and could
/// overwrite that one). Checked on every platform by the tests, applied on
/// Windows only: these are ordinary names on Unix.
pub fn windows_problem(name: &str) -> Option<&'static str> {
    const DEVICES: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    if name.contains(':') {
        return Some("contains `:`, which Windows reads as a drive or a stream");
    }
    if name
        .chars()
        .any(|c| matches!(c, '<' | '>' | '"' | '|' | '?' | '*') || c < ' ')
    {
        return Some(
            "contains a character Windows does not allow in names (<>\"|?* or a control character)",
        );
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Some("ends in a dot or space, which Windows drops");
    }
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    if DEVICES.iter().any(|d| d.eq_ignore_ascii_case(stem)) {
        return Some("is a device name on Windows");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_refused() {
        for bad in ["", ".", "..", "a/b", "..\\x", "a\0b"] {
            assert_eq!(
                safe_segment(bad).unwrap_err().name(),
                "InvalidArgument",
                "{bad:?}"
            );
        }
        for good in ["a b", "100%#1", "中文", "😀.jpg", "..a", ".hidden"] {
            assert!(safe_segment(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn names_windows_reads_otherwise_are_found() {
        for bad in [
            "C:x.txt",
            "c:",
            "a:b",
            "NUL",
            "nul.txt",
            "Con",
            "com1.log",
            "LPT9",
            "aux .txt",
            "q?.txt",
            "a*b",
            "a<b",
            "a>b",
            "a|b",
            "a\"b",
            "tab\there",
            "trail.",
            "trail ",
        ] {
            assert!(windows_problem(bad).is_some(), "{bad:?}");
            assert_eq!(safe_segment(bad).is_err(), cfg!(windows), "{bad:?}");
        }
        for good in [
            "a b",
            "100%#1",
            "中文",
            "😀.jpg",
            ".hidden",
            "..a",
            "console",
            "nullify.txt",
            "com10",
            "lpt",
            "a.b.c",
            "#1",
        ] {
            assert_eq!(windows_problem(good), None, "{good:?}");
        }
    }
}
