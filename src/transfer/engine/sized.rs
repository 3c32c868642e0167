//! A file or bytes of known size: its plan (one request or parts in
//! parallel), MD5s as the parts pass, the checkpoint kept after each part,
//! and resuming from one.

use super::requests::{blocking, complete, e_tag, no_such_upload, send, simple, Req};
use super::{FileInput, Shared};
use crate::error::{Error, Result};
use crate::file_identity::file_changed;
use crate::multipart::PartTag;
use crate::transfer::checkpoint::{Checkpoint, CheckpointFile, Journal, Loaded, TargetIdentity};
use crate::transfer::ordered::InOrder;
use crate::transfer::plan::Plan;
use crate::transfer::progress::PartMeter;
use crate::transfer::source::{hash_file, md5_hex, read_at};
use crate::upload::Content;
use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};

pub(super) enum Known<'a> {
    File(&'a FileInput<'a>),
    Memory(&'a [u8]),
}

/// How the MD5s of a known-size upload's parts are made.
#[derive(Clone)]
pub(super) enum Hashing {
    /// Integrity off.
    None,
    /// Each part's own; the whole file's is known.
    Known(String),
    /// Each part's and, in order, the whole file's.
    InOrder(Arc<InOrder>),
}

impl Hashing {
    /// Waits until part `n` may be read: its turn when the whole file is
    /// hashed in order. Called before the part takes a buffer.
    pub(super) async fn turn(&self, plan: &Plan, n: u32) {
        if let Hashing::InOrder(o) = self {
            o.turn(plan.range(n).0).await;
        }
    }

    /// Blocking: the MD5 of the part at `offset` when `own`, and the
    /// whole file's extended by it.
    pub(super) fn hash(&self, offset: u64, data: &[u8], own: bool) -> Option<String> {
        match self {
            Hashing::None => None,
            Hashing::Known(_) => own.then(|| md5_hex(data)),
            Hashing::InOrder(o) => o.hash(offset, data, own),
        }
    }
}

impl Known<'_> {
    /// Part `n` read into a pooled buffer (each byte read once) and hashed:
    /// its own MD5 when `own`, the whole file's as `hashing` says.
    pub(super) async fn part(
        &self,
        sh: &Shared<'_>,
        plan: &Plan,
        n: u32,
        hashing: &Hashing,
        own: bool,
    ) -> Result<(Bytes, Option<String>)> {
        let (offset, len) = plan.range(n);
        let mut buf = sh.call.pool.take(len as usize);
        let hashing = hashing.clone();
        match self {
            Known::File(f) => {
                let (file, path) = (f.file.clone(), f.path.to_path_buf());
                let opened = f.identity.clone();
                blocking(move || {
                    // A read that falls short, or a file whose size or
                    // times moved, is a file that changed under us.
                    let read = read_at(&file, &path, offset, &mut buf);
                    opened.check(&file, &path)?;
                    read?;
                    let md5 = hashing.hash(offset, &buf, own);
                    Ok((buf.freeze(), md5))
                })
                .await
            }
            Known::Memory(data) => {
                buf.copy_from_slice(&data[offset as usize..(offset + len) as usize]);
                let bytes = buf.freeze();
                let b = bytes.clone();
                let md5 = blocking(move || Ok(hashing.hash(offset, &b, own))).await?;
                Ok((bytes, md5))
            }
        }
    }
}

