//! API errors and JSON response helpers.
//!
//! Every error leaves the server as `{"code","message","requestId"}` with the
//! status from the error table in docs/protocol.md, so clients can map them mechanically.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

/// An error answer: HTTP status, protocol error code and a human message.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

macro_rules! ctors {
    ($($fn_name:ident => $status:ident, $code:literal;)*) => {
        $(
            pub fn $fn_name(message: impl Into<String>) -> Self {
                Self::new(StatusCode::$status, $code, message)
            }
        )*
    };
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    ctors! {
        invalid_argument => BAD_REQUEST, "InvalidArgument";
        bad_digest => BAD_REQUEST, "BadDigest";
        entity_too_small => BAD_REQUEST, "EntityTooSmall";
        invalid_policy => BAD_REQUEST, "InvalidPolicy";
        invalid_token => UNAUTHORIZED, "InvalidToken";
        token_expired => UNAUTHORIZED, "TokenExpired";
        time_skewed => UNAUTHORIZED, "RequestTimeTooSkewed";
        access_denied => FORBIDDEN, "AccessDenied";
        file_not_exist => NOT_FOUND, "FileNotExist";
        dir_not_exist => NOT_FOUND, "DirNotExist";
        no_such_upload => NOT_FOUND, "NoSuchUpload";
        task_not_exist => NOT_FOUND, "TaskNotExist";
        file_exists => CONFLICT, "FileAlreadyExists";
        name_duplicated => CONFLICT, "NameDuplicated";
        dir_not_empty => CONFLICT, "DirNotEmpty";
        size_limit => PAYLOAD_TOO_LARGE, "SizeLimitExceeded";
        mime_limit => UNSUPPORTED_MEDIA_TYPE, "MimeLimitExceeded";
        unsupported => NOT_IMPLEMENTED, "UnsupportedOperation";
        internal => INTERNAL_SERVER_ERROR, "InternalError";
        // Not in docs/protocol.md's table ([server choice] codes for cases it does
        // not cover); clients only rely on "200 means success".
        no_such_endpoint => NOT_FOUND, "NoSuchEndpoint";
        method_not_allowed => METHOD_NOT_ALLOWED, "MethodNotAllowed";
        service_unavailable => SERVICE_UNAVAILABLE, "ServiceUnavailable";
        callback_failed => BAD_GATEWAY, "CallbackFailed";
        request_timeout => REQUEST_TIMEOUT, "RequestTimeout";
        insufficient_storage => INSUFFICIENT_STORAGE, "InsufficientStorage";
        part_header_too_large => BAD_REQUEST, "PartHeaderTooLarge";
        fields_too_large => PAYLOAD_TOO_LARGE, "FormFieldsTooLarge";
        metadata_too_large => BAD_REQUEST, "MetadataTooLarge";
    }

    pub fn into_response(self, request_id: &str) -> Response {
        let body = json!({
            "code": self.code,
            "message": self.message,
            "requestId": request_id,
        });
        json_response(self.status, &body, request_id)
    }
}

/// A full disk (or quota) is not a passing fault: 507, which clients do not
/// retry, instead of 500.
fn disk_full(what: &str) -> ApiError {
    ApiError::insufficient_storage(format!(
        "{what}: no space left on the server's disk; nothing was stored"
    ))
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(libc::ENOSPC | libc::EDQUOT) => disk_full(&format!("storage I/O error ({e})")),
            _ => ApiError::internal(format!("storage I/O error: {e}")),
        }
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        match e.sqlite_error() {
            Some(f) if f.code == rusqlite::ErrorCode::DiskFull => {
                disk_full(&format!("metadata database error ({e})"))
            }
            // The only commit hook installed is the simulated full disk,
            // which rolls back every commit as SQLite does when it cannot
            // write its journal.
            Some(f) if f.extended_code == ffi::SQLITE_CONSTRAINT_COMMITHOOK => {
                disk_full("metadata database error (simulated full disk)")
            }
            _ => ApiError::internal(format!("metadata database error: {e}")),
        }
    }
}

/// A JSON answer carrying the request id header as well, so even bodies
/// without a `requestId` field (manage answers) can be correlated with the log.
pub fn json_response(status: StatusCode, body: &Value, request_id: &str) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", v);
    }
    resp
}

/// The `{"code":"OK","message":"OK","requestId":…}` head of upload-host successes.
pub fn ok_head(request_id: &str) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("code".into(), json!("OK"));
    m.insert("message".into(), json!("OK"));
    m.insert("requestId".into(), json!(request_id));
    m
}
