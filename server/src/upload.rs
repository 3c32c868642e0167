//! Simple upload: `POST /api/proxy/upload` (protocol.md §3–§5).

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;

use crate::error::{ApiError, ApiResult};
use crate::finish::{self, upper};
use crate::form::{read_form, Content, Limit};
use crate::policy::extension;
use crate::state::{now_ms, AppState};
use crate::store::FileRecord;

pub async fn simple(state: &Arc<AppState>, req: Request<Body>, rid: &str) -> ApiResult<Response> {
    // The token is checked before a single body byte is read.
    let auth = finish::authenticate(state, &req)?;
    let policy = auth.policy;
    let limit = Limit::for_upload(state.limits.max_object_size, policy.size_limit, None);
    let ctype = finish::content_type(&req);
    let mut form = read_form(req.into_body(), ctype.as_deref(), &state.store, limit).await?;
    let Content {
        written: w,
        filename,
    } = finish::take_checked_content(&mut form, "the content")?;

    // Name for `${ext}` and extension-based MIME guessing before the target
    // name is rendered.
    let orig = finish::original_name(&form, filename.as_deref(), &policy);
    let etag = upper(&w.md5);
    let mut vars = finish::base_vars(&policy.namespace, finish::vars_of(&form));
    vars.set("ext", extension(&orig));
    let pre_mime = finish::detect_mime(policy.detect_mime, &w.head, &[&orig]);
    finish::set_content_vars(&mut vars, w.size, &etag, &pre_mime);
    let fallback_name = form.get("name").or(filename.as_deref());
    let (dir, name) = finish::resolve_target(&policy, form.get("dir"), fallback_name, &mut vars)?;
    let mime = finish::detect_mime(policy.detect_mime, &w.head, &[&name, &orig]);
    finish::set_content_vars(&mut vars, w.size, &etag, &mime);
    finish::check_final_name_and_type(&policy, &mut vars, &name, &mime)?;

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
        meta: serde_json::Value::Object(finish::meta_of(&form)?).to_string(),
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
    let result = finish::file_result(state, rid, &committed);
    finish::respond(state, rid, &policy, &vars, result).await
}