/// A file's or memory's upload: one simple request, or multipart.
pub(super) async fn sized(
    sh: &Shared<'_>,
    src: Known<'_>,
    size: u64,
    known: Option<String>,
) -> Result<Value> {
    let file = match &src {
        Known::File(f) => Some(*f),
        Known::Memory(_) => None,
    };
    let integrity = sh.call.opts.integrity;
    if size <= sh.threshold {
        let (content, md5) = match &src {
            Known::File(f) => {
                let md5 = match (integrity, known) {
                    (true, None) => {
                        let (path, stop) = (f.path.to_path_buf(), sh.call.cancel.clone());
                        Some(blocking(move || hash_file(&path, size, &stop)).await?)
                    }
                    (_, known) => known.filter(|_| integrity),
                };
                (Content::File(f.path.to_path_buf()), md5)
            }
            Known::Memory(data) => {
                let bytes = Bytes::copy_from_slice(data);
                let md5 = match (integrity, known) {
                    (true, None) => {
                        let b = bytes.clone();
                        Some(blocking(move || Ok(md5_hex(&b))).await?)
                    }
                    (_, known) => known.filter(|_| integrity),
                };
                (Content::Bytes(bytes), md5)
            }
        };
        let reread = file.map(|f| (f.path, size));
        return simple(sh, content, md5, reread).await;
    }
    // Kept across a restart: bytes hashed already are not hashed again.
    let hashing = match (integrity, &known) {
        (false, _) => Hashing::None,
        (true, Some(m)) => Hashing::Known(m.clone()),
        (true, None) => Hashing::InOrder(InOrder::new()),
    };
    let plan = Plan::new(size, sh.part_size);
    {
        let mut s = sh.stats();
        s.multipart = true;
        s.parts = plan.count;
    }
    let meters: Vec<_> = (0..plan.count)
        .map(|_| PartMeter::new(sh.call.progress.clone()))
        .collect();
    let target = TargetIdentity {
        namespace: sh.call.policy.namespace().to_string(),
        dir: sh.target.dir.clone(),
        name: sh.target.name.clone(),
    };
    let mut resume = None;
    if let Some(f) = file.filter(|f| f.checkpoint.is_some()) {
        let usable = match &f.loaded {
            Loaded::Found(cp) if cp.matches(&f.identity, &target, plan.part_size, plan.count) => {
                Some(cp.as_ref().clone())
            }
            _ => None,
        };
        sh.stats().checkpoint = match (&f.loaded, &usable) {
            (_, Some(_)) => "resumed",
            (Loaded::Missing, None) => "new",
            _ => "stale",
        };
        resume = usable;
    }
    loop {
        let resumed = resume.is_some();
        let attempt = multipart(sh, &src, &plan, &meters, &target, resume.take(), &hashing);
        match attempt.await {
            Err(e) if resumed && no_such_upload(&e) => {
                // The server no longer knows the upload (expired or
                // cancelled): start over cleanly.
                tracing::debug!(target: "wantu", error = %e, "checkpointed upload is gone; starting over");
                let mut s = sh.stats();
                s.checkpoint = "stale";
                s.resumed_parts = 0;
            }
            other => return other,
        }
    }
}

/// The checkpoint being kept for this upload, written after every part.
pub(super) type Keeper = Option<Arc<Mutex<Journal>>>;

/// Starts keeping `cp` (a new upload's, or a resumed one's) in `file`.
pub(super) async fn keep(file: &Arc<CheckpointFile>, cp: Checkpoint) -> Keeper {
    let file = file.clone();
    match blocking(move || file.begin(&cp)).await {
        Ok(j) => Some(Arc::new(Mutex::new(j))),
        Err(e) => {
            // Without a checkpoint a crash only means sending everything again.
            tracing::debug!(target: "wantu", error = %e, "checkpoint not written");
            None
        }
    }
}

