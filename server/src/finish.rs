//! What simple and multipart uploads share: authentication, target names,
//! MIME detection, digests, the result JSON, and the answer (default JSON,
//! `returnBody`, `returnUrl` redirect or relayed callback).

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::auth::{b64u_encode, verify_upload_token, UploadAuth};
use crate::error::{json_response, ok_head, ApiError, ApiResult};
use crate::form::{Content, Form};
use crate::paths;
use crate::policy::{extension, Policy, Vars};
use crate::state::{now_ms, AppState};
use crate::store::FileRecord;

/// The upload token comes in the `Authorization` header or, as the browser
/// SDK sends it, in an `Authorization` query parameter.
pub fn authenticate(state: &AppState, req: &Request<Body>) -> ApiResult<UploadAuth> {
    let from_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let from_query = || {
        form_urlencoded::parse(req.uri().query()?.as_bytes())
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.into_owned())
    };
    let token = from_header.or_else(from_query).ok_or_else(|| {
        ApiError::invalid_token(
            "missing upload token: send it in the Authorization header or query parameter",
        )
    })?;
    let auth = verify_upload_token(&token, &state.keys, now_ms())?;
    paths::validate_namespace(&auth.policy.namespace)
        .map_err(|e| ApiError::invalid_policy(format!("policy namespace: {}", e.message)))?;
    Ok(auth)
}

pub fn content_type(req: &Request<Body>) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// MIME type from the content's magic bytes.
pub fn sniff(head: &[u8]) -> Option<String> {
    infer::get(head).map(|t| t.mime_type().to_string())
}

/// `detectMime` 1: content first, then the name's extension; 0: the
/// extension only. `application/octet-stream` when nothing says otherwise.
pub fn detect_mime(detect: bool, head: &[u8], names: &[&str]) -> String {
    let sniffed = if detect { sniff(head) } else { None };
    sniffed
        .or_else(|| {
            names
                .iter()
                .filter(|n| !extension(n).is_empty())
                .find_map(|n| mime_guess::from_path(n).first_raw())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "application/octet-stream".to_string())
}

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
/// over form values (protocol.md §3).
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

pub fn vars_of(form: &Form) -> HashMap<String, String> {
    form.prefixed("var-").into_iter().collect()
}

/// The success JSON of an upload (protocol.md §5).
pub fn file_result(state: &AppState, rid: &str, rec: &FileRecord) -> Map<String, Value> {
    let mut m = ok_head(rid);
    m.insert("name".into(), json!(rec.name));
    m.insert("dir".into(), json!(rec.dir));
    m.insert(
        "url".into(),
        json!(paths::file_url(
            &state.base_url,
            &rec.namespace,
            &rec.dir,
            &rec.name
        )),
    );
    m.insert("fileSize".into(), json!(rec.size.to_string()));
    m.insert("fileModified".into(), json!(rec.modify_time));
    m.insert("eTag".into(), json!(rec.md5.to_ascii_uppercase()));
    m.insert("mimeType".into(), json!(rec.mime));
    m.insert("isImage".into(), json!(rec.mime.starts_with("image/")));
    let meta: Map<String, Value> = serde_json::from_str(&rec.meta).unwrap_or_default();
    if !meta.is_empty() {
        m.insert("meta".into(), Value::Object(meta));
    }
    m
}

/// Checks the policy's URLs before anything is stored. Callbacks may only
/// reach this machine: wantu-server is a development server and must not
/// become a request relay to other hosts.
pub fn check_policy_urls(policy: &Policy) -> ApiResult<()> {
    if let Some(u) = &policy.return_url {
        if HeaderValue::from_str(u).is_err() || reqwest::Url::parse(u).is_err() {
            return Err(ApiError::invalid_argument(format!(
                "policy returnUrl '{}' is not a valid URL",
                u.escape_debug()
            )));
        }
    }
    let Some(url) = &policy.callback_url else {
        return Ok(());
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| {
        ApiError::invalid_argument(format!("policy callbackUrl '{url}' is not a URL"))
    })?;
    let host = parsed.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !matches!(parsed.scheme(), "http" | "https") || !loopback {
        return Err(ApiError::invalid_argument(format!(
            "policy callbackUrl '{url}' must be an http(s) URL on a loopback address"
        )));
    }
    Ok(())
}

/// Posts the rendered callback body; answers its body and content type.
async fn callback(
    state: &AppState,
    policy: &Policy,
    url: &str,
    vars: &Vars,
    result: &Value,
) -> ApiResult<(Vec<u8>, String)> {
    let (body, ctype) = match &policy.callback_body {
        Some(t) => (
            vars.render(t),
            policy
                .callback_body_type
                .clone()
                .unwrap_or_else(|| "application/x-www-form-urlencoded".into()),
        ),
        None => (result.to_string(), "application/json".into()),
    };
    let mut req = state
        .http
        .post(url)
        .header(header::CONTENT_TYPE, ctype)
        .body(body);
    if let Some(host) = &policy.callback_host {
        req = req.header(header::HOST, host);
    }
    let failed = |why: String| ApiError::callback_failed(format!("callback to {url} {why}"));
    let resp = req
        .send()
        .await
        .map_err(|e| failed(format!("failed: {e}")))?;
    let status = resp.status();
    let ctype = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| failed(format!("answer could not be read: {e}")))?;
    if !status.is_success() {
        return Err(failed(format!(
            "answered HTTP {status} (the file is stored)"
        )));
    }
    Ok((bytes.to_vec(), ctype))
}

/// The answer to a successful upload: the callback's answer, the rendered
/// `returnBody`, or the default JSON; redirected when `returnUrl` is set.
pub async fn respond(
    state: &AppState,
    rid: &str,
    policy: &Policy,
    vars: &Vars,
    result: Map<String, Value>,
) -> ApiResult<Response> {
    let result = Value::Object(result);
    let (body, ctype): (Vec<u8>, String) = if let Some(url) = &policy.callback_url {
        callback(state, policy, url, vars, &result).await?
    } else if let Some(t) = &policy.return_body {
        let text = vars.render(t);
        let ctype = if serde_json::from_str::<Value>(&text).is_ok() {
            "application/json; charset=utf-8"
        } else {
            "text/plain; charset=utf-8"
        };
        (text.into_bytes(), ctype.into())
    } else {
        return match &policy.return_url {
            None => Ok(json_response(StatusCode::OK, &result, rid)),
            Some(u) => Ok(redirect(u, result.to_string().as_bytes(), rid)),
        };
    };
    if let Some(u) = &policy.return_url {
        return Ok(redirect(u, &body, rid));
    }
    let mut resp = Response::new(Body::from(body));
    if let Ok(v) = HeaderValue::from_str(&ctype) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    Ok(resp)
}

/// [server choice] `303 See Other` to `returnUrl?upload_ret=<b64u(answer)>`.
fn redirect(url: &str, answer: &[u8], rid: &str) -> Response {
    let sep = if url.contains('?') { '&' } else { '?' };
    let location = format!("{url}{sep}upload_ret={}", b64u_encode(answer));
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SEE_OTHER;
    match HeaderValue::from_str(&location) {
        Ok(v) => {
            resp.headers_mut().insert(header::LOCATION, v);
            resp
        }
        Err(_) => ApiError::invalid_argument("policy returnUrl is not a valid header value")
            .into_response(rid),
    }
}

pub fn upper(md5: &str) -> String {
    md5.to_ascii_uppercase()
}
