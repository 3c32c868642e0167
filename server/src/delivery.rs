//! File delivery: `GET`/`HEAD /files/{namespace}{dir}/{name}` with single
//! byte ranges. Never subject to fault injection: tests download through it
//! to verify what was stored.

use std::io::SeekFrom;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use percent_encoding::percent_decode_str;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::http::error::{ApiError, ApiResult};
use crate::paths;
use crate::state::AppState;
use crate::storage::FileRecord;

/// Splits `{namespace}/{dir…}/{name}` and percent-decodes each segment.
fn locate(rest: &str) -> ApiResult<(String, String, String)> {
    let not_found = || ApiError::file_not_exist(format!("no file at /files/{rest}"));
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| not_found())
        })
        .collect::<ApiResult<_>>()?;
    let [ns, middle @ .., name] = &segs[..] else {
        return Err(not_found());
    };
    let dir = paths::normalize_dir(&middle.join("/")).map_err(|_| not_found())?;
    Ok((ns.clone(), dir, name.clone()))
}

/// A single range `bytes=a-b`, `bytes=a-` or `bytes=-n` against `size`.
/// `Ok(None)`: serve everything (no, several or unparsable ranges);
/// `Err(())`: unsatisfiable.
fn parse_range(value: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let Ok(n) = b.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 || size == 0 {
            return Err(());
        }
        (size - n.min(size), size - 1)
    } else {
        let Ok(start) = a.parse::<u64>() else {
            return Ok(None);
        };
        let end = match b {
            "" => u64::MAX,
            b => match b.parse::<u64>() {
                Ok(e) if e >= start => e,
                _ => return Ok(None),
            },
        };
        if start >= size {
            return Err(());
        }
        (start, end.min(size - 1))
    };
    Ok(Some(range))
}

fn http_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

pub async fn serve(
    state: &Arc<AppState>,
    method: &Method,
    headers: &HeaderMap,
    rest: &str,
) -> ApiResult<Response> {
    let head_only = method == Method::HEAD;
    if method != Method::GET && !head_only {
        return Err(ApiError::method_not_allowed(format!(
            "/files/ takes GET or HEAD, not {method}"
        )));
    }
    let (ns, dir, name) = locate(rest)?;
    let (n, d, f) = (ns.clone(), dir.clone(), name.clone());
    let rec: FileRecord = state
        .blocking(move |s| s.get_file(&n, &d, &f))
        .await?
        .ok_or_else(|| {
            ApiError::file_not_exist(format!(
                "file {} does not exist in namespace '{ns}'",
                paths::join(&dir, &name)
            ))
        })?;
    let etag = format!("\"{}\"", rec.md5.to_ascii_uppercase());

    let mut resp = Response::new(Body::empty());
    let h = resp.headers_mut();
    set(h, header::CONTENT_TYPE, &rec.mime);
    set(h, header::ETAG, &etag);
    set(h, header::LAST_MODIFIED, &http_date(rec.modify_time));
    set(h, header::ACCEPT_RANGES, "bytes");

    let inm = headers.get(header::IF_NONE_MATCH);
    if inm.is_some_and(|v| v.as_bytes() == etag.as_bytes() || v.as_bytes() == b"*") {
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        return Ok(resp);
    }
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(v) => match parse_range(v, rec.size) {
            Ok(r) => r,
            Err(()) => {
                *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                set(
                    resp.headers_mut(),
                    header::CONTENT_RANGE,
                    &format!("bytes */{}", rec.size),
                );
                set(resp.headers_mut(), header::CONTENT_LENGTH, "0");
                return Ok(resp);
            }
        },
    };
    let (start, len) = match range {
        Some((a, b)) => {
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
            let cr = format!("bytes {a}-{b}/{}", rec.size);
            set(resp.headers_mut(), header::CONTENT_RANGE, &cr);
            (a, b - a + 1)
        }
        None => (0, rec.size),
    };
    set(resp.headers_mut(), header::CONTENT_LENGTH, &len.to_string());
    if head_only {
        return Ok(resp);
    }
    // An overwrite may remove the object between the lookup and the open;
    // an open file stays readable, a missing one is reported as missing.
    let mut file = tokio::fs::File::open(state.store.blob_path(&rec.blob))
        .await
        .map_err(|_| ApiError::file_not_exist("the file was replaced or deleted meanwhile"))?;
    file.seek(SeekFrom::Start(start)).await?;
    let stream = ReaderStream::with_capacity(file.take(len), 64 * 1024);
    *resp.body_mut() = Body::from_stream(stream);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=-1000", 100), Ok(Some((0, 99))));
        assert_eq!(parse_range("bytes=50-1000", 100), Ok(Some((50, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Err(()));
        assert_eq!(parse_range("bytes=-0", 100), Err(()));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(parse_range("bytes=9-1", 100), Ok(None));
        assert_eq!(parse_range("items=0-1", 100), Ok(None));
        assert_eq!(parse_range("bytes=0-", 0), Err(()));
    }

    #[test]
    fn locations() {
        let (ns, dir, name) = locate("ns/a%20b/c/x%2By%25.txt").unwrap();
        assert_eq!(
            (ns.as_str(), dir.as_str(), name.as_str()),
            ("ns", "/a b/c", "x+y%.txt")
        );
        let (_, dir, name) = locate("ns/n").unwrap();
        assert_eq!((dir.as_str(), name.as_str()), ("/", "n"));
        assert!(locate("ns").is_err());
    }
}
