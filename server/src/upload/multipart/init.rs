//! blockInit: part 1 starts a multipart upload and becomes its staging
//! object.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use serde_json::json;

use super::{answer, part_limit, read};
use crate::http::error::{ApiError, ApiResult};
use crate::state::{now_ms, AppState};
use crate::storage::{PartRecord, UploadRecord};
use crate::upload::answer::upper;
use crate::upload::fields::{meta_of, take_checked_content};
use crate::upload::form::Content;
use crate::upload::policy::extension;
use crate::upload::target::{base_vars, original_name, resolve_target, vars_of};
use crate::upload::token::authenticate;
use serde_json::Value;

pub async fn init(state: &Arc<AppState>, req: Request<Body>, rid: &str) -> ApiResult<Response> {
    let auth = authenticate(state, &req)?;
    let policy = &auth.policy;
    let mut form = read(state, req, part_limit(state, policy)).await?;
    let Content {
        written: w,
        filename,
    } = take_checked_content(&mut form, "part 1")?;

    let orig = original_name(&form, filename.as_deref(), policy);
    let custom = vars_of(&form);
    let mut vars = base_vars(&policy.namespace, custom.clone());
    vars.set("ext", extension(&orig));
    // Variables that depend on the whole file stay in the names until
    // blockComplete renders them.
    let fallback_name = form.get("name").or(filename.as_deref());
    let (dir, name) = resolve_target(policy, form.get("dir"), fallback_name, &mut vars)?;
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
        meta: Value::Object(meta_of(&form)?).to_string(),
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
