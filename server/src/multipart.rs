//! Multipart upload: blockInit, blockUpload, blockComplete, blockCancel
//! (protocol.md §4).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::auth::UploadAuth;
use crate::blob::{self, TempFile};
use crate::error::{json_response, ok_head, ApiError, ApiResult};
use crate::finish::{self, upper};
use crate::form::read_form_with;
use crate::form::{read_form, Content, Form, Limit};
use crate::parts::parse_parts;
use crate::policy::{extension, Policy};
use crate::prefix;
use crate::staging::{self, PartTarget, Plan};
use crate::state::{now_ms, AppState};
use crate::store::{FileRecord, PartRecord, UploadRecord, UPLOAD_TTL_MS};

/// [server choice] the largest part.
pub const MAX_PART: u64 = 64 << 20;
/// Every part but the last must be at least this big.
pub const MIN_PART: u64 = 102_400;
pub const MAX_PART_NUMBER: u32 = 10_000;

fn part_limit(state: &AppState, policy: &Policy) -> Limit {
    Limit::for_upload(
        state.limits.max_object_size,
        policy.size_limit,
        Some(MAX_PART),
    )
}

pub fn parse_part_number(raw: &str) -> ApiResult<u32> {
    raw.trim()
        .parse()
        .ok()
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            ApiError::invalid_argument(format!(
                "partNumber must be an integer from 1 to {MAX_PART_NUMBER}"
            ))
        })
}

async fn read(state: &AppState, req: Request<Body>, limit: Limit) -> ApiResult<Form> {
    let ctype = finish::content_type(&req);
    read_form(req.into_body(), ctype.as_deref(), &state.store, limit).await
}

fn answer(rid: &str, u: &UploadRecord, extra: &[(&str, Value)]) -> Response {
    let mut m = ok_head(rid);
    m.insert("id".into(), json!(u.id));
    m.insert("uploadId".into(), json!(u.upload_id));
    for (k, v) in extra {
        m.insert((*k).into(), v.clone());
    }
    json_response(StatusCode::OK, &Value::Object(m), rid)
}

pub async fn init(state: &Arc<AppState>, req: Request<Body>, rid: &str) -> ApiResult<Response> {
    let auth = finish::authenticate(state, &req)?;
    let policy = &auth.policy;
    let mut form = read(state, req, part_limit(state, policy)).await?;
    let Content {
        written: w,
        filename,
    } = finish::take_checked_content(&mut form, "part 1")?;

    let orig = finish::original_name(&form, filename.as_deref(), policy);
    let custom = finish::vars_of(&form);
    let mut vars = finish::base_vars(&policy.namespace, custom.clone());
    vars.set("ext", extension(&orig));
    // Variables that depend on the whole file stay in the names until
    // blockComplete renders them.
    let fallback_name = form.get("name").or(filename.as_deref());
    let (dir, name) = finish::resolve_target(policy, form.get("dir"), fallback_name, &mut vars)?;
    if policy.insert_only && !dir.contains("${") && !name.contains("${") {
        let (ns, d, n) = (policy.namespace.clone(), dir.clone(), name.clone());
        if state
            .blocking(move |s| s.get_file(&ns, &d, &n))
            .await?
            .is_some()
        {
            return Err(ApiError::file_exists(format!(
                "{} already exists and the policy has insertOnly",
                crate::paths::join(&dir, &name)
            )));
        }
    }
    let upload = UploadRecord {
        id: uuid::Uuid::new_v4().to_string(),
        upload_id: uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .to_ascii_uppercase(),
        access_key: auth.access_key.clone(),
        namespace: policy.namespace.clone(),
        dir,
        name,
        meta: Value::Object(finish::meta_of(&form)?).to_string(),
        vars: serde_json::to_string(&custom).unwrap_or_else(|_| "{}".into()),
        orig_name: orig,
        created: now_ms(),
        staging: None,
        stride: w.size,
    };
    let etag = upper(&w.md5);
    let (tmp, size, md5) = (w.tmp, w.size, w.md5);
    let tmp = tmp.ok_or_else(|| ApiError::internal("part 1 was not written to a file"))?;
    let u = upload.clone();
    state
        .blocking(move |s| {
            // Part 1's file becomes the staging object: it already sits at
            // offset 0, and the other parts are written next to it.
            let blob = s.promote(&tmp.keep())?;
            let part = PartRecord {
                part_number: 1,
                blob: blob.clone(),
                size,
                md5,
                pos: Some(0),
            };
            let u = UploadRecord {
                staging: Some(blob.clone()),
                ..u
            };
            s.create_upload(&u, &part)
                .inspect_err(|_| s.remove_blob(&blob))
        })
        .await?;
    Ok(answer(
        rid,
        &upload,
        &[
            ("partNumber", json!(1)),
            ("eTag", json!(etag)),
            ("name", json!(upload.name)),
            ("dir", json!(upload.dir)),
        ],
    ))
}

