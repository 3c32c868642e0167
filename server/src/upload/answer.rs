//! The answer to a stored upload: the result JSON, then the default JSON,
//! the rendered `returnBody`, a `returnUrl` redirect or the relayed
//! callback answer.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::policy::{Policy, Vars};
use crate::auth::b64u_encode;
use crate::http::error::{json_response, ok_head, ApiError, ApiResult};
use crate::paths;
use crate::state::AppState;
use crate::storage::FileRecord;

/// The success JSON of an upload (docs/protocol.md, upload results).
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
