//! Upload policy parsing and magic-variable rendering (docs/protocol.md, upload policy).

use std::collections::HashMap;

use serde_json::Value;

/// A parsed upload policy. SDKs send numbers either as JSON numbers or as
/// numeric strings, sometimes `null`; all of that is accepted here.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub namespace: String,
    /// Absolute expiry in Unix milliseconds; -1 never expires.
    pub expiration: i64,
    pub insert_only: bool,
    pub detect_mime: bool,
    pub dir: Option<String>,
    pub name: Option<String>,
    /// 0 means no limit.
    pub size_limit: u64,
    pub mime_limit: Option<String>,
    pub callback_url: Option<String>,
    pub callback_host: Option<String>,
    pub callback_body: Option<String>,
    pub callback_body_type: Option<String>,
    pub return_url: Option<String>,
    pub return_body: Option<String>,
}

/// A JSON value as an integer: numbers and numeric strings; `None` for null
/// or absence, `Err` for anything else.
fn int_field(obj: &serde_json::Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| format!("policy field '{key}' must be an integer")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("policy field '{key}' must be an integer, got '{s}'")),
        Some(Value::Bool(b)) => Ok(Some(*b as i64)),
        Some(_) => Err(format!("policy field '{key}' must be an integer")),
    }
}

/// A JSON value as text; empty strings count as absent so that the form
/// field can take over.
fn str_field(obj: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("policy field '{key}' must be a string")),
    }
}

impl Policy {
    pub fn parse(json: &[u8]) -> Result<Policy, String> {
        let value: Value =
            serde_json::from_slice(json).map_err(|e| format!("policy is not valid JSON: {e}"))?;
        let Value::Object(obj) = value else {
            return Err("policy must be a JSON object".into());
        };
        // CLOUD keys name the space `bucket`.
        let namespace = match str_field(&obj, "namespace")? {
            Some(ns) => ns,
            None => str_field(&obj, "bucket")?.ok_or("policy has no 'namespace' (or 'bucket')")?,
        };
        let expiration = int_field(&obj, "expiration")?.ok_or("policy has no 'expiration'")?;
        let size_limit = int_field(&obj, "sizeLimit")?.unwrap_or(0);
        if size_limit < 0 {
            return Err("policy 'sizeLimit' must not be negative".into());
        }
        Ok(Policy {
            namespace,
            expiration,
            insert_only: int_field(&obj, "insertOnly")?.unwrap_or(0) != 0,
            detect_mime: int_field(&obj, "detectMime")?.unwrap_or(1) != 0,
            dir: str_field(&obj, "dir")?,
            name: str_field(&obj, "name")?,
            size_limit: size_limit as u64,
            mime_limit: str_field(&obj, "mimeLimit")?,
            callback_url: str_field(&obj, "callbackUrl")?,
            callback_host: str_field(&obj, "callbackHost")?,
            callback_body: str_field(&obj, "callbackBody")?,
            callback_body_type: str_field(&obj, "callbackBodyType")?,
            return_url: str_field(&obj, "returnUrl")?,
            return_body: str_field(&obj, "returnBody")?,
        })
    }

    /// Whether `mime` is allowed by `mimeLimit` (`;`-separated patterns with a
    /// `*` wildcard in the subtype, or `*` / `*/*` for anything).
    pub fn mime_allowed(&self, mime: &str) -> bool {
        let Some(limit) = &self.mime_limit else {
            return true;
        };
        let mime = mime.to_ascii_lowercase();
        let (top, sub) = mime.split_once('/').unwrap_or((&mime, ""));
        limit
            .split(';')
            .map(|p| p.trim().to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .any(|p| match p.split_once('/') {
                _ if p == "*" => true,
                Some((pt, ps)) => (pt == "*" || pt == top) && (ps == "*" || ps == sub),
                None => p == top,
            })
    }
}

/// Values for `${…}` magic variables. Content-dependent ones are filled in
/// once known; anything missing is left in the text as it is.
#[derive(Debug, Default, Clone)]
pub struct Vars {
    values: HashMap<&'static str, String>,
    custom: HashMap<String, String>,
}

impl Vars {
    pub fn new(custom: HashMap<String, String>) -> Self {
        Vars {
            values: HashMap::new(),
            custom,
        }
    }

    pub fn set(&mut self, key: &'static str, value: impl Into<String>) -> &mut Self {
        self.values.insert(key, value.into());
        self
    }

    pub fn unset(&mut self, key: &'static str) -> &mut Self {
        self.values.remove(key);
        self
    }

    /// Date and time variables from the server's local clock.
    pub fn set_time(&mut self, now: chrono::DateTime<chrono::Local>) -> &mut Self {
        for (k, f) in [
            ("year", "%Y"),
            ("month", "%m"),
            ("day", "%d"),
            ("hour", "%H"),
            ("minute", "%M"),
            ("second", "%S"),
        ] {
            self.values.insert(k, now.format(f).to_string());
        }
        self
    }

    /// Replaces `${key}` occurrences; `${var-<key>}` refers to custom
    /// variables from `var-<key>` form fields. Unknown variables stay as is.
    pub fn render(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let key = &after[..end];
            let value = match key.strip_prefix("var-") {
                Some(custom) => self.custom.get(custom),
                None => self.values.get(key),
            };
            match value {
                Some(v) => out.push_str(v),
                None => out.push_str(&rest[start..start + 2 + end + 1]),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Extension without the dot, or "" when the name has none.
pub fn extension(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_strings_nulls_unknown_keys() {
        let p = Policy::parse(
            br#"{"namespace":"ns","expiration":"-1","insertOnly":"1","detectMime":null,
                "sizeLimit":"100","whatever":[1,2],"dir":null,"name":""}"#,
        )
        .unwrap();
        assert_eq!(p.expiration, -1);
        assert!(p.insert_only && p.detect_mime);
        assert_eq!(p.size_limit, 100);
        assert!(p.dir.is_none() && p.name.is_none());
        let p = Policy::parse(br#"{"bucket":"b","expiration":1.7e12}"#).unwrap();
        assert_eq!(
            (p.namespace.as_str(), p.expiration),
            ("b", 1_700_000_000_000)
        );
        assert!(Policy::parse(br#"{"expiration":-1}"#).is_err());
        assert!(Policy::parse(br#"{"namespace":"a"}"#).is_err());
        assert!(Policy::parse(br#"{"namespace":"a","expiration":"soon"}"#).is_err());
        assert!(Policy::parse(b"[1]").is_err());
    }

    #[test]
    fn mime_limits() {
        let mut p = Policy {
            mime_limit: Some("image/*; video/mp4".into()),
            ..Default::default()
        };
        assert!(p.mime_allowed("image/png") && p.mime_allowed("video/mp4"));
        assert!(!p.mime_allowed("video/webm") && !p.mime_allowed("text/plain"));
        p.mime_limit = Some("*/*".into());
        assert!(p.mime_allowed("text/plain"));
    }

    #[test]
    fn render_magic_and_custom() {
        let mut v = Vars::new(HashMap::from([("k".to_string(), "V".to_string())]));
        v.set("ext", "jpg").set("namespace", "ns");
        assert_eq!(
            v.render("/${namespace}/${var-k}/${unknown}/${var-x}.${ext}${"),
            "/ns/V/${unknown}/${var-x}.jpg${"
        );
        assert_eq!(extension("a.tar.gz"), "gz");
        assert_eq!(extension(".bashrc"), "");
        assert_eq!(extension("noext"), "");
    }
}
