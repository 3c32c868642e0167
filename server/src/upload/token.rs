//! The upload token of an upload-host request: where it is carried and
//! what it grants.

use axum::body::Body;
use axum::http::{header, Request};

use crate::auth::{verify_upload_token, UploadAuth};
use crate::http::error::{ApiError, ApiResult};
use crate::paths;
use crate::state::{now_ms, AppState};

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
