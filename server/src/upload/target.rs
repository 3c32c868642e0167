//! Where an upload goes: magic variables, the rendered target folder and
//! name, and the policy's checks on the final name and type.

use std::collections::HashMap;

use super::answer::check_policy_urls;
use super::form::Form;
use super::policy::{extension, Policy, Vars};
use crate::http::error::{ApiError, ApiResult};
use crate::paths;

/// Variables known before the content is looked at.
pub fn base_vars(namespace: &str, custom: HashMap<String, String>) -> Vars {
    let mut v = Vars::new(custom);
    v.set("uuid", uuid::Uuid::new_v4().to_string())
        .set("namespace", namespace)
        .set_time(chrono::Local::now());
    v
}

pub fn set_content_vars(vars: &mut Vars, size: u64, etag: &str, mime: &str) {
    let media = mime.split('/').next().unwrap_or("");
    vars.set("fileSize", size.to_string())
        .set("etag", etag)
        .set("mimeType", mime)
        .set("mediaType", media);
}

/// The last checks before a file is committed, the same for simple and
/// multipart uploads: `${ext}` from the final name, the policy's
/// `mimeLimit` against the detected type, and its callback/return URLs.
pub fn check_final_name_and_type(
    policy: &Policy,
    vars: &mut Vars,
    name: &str,
    mime: &str,
) -> ApiResult<()> {
    if !extension(name).is_empty() {
        vars.set("ext", extension(name));
    }
    if !policy.mime_allowed(mime) {
        return Err(ApiError::mime_limit(format!(
            "MIME type {mime} is not allowed by the policy's mimeLimit '{}'",
            policy.mime_limit.as_deref().unwrap_or("")
        )));
    }
    check_policy_urls(policy)
}

/// Renders and validates the target folder and name: policy values win
/// over form values (docs/protocol.md, upload policy).
pub fn resolve_target(
    policy: &Policy,
    form_dir: Option<&str>,
    form_name: Option<&str>,
    vars: &mut Vars,
) -> ApiResult<(String, String)> {
    vars.unset("dir").unset("name");
    let dir_t = policy.dir.as_deref().or(form_dir).unwrap_or("/");
    let dir = paths::normalize_dir(&vars.render(dir_t))?;
    vars.set("dir", dir.clone());
    let name_t = policy.name.as_deref().or(form_name).ok_or_else(|| {
        ApiError::invalid_argument("no file name: set 'name' in the policy or the form")
    })?;
    let name = vars.render(name_t);
    paths::validate_name(&name)?;
    vars.set("name", name.clone());
    Ok((dir, name))
}

/// The name a new file is known by before its target name is rendered,
/// for `${ext}` and extension-based MIME guessing: the `name` field, the
/// content's filename, else the policy's name.
pub fn original_name(form: &Form, filename: Option<&str>, policy: &Policy) -> String {
    form.get("name")
        .or(filename)
        .or(policy.name.as_deref())
        .unwrap_or_default()
        .to_string()
}

pub fn vars_of(form: &Form) -> HashMap<String, String> {
    form.prefixed("var-").into_iter().collect()
}
