//! One request of an upload, retried: a simple upload, a part (from
//! memory, a file range or a stream), the completion, and the cancel that
//! cleans up a multipart upload; the checks on what the service answers.

use super::{Event, Shared};
use crate::error::{Error, Result};
use crate::file_identity::file_changed;
use crate::multipart::PartTag;
use crate::retry::annotate;
use crate::transfer::progress::PartMeter;
use crate::transfer::source::hash_file;
use crate::upload::Content;
use bytes::Bytes;
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// `blockCancel`, a few quick attempts; true when the server discarded it.
pub(super) async fn abort(sh: &Shared<'_>, id: &str, up: &str) -> bool {
    for attempt in 1..=3u32 {
        let call = sh.call.client.multipart_cancel(sh.call.policy, id, up);
        match tokio::time::timeout(Duration::from_secs(5), call).await {
            Ok(Ok(_)) => return true,
            Ok(Err(e)) if !e.is_transient() => {
                tracing::debug!(target: "wantu", id, error = %e, "blockCancel refused");
                return false;
            }
            outcome => {
                tracing::debug!(target: "wantu", id, attempt, timed_out = outcome.is_err(), "blockCancel failed");
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
        }
    }
    false
}

const DAMAGED: &str = "integrity check failed";

/// Digest trouble means the bytes were damaged on the way: a buffer is
/// sent again as it is; a file body only once the file proved unchanged
/// (see [`send`]).
fn damaged_in_transit(e: &Error) -> bool {
    match e {
        Error::Server { code, .. } => code == "BadDigest",
        Error::InvalidResponse(m) => m.starts_with(DAMAGED),
        _ => false,
    }
}

pub(super) fn no_such_upload(e: &Error) -> bool {
    matches!(e, Error::Server { status: 404, code, .. } if code == "NoSuchUpload")
}

pub(super) fn e_tag(v: &Value, what: &str) -> Result<String> {
    v.get("e_tag")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Error::InvalidResponse(format!("{what}: the answer has no eTag")))
}

fn check_e_tag(e_tag: &str, md5: Option<&str>, what: &str) -> Result<()> {
    match md5 {
        Some(m) if !e_tag.eq_ignore_ascii_case(m) => Err(Error::InvalidResponse(format!(
            "{DAMAGED}: {what}: the server's eTag {e_tag} differs from the local MD5 {}",
            m.to_ascii_uppercase()
        ))),
        _ => Ok(()),
    }
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("a worker thread failed: {e}")))?
}

/// Which request carries the content.
#[derive(Clone, Copy)]
pub(super) enum Req<'a> {
    Simple,
    Init,
    Part(&'a str, &'a str),
}

