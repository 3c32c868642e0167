//! Media processing and scanning endpoints (docs/protocol.md, manage host). wantu-server
//! processes no media: it validates each request like the service would,
//! records it in the journal (so client tests can check what was sent),
//! and answers 501 `UnsupportedOperation`.

use axum::response::Response;

use crate::auth::decode_file_rid;
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::RecordedRequest;

#[derive(Debug, Clone, Copy)]
pub enum Kind<'a> {
    Pts,
    PtsResult(&'a str),
    MediaEncode,
    MediaEncodeResult(&'a str),
    Snapshot,
    SnapshotResult(&'a str),
    ScanPorn,
    ScanAdvertising,
    Feedback,
}

impl Kind<'_> {
    fn label(&self) -> &'static str {
        match self {
            Kind::Pts => "persistent tasks (pts)",
            Kind::PtsResult(_) => "persistent task status",
            Kind::MediaEncode => "transcoding (mediaEncode)",
            Kind::MediaEncodeResult(_) => "transcoding results",
            Kind::Snapshot => "video snapshots",
            Kind::SnapshotResult(_) => "snapshot results",
            Kind::ScanPorn => "porn scanning",
            Kind::ScanAdvertising => "advertising scanning",
            Kind::Feedback => "scan feedback",
        }
    }
}

struct Fields<'a>(&'a [(String, String)]);

impl Fields<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    fn require(&self, key: &str) -> ApiResult<&str> {
        self.get(key)
            .ok_or_else(|| ApiError::invalid_argument(format!("missing body field '{key}'")))
    }

    /// A 0/1 flag; `required` flags must be present.
    fn flag(&self, key: &str, required: bool) -> ApiResult<()> {
        match self.get(key) {
            None if required => Err(ApiError::invalid_argument(format!(
                "missing body field '{key}'"
            ))),
            None | Some("0" | "1" | "true" | "false") => Ok(()),
            Some(v) => Err(ApiError::invalid_argument(format!(
                "body field '{key}' must be 0 or 1, got '{v}'"
            ))),
        }
    }
}

/// Task ids are never issued here, so only their form can be checked.
fn task_id(id: &str) -> ApiResult<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::task_not_exist(format!(
            "no task with id '{}'",
            id.escape_debug()
        )))
    }
}

async fn existing_file(state: &AppState, field: &str, rid: &str) -> ApiResult<()> {
    let (ns, dir, name) = decode_file_rid(rid)
        .map_err(|e| ApiError::invalid_argument(format!("field '{field}': {}", e.message)))?;
    let (n, d, f) = (ns.clone(), dir.clone(), name.clone());
    match state.blocking(move |s| s.get_file(&n, &d, &f)).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::file_not_exist(format!(
            "field '{field}': file {} does not exist in namespace '{ns}'",
            crate::paths::join(&dir, &name)
        ))),
    }
}

async fn validate(state: &AppState, kind: Kind<'_>, f: &Fields<'_>) -> ApiResult<()> {
    match kind {
        Kind::PtsResult(id) | Kind::MediaEncodeResult(id) | Kind::SnapshotResult(id) => task_id(id),
        Kind::Pts => {
            existing_file(state, "resourceId", f.require("resourceId")?).await?;
            f.require("fops")?;
            f.flag("force", false)
        }
        Kind::MediaEncode => {
            existing_file(state, "input", f.require("input")?).await?;
            decode_file_rid(f.require("output")?)?;
            f.require("encodeTemplate")?;
            f.flag("usePreset", true)?;
            f.flag("force", true)
        }
        Kind::Snapshot => {
            existing_file(state, "input", f.require("input")?).await?;
            decode_file_rid(f.require("output")?)?;
            let time = f.require("time")?;
            time.trim().parse::<u64>().map(|_| ()).map_err(|_| {
                ApiError::invalid_argument(format!(
                    "body field 'time' must be milliseconds, got '{time}'"
                ))
            })
        }
        Kind::ScanPorn | Kind::ScanAdvertising => {
            match (f.get("resourceId"), f.get("url")) {
                (Some(rids), _) => {
                    for rid in rids.split(';').filter(|s| !s.is_empty()) {
                        existing_file(state, "resourceId", rid).await?;
                    }
                }
                (None, Some(urls)) => {
                    for u in urls.split(';').filter(|s| !s.is_empty()) {
                        if reqwest::Url::parse(u).is_err() {
                            return Err(ApiError::invalid_argument(format!(
                                "body field 'url' holds '{u}', which is not a URL"
                            )));
                        }
                    }
                }
                (None, None) => {
                    return Err(ApiError::invalid_argument(
                        "send 'resourceId' or 'url' (';'-separated lists)",
                    ))
                }
            }
            Ok(())
        }
        Kind::Feedback => {
            let items: Vec<&str> =
                f.0.iter()
                    .filter(|(k, _)| k == "feedback")
                    .map(|(_, v)| v.as_str())
                    .collect();
            if items.is_empty() {
                return Err(ApiError::invalid_argument("missing body field 'feedback'"));
            }
            for item in items {
                serde_json::from_str::<serde_json::Value>(item).map_err(|e| {
                    ApiError::invalid_argument(format!("a 'feedback' value is not JSON: {e}"))
                })?;
            }
            Ok(())
        }
    }
}

/// Validates, records and refuses a processing request.
pub async fn handle(
    state: &AppState,
    kind: Kind<'_>,
    method: &str,
    target: &str,
    body: &[u8],
    access_key: &str,
) -> ApiResult<Response> {
    let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    validate(state, kind, &Fields(&fields)).await?;
    state.shared.record(RecordedRequest {
        method: method.to_string(),
        path: target.to_string(),
        fields,
        access_key: access_key.to_string(),
    });
    Err(ApiError::unsupported(format!(
        "wantu-server stores files but performs no media processing: {} is not supported \
         (the request was valid and has been recorded)",
        kind.label()
    )))
}
