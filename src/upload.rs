//! Simple uploads (docs/protocol.md §4, `/api/proxy/upload`) and the form
//! building that every upload-host request shares.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::file_identity::{file_changed, open_regular, FileIdentity};
use crate::policy::Policy;
use crate::rate::RateLimit;
use bytes::Bytes;
use md5_simd::Md5;
use reqwest::multipart::{Form, Part};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

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
    /// The arguments of the service's Python SDK; `meta_json` and `var_json`
    /// are JSON objects or None.
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
/// their text, as the service's Python SDK would format them.
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
    /// The `content` part, its size, and for a file the watch that says
    /// whether the file stayed the same while it was sent. A file is
    /// streamed from disk, so a file of any size costs a small read buffer,
    /// not its size in memory.
    async fn into_part(
        self,
        file_name: &str,
        rate: Option<Arc<RateLimit>>,
    ) -> Result<(Part, u64, Option<FileWatch>)> {
        use futures_util::{StreamExt, TryStreamExt};
        let (stream, len, watch): (Chunks, u64, Option<FileWatch>) = match self {
            Content::Bytes(b) if rate.is_none() => {
                let len = b.len() as u64;
                let part = Part::stream_with_length(reqwest::Body::from(b), len);
                return Ok((with_type(part, file_name)?, len, None));
            }
            Content::Bytes(b) => {
                let len = b.len() as u64;
                (throttled(chunked(b), rate), len, None)
            }
            Content::File(path) => {
                let (stream, len, watch) = file_body(path, FILE_CHUNK)?;
                (throttled(stream, rate), len, Some(watch))
            }
            Content::Metered(inner, meter) => {
                let (stream, len, watch): (Chunks, u64, Option<FileWatch>) = match *inner {
                    Content::Bytes(b) => {
                        let len = b.len() as u64;
                        (chunked(b), len, None)
                    }
                    Content::File(path) => {
                        let (stream, len, watch) = file_body(path, METER_CHUNK)?;
                        (stream, len, Some(watch))
                    }
                    Content::Metered(..) => {
                        return Err(Error::Internal("metered content nested in itself".into()))
                    }
                };
                // Throttled before it is metered, so progress counts bytes
                // as they are let through.
                let stream = throttled(stream, rate);
                let stream = stream.inspect_ok(move |chunk| (meter.0)(chunk.len() as u64));
                (stream.boxed(), len, watch)
            }
        };
        let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), len);
        Ok((with_type(part, file_name)?, len, watch))
    }
}

/// Bytes in memory as a stream of `METER_CHUNK` slices (no copies).
fn chunked(b: Bytes) -> Chunks {
    use futures_util::StreamExt;
    let len = b.len();
    let chunks = (0..len)
        .step_by(METER_CHUNK)
        .map(move |at| Ok(b.slice(at..(at + METER_CHUNK).min(len))));
    futures_util::stream::iter(chunks).boxed()
}

/// Each chunk waits for its share of the client's bandwidth budget before
/// the connection gets it.
fn throttled(stream: Chunks, rate: Option<Arc<RateLimit>>) -> Chunks {
    use futures_util::{StreamExt, TryStreamExt};
    let Some(rate) = rate else { return stream };
    stream
        .and_then(move |chunk| {
            let rate = rate.clone();
            async move {
                rate.take(chunk.len() as u64).await;
                Ok(chunk)
            }
        })
        .boxed()
}

type Chunks = futures_util::stream::BoxStream<'static, std::io::Result<Bytes>>;

/// Read size of unmetered file bodies.
const FILE_CHUNK: usize = 64 * 1024;

/// The part's file name and a Content-Type guessed from it, as the
/// service's own SDKs send (`application/octet-stream` when unknown).
fn with_type(part: Part, file_name: &str) -> Result<Part> {
    let mime = mime_guess::from_path(file_name).first_or_octet_stream();
    part.file_name(file_name.to_string())
        .mime_str(mime.essence_str())
        .map_err(|e| Error::Internal(format!("content type: {e}")))
}

