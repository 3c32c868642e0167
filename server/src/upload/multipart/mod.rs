//! Multipart upload: blockInit, blockUpload, blockComplete, blockCancel
//! (docs/protocol.md), and the expiry of abandoned uploads.

mod complete;
mod init;
pub mod locks;
mod part;
pub mod parts;
mod prefix;
mod staging;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

pub use complete::complete;
pub use init::init;
pub use part::upload_part;

use crate::auth::UploadAuth;
use crate::http::error::{json_response, ok_head, ApiError, ApiResult};
use crate::state::{now_ms, AppState};
use crate::storage::{UploadRecord, UPLOAD_TTL_MS};
use crate::upload::form::{content_type, read_form, Form, Limit};
use crate::upload::policy::Policy;
use crate::upload::token::authenticate;

/// [server choice] the largest part.
pub const MAX_PART: u64 = 64 << 20;

/// Every part but the last must be at least this big.
pub const MIN_PART: u64 = 102_400;

fn part_limit(state: &AppState, policy: &Policy) -> Limit {
    Limit::for_upload(
        state.limits.max_object_size,
        policy.size_limit,
        Some(MAX_PART),
    )
}

async fn read(state: &AppState, req: Request<Body>, limit: Limit) -> ApiResult<Form> {
    let ctype = content_type(&req);
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

pub async fn cancel(state: &Arc<AppState>, req: Request<Body>, rid: &str) -> ApiResult<Response> {
    let auth = authenticate(state, &req)?;
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

/// How often abandoned uploads are looked for.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Expires abandoned uploads every [`SWEEP_EVERY`], forever.
pub async fn sweep_loop(state: Arc<AppState>) {
    loop {
        tokio::time::sleep(SWEEP_EVERY).await;
        expire_abandoned(&state).await;
    }
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
