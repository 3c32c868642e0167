//! blockUpload: one more part, streamed into its range of the staging
//! object when it can be, else into an object of its own.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use serde_json::json;

use super::parts::parse_part_number;
use super::staging::{self, PartTarget};
use super::{answer, load_upload, part_limit, prefix};
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::PartRecord;
use crate::upload::answer::upper;
use crate::upload::fields::take_checked_content;
use crate::upload::form::{content_type, read_form_with, Form};
use crate::upload::token::authenticate;

pub async fn upload_part(
    state: &Arc<AppState>,
    req: Request<Body>,
    rid: &str,
) -> ApiResult<Response> {
    let auth = authenticate(state, &req)?;
    let ctype = content_type(&req);
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
    let w = take_checked_content(&mut form, &format!("part {number}"))?.written;
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
