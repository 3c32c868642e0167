//! Media processing and content scanning requests (docs/protocol.md §6):
//! persistent tasks, transcoding, video snapshots, porn and advertising
//! scans and scan feedback. The client builds them exactly; wantu-server
//! validates them and answers 501 `UnsupportedOperation`.

use super::files::file_rid;
use super::request::{id_segment, ManageRequest};
use crate::client::Client;
use crate::error::{Error, Result};
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

/// A stored file: namespace, folder, name.
#[derive(Debug, Clone, Copy)]
pub struct FileRef<'a> {
    pub ns: &'a str,
    pub dir: &'a str,
    pub name: &'a str,
}

impl FileRef<'_> {
    fn rid(&self) -> Result<String> {
        file_rid(self.ns, self.dir, self.name)
    }
}

fn flag(on: bool) -> &'static str {
    if on {
        "1"
    } else {
        "0"
    }
}

/// Optional transcoding settings, read from a JSON object whose keys are
/// these field names; unknown keys are refused so a typo is not ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncodeOptions {
    /// `usePreset`: `encode_template` names a preset template (default false).
    #[serde(deserialize_with = "bool_or_01")]
    pub use_preset: bool,
    /// `force`: transcode again even if the output exists (default false).
    #[serde(deserialize_with = "bool_or_01")]
    pub force: bool,
    /// `watermark`: apply `watermark_template` (default false: not sent).
    #[serde(deserialize_with = "bool_or_01")]
    pub watermark: bool,
    pub watermark_template: Option<String>,
    pub notify_url: Option<String>,
    /// Passed through as the service defines them.
    pub seek: Option<serde_json::Number>,
    pub duration: Option<serde_json::Number>,
}

/// Booleans as C callers write them: `true`/`false` or `1`/`0`.
fn bool_or_01<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Ok(b),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        other => Err(serde::de::Error::custom(format!(
            "expected true, false, 0 or 1, not {other}"
        ))),
    }
}

impl EncodeOptions {
    pub fn from_json(text: Option<&str>) -> Result<EncodeOptions> {
        crate::options_json::parse(text, r#"{"force":true}"#)
    }
}

/// What a scan looks at: stored files (sent as `resourceId`) or public URLs
/// (sent as `url`), one request for all of them, `;`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanTargets {
    ResourceIds(Vec<String>),
    Urls(Vec<String>),
}

impl ScanTargets {
    /// From the C arguments: `files_json` is a JSON array whose items are
    /// `"/dir/name"` paths or `{"dir":…,"name":…}` objects in namespace `ns`;
    /// `urls_json` a JSON array of URL strings. Exactly one of them.
    pub fn parse(ns: &str, files_json: Option<&str>, urls_json: Option<&str>) -> Result<Self> {
        match (files_json, urls_json) {
            (Some(files), None) => {
                let items = json_array("files_json", files)?;
                let rids = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let (dir, name) = file_item(i, item)?;
                        file_rid(ns, &dir, &name).map_err(|e| {
                            Error::invalid(format!("`files_json`[{i}]: {}", e.message()))
                        })
                    })
                    .collect::<Result<_>>()?;
                Ok(ScanTargets::ResourceIds(rids))
            }
            (None, Some(urls)) => {
                let items = json_array("urls_json", urls)?;
                let urls = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| match item.as_str().map(str::trim) {
                        Some(u) if !u.is_empty() && !u.contains(';') => Ok(u.to_string()),
                        _ => Err(Error::invalid(format!(
                            "`urls_json`[{i}] must be a non-empty URL string without ';', not {item}"
                        ))),
                    })
                    .collect::<Result<_>>()?;
                Ok(ScanTargets::Urls(urls))
            }
            _ => Err(Error::invalid(
                "pass exactly one of `files_json` (stored files) and `urls_json` (URLs); \
                 the other must be NULL",
            )),
        }
    }

    fn field(&self) -> (&'static str, String) {
        match self {
            ScanTargets::ResourceIds(r) => ("resourceId", r.join(";")),
            ScanTargets::Urls(u) => ("url", u.join(";")),
        }
    }
}

fn json_array(arg: &str, text: &str) -> Result<Vec<Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Array(items)) if !items.is_empty() => Ok(items),
        Ok(Value::Array(_)) => Err(Error::invalid(format!("`{arg}` is an empty array"))),
        Ok(other) => Err(Error::invalid(format!(
            "`{arg}` must be a JSON array, not {other}"
        ))),
        Err(e) => Err(Error::invalid(format!("`{arg}` is not valid JSON: {e}"))),
    }
}

