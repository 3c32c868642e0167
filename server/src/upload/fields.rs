//! What an upload form's own fields say about it: the `size` and `md5`
//! its content must match, and its `meta-*` metadata.

use serde_json::{Map, Value};

use super::form::{Content, Form};
use crate::http::error::{ApiError, ApiResult};

/// Takes the `content` file of an upload request and checks it against the
/// request's own `size` and `md5` fields; `what` names it in messages
/// ("the content", "part 3").
pub fn take_checked_content(form: &mut Form, what: &str) -> ApiResult<Content> {
    let content = form.content.take().ok_or_else(|| {
        ApiError::invalid_argument(format!("missing the 'content' file field ({what})"))
    })?;
    check_size_field(form, content.written.size)?;
    check_md5(form.get("md5"), &content.written.md5, what)?;
    Ok(content)
}

/// A `size` field, when sent, must match the bytes received.
pub fn check_size_field(form: &Form, actual: u64) -> ApiResult<()> {
    match form.get("size") {
        Some(s) if s.trim().parse::<u64>().ok() != Some(actual) => Err(ApiError::invalid_argument(
            format!("form field 'size' says {s} but the content has {actual} bytes"),
        )),
        _ => Ok(()),
    }
}

pub fn check_md5(given: Option<&str>, actual: &str, what: &str) -> ApiResult<()> {
    match given.map(str::trim) {
        Some(g) if !g.eq_ignore_ascii_case(actual) => Err(ApiError::bad_digest(format!(
            "md5 of {what} is {actual}, the request said {g}"
        ))),
        _ => Ok(()),
    }
}

/// User metadata of one file at most, names and values together (the
/// 2 KB that S3 allows).
pub const MAX_METADATA: usize = 2048;

/// The `meta-*` fields as the file's metadata, within [`MAX_METADATA`].
pub fn meta_of(form: &Form) -> ApiResult<Map<String, Value>> {
    let meta = form.prefixed("meta-");
    let size: usize = meta.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_METADATA {
        return Err(ApiError::metadata_too_large(format!(
            "meta-* fields hold {size} bytes (names and values); the server's limit is {MAX_METADATA}"
        )));
    }
    Ok(meta
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect())
}
