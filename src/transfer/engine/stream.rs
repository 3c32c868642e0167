//! A stream of unknown length: one request when it ends within the
//! threshold, otherwise parts as they come.

use super::requests::{complete, e_tag, send_stream_part, simple, Req};
use super::Shared;
use crate::error::{Error, Result};
use crate::multipart::PartTag;
use crate::transfer::source::StreamMsg;
use crate::upload::Content;
use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;

pub(super) fn stream_closed() -> Error {
    Error::Cancelled("the stream reader stopped".into())
}

pub(super) async fn recv(rx: &mut UnboundedReceiver<StreamMsg>) -> Result<StreamMsg> {
    match rx.recv().await {
        Some(StreamMsg::Failed(e)) => Err(e),
        Some(m) => Ok(m),
        None => Err(stream_closed()),
    }
}

/// A stream of unknown length: simple when it ends within the threshold,
/// otherwise multipart with parts as they come.
pub(super) async fn stream(sh: &Shared<'_>, mut rx: UnboundedReceiver<StreamMsg>) -> Result<Value> {
    let first = match recv(&mut rx).await? {
        StreamMsg::Part(_, b, md5) => (b, md5),
        StreamMsg::End { md5, .. } => {
            return simple(sh, Content::Bytes(Bytes::new()), md5, None).await
        }
        StreamMsg::Failed(e) => return Err(e),
    };
    let mut ended = None;
    let mut queued = None;
    match recv(&mut rx).await? {
        StreamMsg::End { total, md5 } if total <= sh.threshold => {
            return simple(sh, Content::Bytes(first.0), md5, None).await;
        }
        StreamMsg::End { total, md5 } => ended = Some((total, md5)),
        StreamMsg::Part(n, b, md5) => queued = Some((n, b, md5)),
        StreamMsg::Failed(e) => return Err(e),
    }
    sh.stats().multipart = true;
    let v = send_stream_part(sh, 1, first.0, first.1, Req::Init).await?;
    let field = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| Error::InvalidResponse(format!("blockInit: the answer has no `{k}`")))
    };
    let (id, up) = (field("id")?, field("upload_id")?);
    let mut tags = vec![PartTag {
        part_number: 1,
        e_tag: e_tag(&v, "blockInit")?,
    }];
    {
        let mut s = sh.stats();
        s.id = Some(id.clone());
        s.upload_id = Some(up.clone());
        s.uploaded_parts = 1;
    }
    let job = |n: u32, bytes: Bytes, md5: Option<String>| {
        let (id, up) = (&id, &up);
        async move {
            let v = send_stream_part(sh, n, bytes, md5, Req::Part(id, up)).await?;
            sh.stats().uploaded_parts += 1;
            Ok::<_, Error>(PartTag {
                part_number: n,
                e_tag: e_tag(&v, "blockUpload")?,
            })
        }
    };
    let mut inflight = FuturesUnordered::new();
    if let Some((n, b, md5)) = queued {
        inflight.push(job(n, b, md5));
    }
    let limit = sh.call.opts.concurrency as usize;
    while ended.is_none() || !inflight.is_empty() {
        tokio::select! {
            msg = recv(&mut rx), if ended.is_none() && inflight.len() < limit => match msg? {
                StreamMsg::Part(n, b, md5) => inflight.push(job(n, b, md5)),
                StreamMsg::End { total, md5 } => ended = Some((total, md5)),
                StreamMsg::Failed(e) => return Err(e),
            },
            Some(tag) = inflight.next(), if !inflight.is_empty() => tags.push(tag?),
        }
    }
    tags.sort_by_key(|t| t.part_number);
    sh.stats().parts = tags.len() as u32;
    let md5 = ended.and_then(|(_, md5)| md5);
    complete(sh, &id, &up, &tags, md5).await
}
