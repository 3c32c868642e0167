//! Simple upload: `POST /api/proxy/upload` (docs/protocol.md, simple upload).

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;

use super::answer::{file_result, respond, upper};
use super::fields::{meta_of, take_checked_content};
use super::form::{content_type, read_form, Content, Limit};
use super::mime::detect_mime;
use super::policy::extension;
use super::target::{
    base_vars, check_final_name_and_type, original_name, resolve_target, set_content_vars, vars_of,
};
use super::token::authenticate;
use crate::http::error::{ApiError, ApiResult};
use crate::state::{now_ms, AppState};
use crate::storage::FileRecord;

pub async fn upload(state: &Arc<AppState>, req: Request<Body>, rid: &str) -> ApiResult<Response> {
    // The token is checked before a single body byte is read.
    let auth = authenticate(state, &req)?;
    let policy = auth.policy;
    let limit = Limit::for_upload(state.limits.max_object_size, policy.size_limit, None);
    let ctype = content_type(&req);
    let mut form = read_form(req.into_body(), ctype.as_deref(), &state.store, limit).await?;
    let Content {
        written: w,
        filename,
    } = take_checked_content(&mut form, "the content")?;

    // Name for `${ext}` and extension-based MIME guessing before the target
    // name is rendered.
    let orig = original_name(&form, filename.as_deref(), &policy);
    let etag = upper(&w.md5);
    let mut vars = base_vars(&policy.namespace, vars_of(&form));
    vars.set("ext", extension(&orig));
    let pre_mime = detect_mime(policy.detect_mime, &w.head, &[&orig]);
    set_content_vars(&mut vars, w.size, &etag, &pre_mime);
    let fallback_name = form.get("name").or(filename.as_deref());
    let (dir, name) = resolve_target(&policy, form.get("dir"), fallback_name, &mut vars)?;
    let mime = detect_mime(policy.detect_mime, &w.head, &[&name, &orig]);
    set_content_vars(&mut vars, w.size, &etag, &mime);
    check_final_name_and_type(&policy, &mut vars, &name, &mime)?;

    let now = now_ms();
    let rec = FileRecord {
        namespace: policy.namespace.clone(),
        dir,
        name,
        blob: String::new(),
        size: w.size,
        md5: w.md5.clone(),
        mime,
        create_time: now,
        modify_time: now,
        meta: serde_json::Value::Object(meta_of(&form)?).to_string(),
    };
    let tmp = w
        .tmp
        .ok_or_else(|| ApiError::internal("content was not written to a file"))?;
    let insert_only = policy.insert_only;
    let committed = rec.clone();
    state
        .blocking(move |s| {
            let blob = s.promote(&tmp.keep())?;
            let rec = FileRecord { blob, ..rec };
            let blob = rec.blob.clone();
            match s.commit_file(rec, insert_only) {
                Ok(Some(old)) => {
                    s.remove_blob(&old);
                    Ok(())
                }
                Ok(None) => Ok(()),
                Err(e) => {
                    s.remove_blob(&blob);
                    Err(e)
                }
            }
        })
        .await?;
    let result = file_result(state, rid, &committed);
    respond(state, rid, &policy, &vars, result).await
}