/// What a file body found while it was read: the MD5 of every byte sent
/// once the last one was read, or the error that stopped it.
#[derive(Clone, Default)]
pub struct FileWatch(Arc<Mutex<Option<Result<String>>>>);

impl FileWatch {
    fn record(&self, outcome: Result<String>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
    }

    /// The request's outcome in the light of what the body saw: a change
    /// (or read error) wins over whatever the server answered to the
    /// broken-off body, and a stored eTag that is not the MD5 of the bytes
    /// read is reported rather than trusted.
    pub fn verdict(&self, outcome: Result<Value>) -> Result<Value> {
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match seen {
            Some(Err(e)) => Err(e),
            Some(Ok(md5)) => {
                let value = outcome?;
                match value.get("e_tag").and_then(Value::as_str) {
                    Some(tag) if !tag.eq_ignore_ascii_case(&md5) => {
                        Err(Error::InvalidResponse(format!(
                            "the server stored eTag {tag}, but the bytes sent have MD5 {md5}; \
                             the stored file is not the one read"
                        )))
                    }
                    _ => Ok(value),
                }
            }
            None => outcome,
        }
    }
}

/// A file's bytes as a body: exactly its size at open, read through the one
/// descriptor `open_regular` gave and hashed on the way. The last chunk is
/// handed over only once the file proved unchanged, so a file that changed
/// never completes the form (the server discards an incomplete body).
fn file_body(path: PathBuf, chunk: usize) -> Result<(Chunks, u64, FileWatch)> {
    use futures_util::StreamExt;
    let (file, before) = open_regular(&path)?;
    let stat = file
        .try_clone()
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
    let len = before.size;
    let watch = FileWatch::default();
    let reading = Reading {
        file: tokio::fs::File::from_std(file),
        stat,
        path,
        left: len,
        before,
        md5: Md5::new(),
        chunk,
        watch: watch.clone(),
    };
    let stream = futures_util::stream::unfold(Some(reading), |state| async move {
        let mut r = state?;
        match r.next_chunk().await {
            Ok(Some(bytes)) => Some((Ok(bytes), Some(r))),
            Ok(None) => None,
            Err(e) => {
                let io = std::io::Error::other(e.message().to_string());
                r.watch.record(Err(e));
                Some((Err(io), None))
            }
        }
    });
    Ok((stream.boxed(), len, watch))
}

struct Reading {
    file: tokio::fs::File,
    /// The same open file, for `fstat`.
    stat: std::fs::File,
    path: PathBuf,
    before: FileIdentity,
    left: u64,
    md5: Md5,
    chunk: usize,
    watch: FileWatch,
}

impl Reading {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        use tokio::io::AsyncReadExt;
        if self.left == 0 {
            return Ok(None);
        }
        let mut buf = vec![0u8; self.chunk.min(self.left as usize)];
        let n = self
            .file
            .read(&mut buf)
            .await
            .map_err(|e| Error::Io(format!("cannot read {}: {e}", self.path.display())))?;
        if n == 0 {
            self.before.check(&self.stat, &self.path)?;
            let read = self.before.size - self.left;
            return Err(file_changed(
                &self.path,
                &format!("it ended after {read} of {} bytes", self.before.size),
            ));
        }
        buf.truncate(n);
        self.md5.update(&buf);
        self.left -= n as u64;
        if self.left == 0 {
            self.before.check(&self.stat, &self.path)?;
            let md5 = hex::encode(std::mem::take(&mut self.md5).finalize());
            self.watch.record(Ok(md5));
        }
        Ok(Some(Bytes::from(buf)))
    }
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
        let mut watch = None;
        if let Some((content, file_name)) = content {
            let (part, len, file_watch) = content
                .into_part(file_name, self.rate_limit().cloned())
                .await?;
            watch = file_watch;
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
        let outcome = self.send(request, what).await;
        match watch {
            Some(w) => w.verdict(outcome),
            None => outcome,
        }
    }

    /// `upload_file` / `upload_content` of the service's Python SDK: one
    /// request, one file.
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
