//! Top-level routing. One port serves three hosts' worth of paths:
//! `/api/proxy/*` (upload), `/3.0/*` and `/3.1/*` (manage), `/files/*`
//! (delivery). Routing is done by hand so that every answer, including
//! unknown paths and wrong methods, is the protocol's JSON error.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request};
use axum::response::Response;

use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::upload::{multipart, simple};
use crate::{delivery, manage};

pub async fn dispatch(state: &Arc<AppState>, req: Request<Body>, rid: &str) -> Response {
    let path = req.uri().path().to_string();
    let result = if let Some(op) = path.strip_prefix("/api/proxy/") {
        upload_host(state, req, op, rid).await
    } else if path.starts_with("/3.0/") || path.starts_with("/3.1/") {
        manage::handle(state, req, rid).await
    } else if let Some(rest) = path.strip_prefix("/files/") {
        delivery::serve(state, req.method(), req.headers(), rest).await
    } else {
        Err(ApiError::no_such_endpoint(format!(
            "no such endpoint: {} {path}",
            req.method()
        )))
    };
    result.unwrap_or_else(|e| e.into_response(rid))
}

async fn upload_host(
    state: &Arc<AppState>,
    req: Request<Body>,
    op: &str,
    rid: &str,
) -> ApiResult<Response> {
    // Shipping SDKs used both `/api/proxy/upload` and `/api/proxy/upload.json`.
    let op = op.strip_suffix(".json").unwrap_or(op);
    let known = matches!(
        op,
        "upload" | "blockInit" | "blockUpload" | "blockComplete" | "blockCancel"
    );
    if !known {
        return Err(ApiError::no_such_endpoint(format!(
            "no such upload endpoint: /api/proxy/{op}"
        )));
    }
    if req.method() != Method::POST {
        return Err(ApiError::method_not_allowed(format!(
            "/api/proxy/{op} takes POST, not {}",
            req.method()
        )));
    }
    match op {
        "upload" => simple::upload(state, req, rid).await,
        "blockInit" => multipart::init(state, req, rid).await,
        "blockUpload" => multipart::upload_part(state, req, rid).await,
        "blockComplete" => multipart::complete(state, req, rid).await,
        _ => multipart::cancel(state, req, rid).await,
    }
}