pub(super) async fn record(keeper: &Keeper, tag: PartTag) {
    let Some(journal) = keeper.clone() else {
        return;
    };
    let outcome = blocking(move || journal.lock().unwrap_or_else(|p| p.into_inner()).add(tag));
    if let Err(e) = outcome.await {
        // An older checkpoint only means re-sending more after a crash.
        tracing::debug!(target: "wantu", error = %e, "checkpoint not written");
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn multipart(
    sh: &Shared<'_>,
    src: &Known<'_>,
    plan: &Plan,
    meters: &[Arc<PartMeter>],
    target: &TargetIdentity,
    resume: Option<Checkpoint>,
    hashing: &Hashing,
) -> Result<Value> {
    let file = match src {
        Known::File(f) => Some(*f),
        Known::Memory(_) => None,
    };
    let mut tags: Vec<Option<PartTag>> = vec![None; plan.count as usize];
    let keeper: Keeper;
    let (id, up) = match resume {
        Some(cp) => {
            for t in &cp.parts {
                meters[t.part_number as usize - 1].finished(plan.range(t.part_number).1);
                tags[t.part_number as usize - 1] = Some(t.clone());
            }
            let ids = (cp.id.clone(), cp.upload_id.clone());
            {
                let mut s = sh.stats();
                s.resumed_parts = cp.parts.len() as u32;
                s.id = Some(ids.0.clone());
                s.upload_id = Some(ids.1.clone());
            }
            keeper = match file.and_then(|f| f.checkpoint.as_ref()) {
                Some(c) => keep(c, cp).await,
                None => None,
            };
            ids
        }
        None => {
            if let Some(c) = file.and_then(|f| f.checkpoint.as_ref()) {
                c.remove();
            }
            hashing.turn(plan, 1).await;
            let buffer = sh.call.buffer_permit().await;
            let (bytes, md5) = src.part(sh, plan, 1, hashing, true).await?;
            let v = send(
                sh,
                &meters[0],
                1,
                Content::Bytes(bytes.clone()),
                md5.as_deref(),
                Req::Init,
                None,
            )
            .await?;
            sh.call.pool.give(bytes);
            drop(buffer);
            let field = |k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .ok_or_else(|| {
                        Error::InvalidResponse(format!("blockInit: the answer has no `{k}`"))
                    })
            };
            let (id, up) = (field("id")?, field("upload_id")?);
            let tag = PartTag {
                part_number: 1,
                e_tag: e_tag(&v, "blockInit")?,
            };
            {
                let mut s = sh.stats();
                s.id = Some(id.clone());
                s.upload_id = Some(up.clone());
                s.uploaded_parts += 1;
            }
            keeper = match file.and_then(|f| f.checkpoint.as_ref().map(|c| (f, c))) {
                Some((f, c)) => {
                    let mut cp = Checkpoint::new(
                        f.identity.clone(),
                        target.clone(),
                        id.clone(),
                        up.clone(),
                        plan.part_size,
                    );
                    cp.add(tag.clone());
                    keep(c, cp).await
                }
                None => None,
            };
            tags[0] = Some(tag);
            (id, up)
        }
    };
    // Parts stored already (resumed) are read only when the whole file is
    // hashed here; such a job sends nothing and answers no tag.
    let job = |n: u32, upload: bool| {
        let (id, up, keeper) = (&id, &up, &keeper);
        async move {
            hashing.turn(plan, n).await;
            let _buffer = sh.call.buffer_permit().await;
            let (bytes, md5) = src.part(sh, plan, n, hashing, upload).await?;
            if !upload {
                sh.call.pool.give(bytes);
                return Ok(None);
            }
            let meter = &meters[n as usize - 1];
            let v = send(
                sh,
                meter,
                n,
                Content::Bytes(bytes.clone()),
                md5.as_deref(),
                Req::Part(id, up),
                None,
            )
            .await?;
            sh.call.pool.give(bytes);
            let tag = PartTag {
                part_number: n,
                e_tag: e_tag(&v, "blockUpload")?,
            };
            record(keeper, tag.clone()).await;
            sh.stats().uploaded_parts += 1;
            Ok::<_, Error>(Some(tag))
        }
    };
    let whole_here = matches!(hashing, Hashing::InOrder(_));
    let todo: Vec<(u32, bool)> = (1..=plan.count)
        .map(|n| (n, tags[n as usize - 1].is_none()))
        .filter(|(_, upload)| *upload || whole_here)
        .collect();
    let mut todo = todo.into_iter();
    let mut inflight = FuturesUnordered::new();
    loop {
        while inflight.len() < sh.call.opts.concurrency as usize {
            match todo.next() {
                Some((n, upload)) => inflight.push(job(n, upload)),
                None => break,
            }
        }
        match inflight.next().await {
            Some(tag) => {
                if let Some(tag) = tag? {
                    let i = tag.part_number as usize - 1;
                    tags[i] = Some(tag);
                }
            }
            None => break,
        }
    }
    let parts: Vec<PartTag> = tags.into_iter().flatten().collect();
    let md5 = match hashing {
        Hashing::None => None,
        Hashing::Known(m) => Some(m.clone()),
        Hashing::InOrder(o) => Some(o.finish(plan.size)?),
    };
    if let Some(f) = file {
        // Every part was read through the one descriptor opened at the
        // start; a file that changed meanwhile is never completed.
        f.identity.check(&f.file, f.path)?;
    }
    match complete(sh, &id, &up, &parts, md5).await {
        // The whole file's MD5 (of the bytes read now) differs from the
        // parts the server holds: parts sent earlier (before a resume, or
        // hashed before the upload) were of other bytes.
        Err(e)
            if file.is_some()
                && matches!(&e, Error::Server { code, .. } if code == "BadDigest") =>
        {
            let path = file.map_or(Path::new(""), |f| f.path);
            Err(file_changed(
                path,
                &format!(
                    "its bytes now differ from the parts sent earlier: the server says {}",
                    e.message()
                ),
            ))
        }
        other => other,
    }
}
