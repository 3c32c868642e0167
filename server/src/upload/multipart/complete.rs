//! blockComplete: checks the part list, builds the file (in place or by
//! copy), renders its name and commits it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::parts::parse_parts;
use super::staging::{self, Plan};
use super::{load_upload, part_limit, read, MIN_PART};
use crate::http::error::{ApiError, ApiResult};
use crate::state::{now_ms, AppState};
use crate::storage::blob::{self, TempFile};
use crate::storage::{FileRecord, PartRecord};
use crate::upload::answer::{file_result, respond, upper};
use crate::upload::fields::check_md5;
use crate::upload::form::Limit;
use crate::upload::mime::detect_mime;
use crate::upload::policy::{extension, Policy};
use crate::upload::target::{
    base_vars, check_final_name_and_type, resolve_target, set_content_vars,
};
use crate::upload::token::authenticate;

/// Checks the client's part list against the stored parts (contiguity,
/// eTags, minimum sizes); returns the parts to assemble, in order.
fn select_parts(listed: &[(u32, String)], stored: &[PartRecord]) -> ApiResult<Vec<PartRecord>> {
    if listed.is_empty() {
        return Err(ApiError::invalid_argument("the parts list is empty"));
    }
    let by_number: HashMap<u32, &PartRecord> = stored.iter().map(|p| (p.part_number, p)).collect();
    let mut chosen = Vec::with_capacity(listed.len());
    for (i, (number, etag)) in listed.iter().enumerate() {
        let expected = i as u32 + 1;
        if *number != expected {
            return Err(ApiError::invalid_argument(format!(
                "parts must be numbered 1..{} without gaps or repeats; found {number} where {expected} belongs",
                listed.len()
            )));
        }
        let part = by_number.get(number).ok_or_else(|| {
            ApiError::invalid_argument(format!("part {number} was never uploaded"))
        })?;
        if !part.md5.eq_ignore_ascii_case(etag.trim_matches('"')) {
            return Err(ApiError::invalid_argument(format!(
                "eTag of part {number} is {}, the parts list says {etag}",
                upper(&part.md5)
            )));
        }
        chosen.push((*part).clone());
    }
    if let Some(small) = chosen[..chosen.len() - 1]
        .iter()
        .find(|p| p.size < MIN_PART)
    {
        return Err(ApiError::entity_too_small(format!(
            "part {} has {} bytes; every part but the last needs at least {MIN_PART}",
            small.part_number, small.size
        )));
    }
    Ok(chosen)
}

pub async fn complete(state: &Arc<AppState>, req: Request<Body>, rid: &str) -> ApiResult<Response> {
    let auth = authenticate(state, &req)?;
    let policy = auth.policy.clone();
    let form = read(state, req, part_limit(state, &policy)).await?;
    let listed = parse_parts(form.require("parts")?)?;
    let upload = load_upload(state, &auth, &form).await?;
    let id = upload.id.clone();

    // Held to the end: no part of this upload may change under the assembly.
    let lock = state.uploads.get(&id);
    let prefix = lock.prefix.lock().await;
    let completing = lock.begin_complete();
    let pid = id.clone();
    let stored = state.blocking(move |s| s.parts(&pid)).await?;
    if stored.is_empty() {
        return Err(ApiError::no_such_upload(format!(
            "upload {id} was completed or cancelled meanwhile"
        )));
    }
    let chosen = select_parts(&listed, &stored)?;
    let total: u64 = chosen.iter().map(|p| p.size).sum();
    let limit = Limit::for_upload(state.limits.max_object_size, policy.size_limit, None);
    if total > limit.max {
        return Err(ApiError::size_limit(format!(
            "file has {total} bytes, over {} of {} bytes",
            limit.what, limit.max
        )));
    }
    let same = prefix.covered.len() == chosen.len()
        && prefix
            .covered
            .iter()
            .zip(&chosen)
            .all(|(k, p)| *k == p.key());
    let known_md5 = same.then(|| hex::encode(prefix.hasher.finalize_snapshot()));
    if let Some(m) = &known_md5 {
        check_md5(form.get("md5"), m, "the whole file")?;
    }
    let plan = staging::plan(&state.store, &upload, &chosen, &stored, completing.quiet);
    let hash = known_md5.is_none();
    let (computed, head, built) = state
        .blocking(move |s| match plan {
            Plan::InPlace { staging, patches } => {
                let path = s.blob_path(&staging);
                let md5 = blob::finish_staging(&path, &patches, total, hash)?;
                Ok((md5, blob::read_head(&path)?, Built::InPlace(staging)))
            }
            Plan::Copy(sources) => {
                let tmp = TempFile::new(s.new_tmp_path());
                let md5 = blob::assemble(tmp.path(), &sources, hash)?;
                let head = blob::read_head(tmp.path())?;
                Ok((md5, head, Built::Copied(tmp)))
            }
        })
        .await?;
    let md5 = known_md5.or(computed).unwrap_or_default();
    check_md5(form.get("md5"), &md5, "the whole file")?;

    let etag = upper(&md5);
    let custom: HashMap<String, String> = serde_json::from_str(&upload.vars).unwrap_or_default();
    let mut vars = base_vars(&upload.namespace, custom);
    vars.set("ext", extension(&upload.orig_name));
    let pre_mime = detect_mime(policy.detect_mime, &head, &[&upload.orig_name]);
    set_content_vars(&mut vars, total, &etag, &pre_mime);
    let stored_target = Policy {
        dir: Some(upload.dir.clone()),
        name: Some(upload.name.clone()),
        ..Policy::default()
    };
    let (dir, name) = resolve_target(&stored_target, None, None, &mut vars)?;
    let mime = detect_mime(policy.detect_mime, &head, &[&name, &upload.orig_name]);
    set_content_vars(&mut vars, total, &etag, &mime);
    check_final_name_and_type(&policy, &mut vars, &name, &mime)?;

    let now = now_ms();
    let rec = FileRecord {
        namespace: upload.namespace.clone(),
        dir,
        name,
        blob: String::new(),
        size: total,
        md5,
        mime,
        create_time: now,
        modify_time: now,
        meta: upload.meta.clone(),
    };
    let committed = rec.clone();
    let insert_only = policy.insert_only;
    let cid = id.clone();
    let in_place = matches!(built, Built::InPlace(_));
    state
        .blocking(move |s| {
            let blob = match built {
                Built::InPlace(staging) => staging,
                Built::Copied(tmp) => s.promote(&tmp.keep())?,
            };
            let rec = FileRecord {
                blob: blob.clone(),
                ..rec
            };
            // A failed commit leaves the upload as it was; an adopted
            // staging object still belongs to it.
            let (objects, old) = s.complete_upload(&cid, rec, insert_only).inspect_err(|_| {
                if !in_place {
                    s.remove_blob(&blob)
                }
            })?;
            objects
                .iter()
                .chain(old.iter())
                .filter(|b| **b != blob)
                .for_each(|b| s.remove_blob(b));
            Ok(())
        })
        .await?;
    let counter = if in_place {
        &state.shared.completed_in_place
    } else {
        &state.shared.completed_by_copy
    };
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    drop(completing);
    drop(prefix);
    state.uploads.forget(&id);

    let mut result: Map<String, Value> = file_result(state, rid, &committed);
    result.insert("id".into(), json!(upload.id));
    result.insert("uploadId".into(), json!(upload.upload_id));
    respond(state, rid, &policy, &vars, result).await
}

/// What blockComplete's data step produced.
enum Built {
    /// The staging object, finished in place.
    InPlace(String),
    /// A new file with every part copied in.
    Copied(TempFile),
}
