//! A stored file as the library knows it: its name, where to GET it, its
//! size and MD5, taken from the manage API's file object (`file_get` or a
//! listing item) and checked, since the service's answer is input like
//! any other. Downloads fetch it; the `skip` rules of folder uploads
//! compare against it.

use crate::error::{Error, Result};
use serde_json::Value;

/// A stored file: where to GET it, how long it is, and its MD5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    pub name: String,
    pub url: String,
    pub size: u64,
    /// Lower-case hex.
    pub md5: String,
    /// The modification time its upload recorded (`mtime::MTIME_KEY`),
    /// set on the downloaded file.
    pub mtime_ms: Option<i64>,
}

impl RemoteFile {
    /// Reads `url`, `size` and `md5` from a file object; `what` names the
    /// file in errors.
    pub fn from_object(v: &Value, what: &str) -> Result<RemoteFile> {
        let bad = |why: &str| {
            Error::InvalidResponse(format!("the service's metadata of {what} {why}: {v}"))
        };
        let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
        let url = v
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("has no `url`"))?;
        let parsed = reqwest::Url::parse(url).map_err(|_| bad("has an unusable `url`"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("has a `url` that is not http(s)"));
        }
        // Sizes come as numbers; a numeric string is accepted too.
        let size = match v.get("size") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| bad("has no usable `size`"))?;
        let md5 = v
            .get("md5")
            .and_then(Value::as_str)
            .filter(|m| m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| bad("has no usable `md5`"))?
            .to_ascii_lowercase();
        Ok(RemoteFile {
            name: name.to_string(),
            url: url.to_string(),
            size,
            md5,
            mtime_ms: crate::mtime::of_object(v),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_is_checked() {
        let ok = json!({"name":"a","url":"http://h/files/ns/a","size":3,
            "md5":"900150983CD24FB0D6963F7D28E17F72"});
        let f = RemoteFile::from_object(&ok, "a").unwrap();
        assert_eq!(
            (f.size, f.md5.as_str(), f.mtime_ms),
            (3, "900150983cd24fb0d6963f7d28e17f72", None)
        );
        let timed = json!({"url":"http://h/a","size":3,"md5":"0".repeat(32),
            "meta":{"wantu-mtime":"1700000000123"}});
        let f = RemoteFile::from_object(&timed, "a").unwrap();
        assert_eq!(f.mtime_ms, Some(1_700_000_000_123));
        for (bad, needle) in [
            (json!({"url":"http://h/a","size":3}), "`md5`"),
            (
                json!({"url":"file:///etc/passwd","size":3,"md5":"0".repeat(32)}),
                "http",
            ),
            (
                json!({"url":"http://h/a","size":-3,"md5":"0".repeat(32)}),
                "`size`",
            ),
            (json!({"size":3,"md5":"0".repeat(32)}), "`url`"),
        ] {
            let e = RemoteFile::from_object(&bad, "a").unwrap_err();
            assert!(e.message().contains(needle), "{e}");
        }
    }
}
