//! Simple uploads (docs/protocol.md §4, `/api/proxy/upload`) and the form
//! building that every upload-host request shares.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::policy::Policy;
use bytes::Bytes;
use reqwest::multipart::{Form, Part};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Where an upload goes and what travels with it.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub dir: Option<String>,
    pub name: Option<String>,
    /// `meta-<key>` fields: user metadata stored with the file.
    pub meta: Vec<(String, String)>,
    /// `var-<key>` fields: custom magic variables for the policy templates.
    pub vars: Vec<(String, String)>,
}

impl Target {
    /// The seed's arguments; `meta_json` and `var_json` are JSON objects or None.
    pub fn new(
        dir: Option<&str>,
        name: Option<&str>,
        meta_json: Option<&str>,
        var_json: Option<&str>,
    ) -> Result<Target> {
        Ok(Target {
            dir: dir.map(str::to_string),
            name: name.map(str::to_string),
            meta: string_map("meta", meta_json)?,
            vars: string_map("var", var_json)?,
        })
    }
}

/// Reads a dict-like argument (`{"k":"v"}`); numbers and booleans are sent as
/// their text, as the seed's Python would format them.
pub fn string_map(arg: &str, json: Option<&str>) -> Result<Vec<(String, String)>> {
    let Some(text) = json.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Error::invalid(format!("`{arg}` is not valid JSON: {e}")))?;
    let map: Map<String, Value> = match value {
        Value::Object(m) => m,
        Value::Null => return Ok(Vec::new()),
        other => {
            return Err(Error::invalid(format!(
                "`{arg}` must be a JSON object of strings, not {other}"
            )))
        }
    };
    map.into_iter()
        .map(|(k, v)| {
            if k.is_empty() {
                return Err(Error::invalid(format!("`{arg}` has an empty key")));
            }
            let text = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    return Err(Error::invalid(format!(
                        "`{arg}` value of {k:?} must be a string, number or boolean, not {other}"
                    )))
                }
            };
            Ok((k, text))
        })
        .collect()
}

/// Checks an optional `md5` argument: 32 hex digits, sent in lower case.
pub fn check_md5(md5: Option<&str>) -> Result<Option<String>> {
    match md5.map(str::trim) {
        None | Some("") => Ok(None),
        Some(m) if m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(m.to_ascii_lowercase()))
        }
        Some(m) => Err(Error::invalid(format!(
            "`md5` must be 32 hexadecimal digits, not {m:?}"
        ))),
    }
}

/// The bytes of one request: in memory, or streamed from a file on disk.
#[derive(Debug, Clone)]
pub enum Content {
    Bytes(Bytes),
    File(PathBuf),
    /// Bytes or a file whose chunks are reported to the meter as the
    /// connection takes them: byte-level progress for the parallel uploader.
    Metered(Box<Content>, Meter),
}

/// Receives the size of each body chunk as the HTTP connection takes it.
#[derive(Clone)]
pub struct Meter(pub std::sync::Arc<dyn Fn(u64) + Send + Sync>);

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Meter")
    }
}

/// Chunk size of metered bodies: small enough for smooth progress, large
/// enough that per-chunk overhead does not show.
const METER_CHUNK: usize = 128 * 1024;