/// `"/dir/name"` → (`/dir`, `name`); `{"dir","name"}` as given.
fn file_item(i: usize, item: &Value) -> Result<(String, String)> {
    match item {
        Value::String(path) => match path.rsplit_once('/') {
            Some((dir, name)) => Ok((dir.to_string(), name.to_string())),
            None => Ok(("/".to_string(), path.clone())),
        },
        Value::Object(o) => match (o.get("dir"), o.get("name")) {
            (Some(Value::String(d)), Some(Value::String(n))) => Ok((d.clone(), n.clone())),
            _ => Err(Error::invalid(format!(
                "`files_json`[{i}] needs string fields \"dir\" and \"name\""
            ))),
        },
        other => Err(Error::invalid(format!(
            "`files_json`[{i}] must be a \"/dir/name\" string or a {{\"dir\",\"name\"}} object, not {other}"
        ))),
    }
}

/// Each feedback item as the compact JSON text sent in one `feedback` field
/// (keys come out sorted: serde_json's map is ordered; the order carries no
/// meaning).
/// Accepts an array of objects or a single object.
pub fn parse_feedback(text: &str) -> Result<Vec<String>> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Error::invalid(format!("`feedback_json` is not valid JSON: {e}")))?;
    let items = match value {
        Value::Array(items) => items,
        obj @ Value::Object(_) => vec![obj],
        other => {
            return Err(Error::invalid(format!(
                "`feedback_json` must be a JSON array of objects, not {other}"
            )))
        }
    };
    if items.is_empty() {
        return Err(Error::invalid("`feedback_json` is an empty array"));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(_) => Ok(item.to_string()),
            other => Err(Error::invalid(format!(
                "`feedback_json`[{i}] must be a JSON object, not {other}"
            ))),
        })
        .collect()
}

fn non_empty<'a>(arg: &str, text: &'a str) -> Result<&'a str> {
    match text.trim() {
        "" => Err(Error::invalid(format!("`{arg}` is empty"))),
        t => Ok(t),
    }
}

impl Client {
    /// Adds a persistent processing task (`fops`, e.g. an image or video
    /// operation chain) on a stored file. Real service: `{"persistent_id"}`.
    pub async fn pts_add(
        &self,
        file: FileRef<'_>,
        fops: &str,
        notify_url: Option<&str>,
        force: bool,
    ) -> Result<Value> {
        let mut request =
            ManageRequest::new(Method::POST, "/3.0/pts".into(), "add persistent task")
                .field("resourceId", file.rid()?)
                .field("fops", non_empty("fops", fops)?)
                .field("force", flag(force));
        if let Some(url) = notify_url {
            request = request.field("notifyURL", url);
        }
        self.manage(request).await
    }

    pub async fn pts_get(&self, persistent_id: &str) -> Result<Value> {
        let id = id_segment("persistent_id", persistent_id)?;
        self.manage(ManageRequest::new(
            Method::GET,
            format!("/3.0/pts/{id}"),
            "get persistent task",
        ))
        .await
    }

    /// Transcodes `input` into `output` with `encode_template`. Real
    /// service: `{"task_id"}`.
    pub async fn media_encode(
        &self,
        input: FileRef<'_>,
        output: FileRef<'_>,
        encode_template: &str,
        options: &EncodeOptions,
    ) -> Result<Value> {
        let mut request = ManageRequest::new(Method::POST, "/3.0/mediaEncode".into(), "transcode")
            .field("input", input.rid()?)
            .field("output", output.rid()?)
            .field(
                "encodeTemplate",
                non_empty("encode_template", encode_template)?,
            )
            .field("usePreset", flag(options.use_preset))
            .field("force", flag(options.force));
        if options.watermark {
            request = request.field("watermark", "1");
        }
        if let Some(t) = &options.watermark_template {
            request = request.field("watermarkTemplate", t.as_str());
        }
        if let Some(u) = &options.notify_url {
            request = request.field("notifyUrl", u.as_str());
        }
        if let Some(s) = &options.seek {
            request = request.field("seek", s.to_string());
        }
        if let Some(d) = &options.duration {
            request = request.field("duration", d.to_string());
        }
        self.manage(request).await
    }

    pub async fn media_encode_result(&self, task_id: &str) -> Result<Value> {
        let id = id_segment("task_id", task_id)?;
        self.manage(ManageRequest::new(
            Method::GET,
            format!("/3.0/mediaEncodeResult/{id}"),
            "transcode result",
        ))
        .await
    }