/// Finds a live upload of this key and namespace.
async fn load_upload(state: &AppState, auth: &UploadAuth, form: &Form) -> ApiResult<UploadRecord> {
    let id = form.require("id")?.to_string();
    let upload_id = form.require("uploadId")?.to_string();
    let lookup = id.clone();
    let missing = || ApiError::no_such_upload(format!("no multipart upload with id {id}"));
    let u = state
        .blocking(move |s| s.get_upload(&lookup))
        .await?
        .ok_or_else(missing)?;
    if !u.upload_id.eq_ignore_ascii_case(upload_id.trim()) {
        return Err(ApiError::no_such_upload(format!(
            "uploadId {upload_id} does not belong to upload {id}"
        )));
    }
    if u.created + UPLOAD_TTL_MS < now_ms() {
        expire_one(state, &id).await;
        return Err(ApiError::no_such_upload(format!(
            "upload {id} expired: uploads are kept 24 hours"
        )));
    }
    if u.access_key != auth.access_key || u.namespace != auth.policy.namespace {
        return Err(ApiError::access_denied(format!(
            "upload {id} belongs to another access key or namespace"
        )));
    }
    Ok(u)
}

pub async fn upload_part(
    state: &Arc<AppState>,
    req: Request<Body>,
    rid: &str,
) -> ApiResult<Response> {
    let auth = finish::authenticate(state, &req)?;
    let ctype = finish::content_type(&req);
    let st = state.clone();
    let (ak, ns) = (auth.access_key.clone(), auth.policy.namespace.clone());
    let choose = move |form: &Form| {
        let target = PartTarget::of(form, &ak, &ns);
        async move { staging::range_for_part(&st, target?).await }
    };
    let limit = part_limit(state, &auth.policy);
    let body = req.into_body();
    let (mut form, staged) =
        read_form_with(body, ctype.as_deref(), &state.store, limit, choose).await?;
    let number = parse_part_number(form.require("partNumber")?)?;
    let w = finish::take_checked_content(&mut form, &format!("part {number}"))?.written;
    let upload = load_upload(state, &auth, &form).await?;

    let etag = upper(&w.md5);
    let (tmp, size, md5) = (w.tmp, w.size, w.md5);
    let id = upload.id.clone();
    // Written into the staging range unless it spilled into a file.
    let pos = match (&tmp, &staged) {
        (Some(_), _) => None,
        (None, Some(st)) if st.id == upload.id && st.number == number => {
            Some((st.blob.clone(), st.offset))
        }
        (None, _) => return Err(ApiError::internal("part content went nowhere")),
    };
    let replaced = state
        .blocking(move |s| {
            let (blob, pos) = match (tmp, pos) {
                (Some(tmp), _) => (s.promote(&tmp.keep())?, None),
                (None, Some((staging, at))) => (staging, Some(at)),
                (None, None) => unreachable!(),
            };
            let part = PartRecord {
                part_number: number,
                blob: blob.clone(),
                size,
                md5,
                pos,
            };
            s.put_part(&id, &part).inspect_err(|_| {
                if pos.is_none() {
                    s.remove_blob(&blob)
                }
            })
        })
        .await?;
    // The row is committed: the range may now be read and adopted.
    drop(staged);
    if let Some(old) = replaced {
        // Prefix hashing or an assembly may be reading the old object.
        let lock = state.uploads.get(&upload.id);
        let _guard = lock.prefix.lock().await;
        state.remove_blobs(vec![old]).await;
    }
    tokio::spawn(prefix::advance(state.clone(), upload.id.clone()));
    Ok(answer(
        rid,
        &upload,
        &[
            ("partNumber", json!(number)),
            ("eTag", json!(etag)),
            ("name", json!(upload.name)),
            ("dir", json!(upload.dir)),
        ],
    ))
}

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
    let auth = finish::authenticate(state, &req)?;
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
    let known_md5 = same.then(|| {
        use md5::Digest;
        hex::encode(prefix.hasher.clone().finalize())
    });
    if let Some(m) = &known_md5 {
        finish::check_md5(form.get("md5"), m, "the whole file")?;
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
    finish::check_md5(form.get("md5"), &md5, "the whole file")?;

    let etag = upper(&md5);
    let custom: HashMap<String, String> = serde_json::from_str(&upload.vars).unwrap_or_default();
    let mut vars = finish::base_vars(&upload.namespace, custom);
    vars.set("ext", extension(&upload.orig_name));
    let pre_mime = finish::detect_mime(policy.detect_mime, &head, &[&upload.orig_name]);
    finish::set_content_vars(&mut vars, total, &etag, &pre_mime);
    let stored_target = Policy {
        dir: Some(upload.dir.clone()),
        name: Some(upload.name.clone()),
        ..Policy::default()
    };
    let (dir, name) = finish::resolve_target(&stored_target, None, None, &mut vars)?;
    let mime = finish::detect_mime(policy.detect_mime, &head, &[&name, &upload.orig_name]);
    finish::set_content_vars(&mut vars, total, &etag, &mime);
    finish::check_final_name_and_type(&policy, &mut vars, &name, &mime)?;

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

    let mut result: Map<String, Value> = finish::file_result(state, rid, &committed);
    result.insert("id".into(), json!(upload.id));
    result.insert("uploadId".into(), json!(upload.upload_id));
    finish::respond(state, rid, &policy, &vars, result).await
}

