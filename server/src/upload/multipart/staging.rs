//! Multipart staging: one object per upload that holds the parts at their
//! final offsets, so blockComplete normally adopts it as the file instead
//! of copying every part into a new one.
//!
//! blockInit stores part 1 as the staging object; its size is the upload's
//! `stride`. Part N of at most `stride` bytes is written at (N-1)*stride
//! while it streams in. Concurrent parts write disjoint ranges. Parts that
//! do not fit, and re-uploads of a part that is already stored, become
//! objects of their own: overwriting a stored range in place would destroy
//! the part if the re-upload failed, and prefix hashing may be reading it.
//! At complete, re-uploaded parts of the right size are copied into their
//! ranges ("patches"); anything else falls back to copying every part.

use std::fs::OpenOptions;
use std::sync::Arc;

use super::parts::parse_part_number;
use crate::state::{now_ms, AppState};
use crate::storage::blob::{RangeSink, Source};
use crate::storage::{PartRecord, Store, UploadRecord, UPLOAD_TTL_MS};
use crate::upload::form::Form;
use crate::upload::multipart::locks::Claim;

/// The blockUpload fields that say which range a part would go to.
pub struct PartTarget {
    id: String,
    upload_id: String,
    number: u32,
    access_key: String,
    namespace: String,
}

impl PartTarget {
    pub fn of(form: &Form, access_key: &str, namespace: &str) -> Option<PartTarget> {
        Some(PartTarget {
            id: form.get("id")?.to_string(),
            upload_id: form.get("uploadId")?.trim().to_string(),
            number: parse_part_number(form.get("partNumber")?).ok()?,
            access_key: access_key.to_string(),
            namespace: namespace.to_string(),
        })
    }
}

/// A part streamed into the staging object, and the claim on its range.
pub struct Staged {
    /// Held (not read) until the part's row is committed.
    pub _claim: Claim,
    pub id: String,
    pub number: u32,
    pub blob: String,
    pub offset: u64,
}

/// The staging range for a part about to stream in, claimed for this
/// request, or `None` when the part must go to an object of its own. Any
/// problem answers `None`: the request is then validated as usual after the
/// body is read, and fails or succeeds exactly as without staging.
pub async fn range_for_part(state: &Arc<AppState>, t: PartTarget) -> Option<(RangeSink, Staged)> {
    let lookup = t.id.clone();
    let u = state
        .blocking(move |s| s.get_upload(&lookup))
        .await
        .ok()??;
    let usable = u.upload_id.eq_ignore_ascii_case(&t.upload_id)
        && u.access_key == t.access_key
        && u.namespace == t.namespace
        && u.created + UPLOAD_TTL_MS >= now_ms()
        && u.stride > 0;
    let staging = u.staging.filter(|_| usable)?;
    let offset = u64::from(t.number - 1).checked_mul(u.stride)?;
    // Claim first, then check the database: a part row committed after the
    // check can only come from a request that did not get the claim, so it
    // is an object of its own and the range stays ours.
    let claim = state.uploads.get(&t.id).claim(t.number)?;
    let (id, n, blob) = (t.id.clone(), t.number, staging.clone());
    let file = state
        .blocking(move |s| {
            if !s.staging_slot_free(&id, n)? {
                return Ok(None);
            }
            // Gone means cancelled just now; the part then fails at commit.
            let path = s.blob_path(&blob);
            Ok(OpenOptions::new().read(true).write(true).open(path).ok())
        })
        .await
        .ok()??;
    let sink = RangeSink {
        file,
        offset,
        max: u.stride,
    };
    let staged = Staged {
        _claim: claim,
        id: t.id,
        number: t.number,
        blob: staging,
        offset,
    };
    Some((sink, staged))
}

/// How blockComplete builds the file.
pub enum Plan {
    /// The staging object becomes the file once `patches` (source, offset)
    /// are copied into it.
    InPlace {
        staging: String,
        patches: Vec<(Source, u64)>,
    },
    /// Every part is copied into a new file.
    Copy(Vec<Source>),
}

/// Picks the plan for the checked part list `chosen` (1..=n). `quiet` says
/// that no range write is in flight and none can start.
pub fn plan(
    store: &Store,
    u: &UploadRecord,
    chosen: &[PartRecord],
    stored: &[PartRecord],
    quiet: bool,
) -> Plan {
    let copy = || Plan::Copy(chosen.iter().map(|p| store.source(p)).collect());
    let Some(staging) = u.staging.clone().filter(|_| quiet && u.stride > 0) else {
        return copy();
    };
    // The staging object is cut to the file's length. blockComplete may
    // still fail after that (insertOnly, md5, mimeLimit) and the upload go
    // on, so no stored part may live past the cut.
    if stored
        .iter()
        .any(|p| p.part_number as usize > chosen.len() && p.pos.is_some())
    {
        return copy();
    }
    let last = chosen.len().saturating_sub(1);
    let mut patches = Vec::new();
    for (i, p) in chosen.iter().enumerate() {
        let at = i as u64 * u.stride;
        let fits = if i < last {
            p.size == u.stride
        } else {
            p.size <= u.stride
        };
        match p.pos {
            _ if !fits => return copy(),
            Some(pos) if pos == at && p.blob == staging => {}
            // A range without a row is free: patching it loses nothing.
            None => patches.push((store.source(p), at)),
            Some(_) => return copy(),
        }
    }
    Plan::InPlace { staging, patches }
}