    /// Takes a still of video `input` at `time_ms` into `output`. Real
    /// service: `{"task_id"}`.
    pub async fn snapshot(
        &self,
        input: FileRef<'_>,
        output: FileRef<'_>,
        time_ms: i64,
        notify_url: Option<&str>,
    ) -> Result<Value> {
        if time_ms < 0 {
            return Err(Error::invalid(format!(
                "`time_ms` must be 0 or more milliseconds into the video, not {time_ms}"
            )));
        }
        let mut request =
            ManageRequest::new(Method::POST, "/3.0/snapshot".into(), "video snapshot")
                .field("input", input.rid()?)
                .field("output", output.rid()?)
                .field("time", time_ms.to_string());
        if let Some(u) = notify_url {
            request = request.field("notifyUrl", u);
        }
        self.manage(request).await
    }

    pub async fn snapshot_result(&self, task_id: &str) -> Result<Value> {
        let id = id_segment("task_id", task_id)?;
        self.manage(ManageRequest::new(
            Method::GET,
            format!("/3.0/snapshotResult/{id}"),
            "snapshot result",
        ))
        .await
    }

    /// Porn scan of stored files or URLs. Real service: `{"result":[…]}`.
    pub async fn scan_porn(&self, targets: &ScanTargets) -> Result<Value> {
        let (key, value) = targets.field();
        self.manage(
            ManageRequest::new(Method::POST, "/3.1/scanPorn".into(), "porn scan").field(key, value),
        )
        .await
    }

    /// Advertising scan of stored files or URLs. Real service: `{"result":[…]}`.
    pub async fn scan_advertising(&self, targets: &ScanTargets) -> Result<Value> {
        let (key, value) = targets.field();
        self.manage(
            ManageRequest::new(
                Method::POST,
                "/3.1/scanAdvertising".into(),
                "advertising scan",
            )
            .field(key, value),
        )
        .await
    }

    /// Reports scan mistakes: one `feedback` field per item (compact JSON).
    pub async fn scan_feedback(&self, items: &[String]) -> Result<Value> {
        if items.is_empty() {
            return Err(Error::invalid("`feedback_json` is an empty array"));
        }
        let mut request = ManageRequest::new(Method::POST, "/3.1/feedback".into(), "scan feedback");
        for item in items {
            request = request.field("feedback", item.as_str());
        }
        self.manage(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::file_resource_id;

    #[test]
    fn scan_targets() {
        let t = ScanTargets::parse(
            "ns",
            Some(r#"["/a/b.jpg",{"dir":"c","name":"d e.png"},"x"]"#),
            None,
        )
        .unwrap();
        assert_eq!(
            t.field(),
            (
                "resourceId",
                [
                    file_resource_id("ns", "/a", "b.jpg"),
                    file_resource_id("ns", "/c", "d e.png"),
                    file_resource_id("ns", "/", "x"),
                ]
                .join(";")
            )
        );
        let t = ScanTargets::parse("ns", None, Some(r#"["http://a/1","http://b/2"]"#)).unwrap();
        assert_eq!(t.field(), ("url", "http://a/1;http://b/2".to_string()));
        for (files, urls, needle) in [
            (None, None, "exactly one"),
            (Some("[]"), Some("[]"), "exactly one"),
            (Some("[]"), None, "empty"),
            (Some("{"), None, "not valid JSON"),
            (Some("[1]"), None, "`files_json`[0]"),
            (Some(r#"["/a/"]"#), None, "`files_json`[0]"),
            (None, Some(r#"["a;b"]"#), "`urls_json`[0]"),
        ] {
            let e = ScanTargets::parse("ns", files, urls).unwrap_err();
            assert!(e.message().contains(needle), "{files:?} {urls:?}: {e}");
        }
    }

    #[test]
    fn feedback_items() {
        assert_eq!(
            parse_feedback(r#"[{"url":"u","label":1}, {"a" : 2}]"#).unwrap(),
            vec![
                r#"{"label":1,"url":"u"}"#.to_string(),
                r#"{"a":2}"#.to_string()
            ]
        );
        assert_eq!(parse_feedback(r#"{"a":1}"#).unwrap().len(), 1);
        for bad in ["[]", "[1]", "7", "{"] {
            assert!(parse_feedback(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn encode_options() {
        let o = EncodeOptions::from_json(Some(
            r#"{"use_preset":1,"force":true,"watermark":0,"notify_url":"http://n","seek":1.5,"duration":10}"#,
        ))
        .unwrap();
        assert!(o.use_preset && o.force && !o.watermark);
        assert_eq!(o.seek.unwrap().to_string(), "1.5");
        assert!(EncodeOptions::from_json(None).unwrap().notify_url.is_none());
        for bad in [r#"{"usePreset":1}"#, r#"{"force":2}"#, "[", "[1]"] {
            let e = EncodeOptions::from_json(Some(bad)).unwrap_err();
            assert!(e.message().contains("`options_json`"), "{bad}: {e}");
        }
    }
}