/// One request carrying content (simple upload, blockInit, blockUpload),
/// retried; each attempt's body is metered.
///
/// A digest mismatch (`BadDigest`, or an eTag that is not the local MD5) is
/// retried only when the retry sends the very bytes whose MD5 was computed:
/// a buffer (`Content::Bytes`) is sent again as it is. A body streamed
/// from a file (`reread`: its path and size) is read anew by every
/// attempt, so after a mismatch the file is read again and hashed: if its
/// MD5 is no longer the one sent, the file changed and the upload ends at
/// once with `FileChanged`; if it is, the bytes were damaged on the way and
/// the request is retried.
#[allow(clippy::too_many_arguments)]
pub(super) async fn send(
    sh: &Shared<'_>,
    meter: &Arc<PartMeter>,
    n: u32,
    content: Content,
    md5: Option<&str>,
    req: Req<'_>,
    reread: Option<(&Path, u64)>,
) -> Result<Value> {
    let what = match req {
        Req::Simple => "upload".to_string(),
        Req::Init => "blockInit (part 1)".to_string(),
        Req::Part(..) => format!("blockUpload (part {n})"),
    };
    let what = what.as_str();
    sh.retry
        .run(what, damaged_in_transit, |_| {
            let body = Content::Metered(Box::new(content.clone()), meter.attempt());
            async move {
                let sent = async {
                    let _permit = sh.call.request_permit().await;
                    let c = sh.call.client;
                    let v = match req {
                        Req::Simple => c.upload(sh.call.policy, sh.target, body, md5).await?,
                        Req::Init => {
                            c.multipart_init(sh.call.policy, sh.target, body, md5)
                                .await?
                        }
                        Req::Part(id, up) => {
                            c.multipart_upload(sh.call.policy, id, up, n, body, md5)
                                .await?
                        }
                    };
                    check_e_tag(&e_tag(&v, what)?, md5, what)?;
                    Ok(v)
                };
                match (sent.await, reread, md5) {
                    (Err(e), Some((path, size)), Some(first)) if damaged_in_transit(&e) => {
                        let (p, stop) = (path.to_path_buf(), sh.call.cancel.clone());
                        let now = blocking(move || hash_file(&p, size, &stop)).await;
                        match now {
                            Ok(m) if m.eq_ignore_ascii_case(first) => Err(e),
                            Ok(m) => Err(file_changed(
                                path,
                                &format!(
                                    "read again after the server answered `{}`, its MD5 is {m}, \
                                     not {first} as first read",
                                    e.name()
                                ),
                            )),
                            Err(Error::Io(why)) if why.contains("shrank") => Err(file_changed(
                                path,
                                "it shrank before it could be read again",
                            )),
                            Err(other) => Err(other),
                        }
                    }
                    (outcome, ..) => outcome,
                }
            }
        })
        .await
}

/// Sends one pooled buffer of a stream (part 1 by blockInit, the others by
/// blockUpload), then returns the buffer to the pool and frees the reader's
/// slot so it can read the next part. The reader hashed it (`md5`).
pub(super) async fn send_stream_part(
    sh: &Shared<'_>,
    n: u32,
    bytes: Bytes,
    md5: Option<String>,
    req: Req<'_>,
) -> Result<Value> {
    let meter = PartMeter::new(sh.call.progress.clone());
    let v = send(
        sh,
        &meter,
        n,
        Content::Bytes(bytes.clone()),
        md5.as_deref(),
        req,
        None,
    )
    .await?;
    sh.call.pool.give(bytes);
    let _ = sh.call.events.send(Event::SlotFree);
    Ok(v)
}

/// One simple request; `reread` names the file a `Content::File` streams
/// from (and its size), for the digest rule of [`send`].
pub(super) async fn simple(
    sh: &Shared<'_>,
    content: Content,
    md5: Option<String>,
    reread: Option<(&Path, u64)>,
) -> Result<Value> {
    {
        let mut s = sh.stats();
        s.multipart = false;
        s.parts = 1;
        s.md5 = md5.clone();
    }
    let meter = PartMeter::new(sh.call.progress.clone());
    let v = send(sh, &meter, 1, content, md5.as_deref(), Req::Simple, reread).await?;
    sh.stats().uploaded_parts = 1;
    Ok(v)
}

pub(super) async fn complete(
    sh: &Shared<'_>,
    id: &str,
    up: &str,
    parts: &[PartTag],
    md5: Option<String>,
) -> Result<Value> {
    sh.stats().md5 = md5.clone();
    sh.completing.store(true, Ordering::SeqCst);
    let mut broke_off = false;
    let outcome = sh
        .retry
        .run(
            "blockComplete",
            |_| false,
            |attempt| {
                broke_off |= attempt > 1;
                let md5 = md5.as_deref();
                async move {
                    let _permit = sh.call.request_permit().await;
                    sh.call
                        .client
                        .multipart_complete(sh.call.policy, id, up, parts, md5)
                        .await
                }
            },
        )
        .await;
    match outcome {
        Err(e) if broke_off && no_such_upload(&e) => Err(annotate(
            e,
            "an earlier blockComplete attempt broke off after sending, so the file may have \
             been stored: check it with the file-info call",
        )),
        other => other,
    }
}