impl Content {
    /// The `content` part and its size. A file is streamed from disk, so a
    /// file of any size costs a small read buffer, not its size in memory.
    async fn into_part(self, file_name: &str) -> Result<(Part, u64)> {
        let (part, len) = match self {
            Content::Bytes(b) => {
                let len = b.len() as u64;
                (Part::stream_with_length(reqwest::Body::from(b), len), len)
            }
            Content::File(path) => {
                let (file, len) = open_regular_file(&path).await?;
                let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
                (
                    Part::stream_with_length(reqwest::Body::wrap_stream(stream), len),
                    len,
                )
            }
            Content::Metered(inner, meter) => {
                use futures_util::{StreamExt, TryStreamExt};
                type Chunks = futures_util::stream::BoxStream<'static, std::io::Result<Bytes>>;
                let (stream, len): (Chunks, u64) = match *inner {
                    Content::Bytes(b) => {
                        let len = b.len();
                        let chunks = (0..len)
                            .step_by(METER_CHUNK)
                            .map(move |at| Ok(b.slice(at..(at + METER_CHUNK).min(len))));
                        (futures_util::stream::iter(chunks).boxed(), len as u64)
                    }
                    Content::File(path) => {
                        let (file, len) = open_regular_file(&path).await?;
                        let s = tokio_util::io::ReaderStream::with_capacity(file, METER_CHUNK);
                        (s.boxed(), len)
                    }
                    Content::Metered(..) => {
                        return Err(Error::Internal("metered content nested in itself".into()))
                    }
                };
                let stream = stream.inspect_ok(move |chunk| (meter.0)(chunk.len() as u64));
                (
                    Part::stream_with_length(reqwest::Body::wrap_stream(stream), len),
                    len,
                )
            }
        };
        let part = part
            .file_name(file_name.to_string())
            .mime_str("application/octet-stream")
            .map_err(|e| Error::Internal(format!("content type: {e}")))?;
        Ok((part, len))
    }
}

/// Opens a file for upload, refusing what cannot be uploaded with a message
/// that names the file.
pub async fn open_regular_file(path: &Path) -> Result<(tokio::fs::File, u64)> {
    let shown = path.display();
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::Io(format!("cannot open file {shown}: {e}")))?;
    let meta = file
        .metadata()
        .await
        .map_err(|e| Error::Io(format!("cannot read the size of {shown}: {e}")))?;
    if meta.is_dir() {
        return Err(Error::Io(format!(
            "{shown} is a directory; give the path of a file"
        )));
    }
    Ok((file, meta.len()))
}

/// The text fields of a request, in order; `content` is added last.
pub type Fields = Vec<(String, String)>;

pub fn push(fields: &mut Fields, key: &str, value: impl Into<String>) {
    fields.push((key.to_string(), value.into()));
}

/// `dir`, `name`, `meta-*`, `var-*` of a target.
pub fn target_fields(fields: &mut Fields, target: &Target) {
    if let Some(dir) = &target.dir {
        push(fields, "dir", dir.as_str());
    }
    if let Some(name) = &target.name {
        push(fields, "name", name.as_str());
    }
    for (k, v) in &target.meta {
        push(fields, &format!("meta-{k}"), v.as_str());
    }
    for (k, v) in &target.vars {
        push(fields, &format!("var-{k}"), v.as_str());
    }
}

impl Client {
    /// The upload token for a policy (docs/protocol.md §2).
    pub fn upload_token(&self, policy: &Policy) -> String {
        let c = self.config();
        crate::auth::upload_token(&c.access_key, &c.secret_key, c.key_type, policy.text())
    }

    /// POSTs one upload-host request: text fields first, then `size` and
    /// `content` when there is content, as docs/protocol.md §4 orders them.
    pub async fn post_upload(
        &self,
        path: &str,
        policy: &Policy,
        mut fields: Fields,
        content: Option<(Content, &str)>,
        what: &str,
    ) -> Result<Value> {
        let mut content_part = None;
        if let Some((content, file_name)) = content {
            let (part, len) = content.into_part(file_name).await?;
            // `size` goes before `md5` and the other fields do not care.
            fields.insert(0, ("size".to_string(), len.to_string()));
            content_part = Some(part);
        }
        let mut form = Form::new();
        for (k, v) in fields {
            form = form.text(k, v);
        }
        if let Some(part) = content_part {
            form = form.part("content", part);
        }
        let request = self
            .http()
            .post(self.upload_url(path))
            .header(reqwest::header::AUTHORIZATION, self.upload_token(policy))
            .multipart(form);
        self.send(request, what).await
    }