/// What blockComplete's data step produced.
enum Built {
    /// The staging object, finished in place.
    InPlace(String),
    /// A new file with every part copied in.
    Copied(TempFile),
}

pub async fn cancel(state: &Arc<AppState>, req: Request<Body>, rid: &str) -> ApiResult<Response> {
    let auth = finish::authenticate(state, &req)?;
    let form = read(state, req, part_limit(state, &auth.policy)).await?;
    let upload = load_upload(state, &auth, &form).await?;
    expire_one(state, &upload.id).await;
    Ok(answer(rid, &upload, &[]))
}

/// Forgets an upload and removes its parts, under the upload's lock.
async fn expire_one(state: &AppState, id: &str) {
    let lock = state.uploads.get(id);
    let guard = lock.prefix.lock().await;
    let did = id.to_string();
    if let Ok(blobs) = state.blocking(move |s| Ok(s.delete_upload(&did)?)).await {
        state.remove_blobs(blobs).await;
    }
    drop(guard);
    state.uploads.forget(id);
}

/// Removes uploads older than 24 hours (run periodically).
pub async fn expire_abandoned(state: &AppState) {
    let now = now_ms();
    if let Ok(ids) = state.blocking(move |s| Ok(s.expired_uploads(now)?)).await {
        for id in ids {
            expire_one(state, &id).await;
        }
    }
}