    /// The seed's `upload_file` / `upload_content`: one request, one file.
    pub async fn upload(
        &self,
        policy: &Policy,
        target: &Target,
        content: Content,
        md5: Option<&str>,
    ) -> Result<Value> {
        self.post_new_file("/api/proxy/upload", policy, target, content, md5, "upload")
            .await
    }

    /// A request that starts a file (`upload` or `blockInit`): the target's
    /// fields, the content's `md5` if given, then the content.
    pub(crate) async fn post_new_file(
        &self,
        path: &str,
        policy: &Policy,
        target: &Target,
        content: Content,
        md5: Option<&str>,
        what: &str,
    ) -> Result<Value> {
        let md5 = check_md5(md5)?;
        let mut fields = Fields::new();
        target_fields(&mut fields, target);
        if let Some(m) = md5 {
            push(&mut fields, "md5", m);
        }
        let file_name = content_file_name(policy, target, &content)?;
        self.post_upload(path, policy, fields, Some((content, &file_name)), what)
            .await
    }
}

/// The `filename` of the content part: the target name, else the local
/// file's name. Bytes with neither a `name` argument nor a policy `name`
/// are refused: the server would otherwise store them under whatever
/// placeholder the client sent, which nobody asked for.
pub fn content_file_name(policy: &Policy, target: &Target, content: &Content) -> Result<String> {
    if let Some(name) = target.name.as_deref().filter(|n| !n.is_empty()) {
        return Ok(name.to_string());
    }
    match content {
        Content::File(p) => Ok(p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "content".into())),
        Content::Metered(inner, _) => content_file_name(policy, target, inner),
        // The policy's name (magic variables allowed) wins on the server.
        Content::Bytes(_) if policy.names_file() => Ok("content".into()),
        Content::Bytes(_) => Err(Error::invalid(
            "`name` is NULL or empty and the policy has no \"name\": \
             say what to call the uploaded bytes",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_maps() {
        let m = string_map("meta", Some(r#"{"a":"1","n":2,"b":true}"#)).unwrap();
        assert_eq!(m.len(), 3);
        assert!(string_map("meta", None).unwrap().is_empty());
        assert!(string_map("meta", Some("null")).unwrap().is_empty());
        for bad in ["[1]", "\"x\"", "{", r#"{"a":{"b":1}}"#, r#"{"":"v"}"#] {
            let e = string_map("meta", Some(bad)).unwrap_err();
            assert!(e.message().contains("`meta`"), "{bad}: {e}");
        }
    }

    #[test]
    fn bytes_need_a_name_from_the_call_or_the_policy() {
        let bare = Policy::parse(r#"{"namespace":"n","expiration":-1}"#).unwrap();
        let named = Policy::parse(r#"{"namespace":"n","expiration":-1,"name":"${uuid}"}"#).unwrap();
        let bytes = Content::Bytes(Bytes::from_static(b"x"));
        let no_name = Target::default();
        let err = content_file_name(&bare, &no_name, &bytes).unwrap_err();
        assert!(err.message().contains("`name`"), "{err}");
        assert!(content_file_name(&named, &no_name, &bytes).is_ok());
        let file = Content::File(PathBuf::from("/tmp/clip.mp4"));
        assert_eq!(
            content_file_name(&bare, &no_name, &file).unwrap(),
            "clip.mp4"
        );
        let target = Target {
            name: Some("a.jpg".into()),
            ..Target::default()
        };
        assert_eq!(content_file_name(&bare, &target, &bytes).unwrap(), "a.jpg");
    }

    #[test]
    fn md5_checks() {
        assert_eq!(
            check_md5(Some("D41D8CD98F00B204E9800998ECF8427E"))
                .unwrap()
                .unwrap(),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert!(check_md5(Some("xyz")).is_err());
        assert_eq!(check_md5(None).unwrap(), None);
    }
}
