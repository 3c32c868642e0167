//! Manage host: files, folders and paging (docs/protocol.md, manage host); processing and
//! scanning are handed to [`crate::processing`].

mod processing;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::auth::{decode_file_rid, decode_folder_rid, verify_manage_token};
use crate::http::error::{json_response, ApiError, ApiResult};
use crate::paths;
use crate::state::{now_ms, AppState};
use crate::storage::{FileRecord, FolderRecord};
use crate::upload::form::read_limited;
use processing::Kind;

const MAX_BODY: usize = 1 << 20;
const MAX_PAGE_SIZE: u64 = 100;

enum Op<'a> {
    FileExist(&'a str),
    FileGet(&'a str),
    FileDelete(&'a str),
    FileRename(&'a str, &'a str),
    FileList,
    FolderExist(&'a str),
    FolderCreate(&'a str),
    FolderDelete(&'a str),
    FolderList,
    Proc(Kind<'a>),
}

fn route<'a>(method: &Method, segs: &[&'a str]) -> Option<Op<'a>> {
    let (get, post, delete) = (
        method == Method::GET,
        method == Method::POST,
        method == Method::DELETE,
    );
    Some(match segs {
        ["3.0", "files"] if get => Op::FileList,
        ["3.0", "files", rid] if get => Op::FileGet(rid),
        ["3.0", "files", rid] if delete => Op::FileDelete(rid),
        ["3.0", "files", rid, "exist" | "exists"] if get => Op::FileExist(rid),
        ["3.0", "files", rid, "rename", new] if post => Op::FileRename(rid, new),
        ["3.0", "folders"] if get => Op::FolderList,
        ["3.0", "folders", rid] if post => Op::FolderCreate(rid),
        ["3.0", "folders", rid] if delete => Op::FolderDelete(rid),
        ["3.0", "folders", rid, "exist" | "exists"] if get => Op::FolderExist(rid),
        ["3.0", "pts"] | ["3.0", "pts", ""] if post => Op::Proc(Kind::Pts),
        ["3.0", "pts", id] if get => Op::Proc(Kind::PtsResult(id)),
        ["3.0", "mediaEncode"] if post => Op::Proc(Kind::MediaEncode),
        ["3.0", "mediaEncodeResult", id] if get => Op::Proc(Kind::MediaEncodeResult(id)),
        ["3.0", "snapshot"] if post => Op::Proc(Kind::Snapshot),
        ["3.0", "snapshotResult", id] if get => Op::Proc(Kind::SnapshotResult(id)),
        ["3.1", "scanPorn"] if post => Op::Proc(Kind::ScanPorn),
        ["3.1", "scanAdvertising"] if post => Op::Proc(Kind::ScanAdvertising),
        ["3.1", "feedback"] if post => Op::Proc(Kind::Feedback),
        _ => return None,
    })
}

fn ok(body: Value, rid: &str) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &body, rid))
}

pub async fn handle(state: &Arc<AppState>, req: Request<Body>, rid: &str) -> ApiResult<Response> {
    let method = req.method().clone();
    // The signature covers the request target exactly as it was sent.
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    let path = req.uri().path().to_string();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let Some(op) = route(&method, &segs) else {
        let other = [Method::GET, Method::POST, Method::DELETE]
            .iter()
            .any(|m| route(m, &segs).is_some());
        return Err(if other {
            ApiError::method_not_allowed(format!("{path} does not take {method}"))
        } else {
            ApiError::no_such_endpoint(format!("no such manage endpoint: {method} {path}"))
        });
    };
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let headers = req.headers().clone();
    let body = read_limited(req.into_body(), MAX_BODY).await?;
    let access_key = verify_manage_token(
        headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()),
        &target,
        &body,
        headers.get(header::DATE).map_or(&b""[..], |v| v.as_bytes()),
        &state.keys,
        now_ms(),
    )?;

    match op {
        Op::Proc(kind) => {
            processing::handle(state, kind, method.as_str(), &target, &body, &access_key).await
        }
        Op::FileExist(rid_) => {
            let (ns, dir, name) = decode_file_rid(rid_)?;
            let f = state
                .blocking(move |s| s.get_file(&ns, &dir, &name))
                .await?;
            ok(json!({ "exist": f.is_some() }), rid)
        }
        Op::FileGet(rid_) => {
            let (ns, dir, name) = decode_file_rid(rid_)?;
            let (n, d, f) = (ns.clone(), dir.clone(), name.clone());
            match state.blocking(move |s| s.get_file(&n, &d, &f)).await? {
                Some(f) => ok(file_object(state, &f), rid),
                None => Err(ApiError::file_not_exist(format!(
                    "file {} does not exist in namespace '{ns}'",
                    paths::join(&dir, &name)
                ))),
            }
        }
        Op::FileDelete(rid_) => {
            let (ns, dir, name) = decode_file_rid(rid_)?;
            state
                .blocking(move |s| {
                    let blob = s.delete_file(&ns, &dir, &name)?;
                    s.remove_blob(&blob);
                    Ok(())
                })
                .await?;
            ok(json!({}), rid)
        }
        Op::FileRename(from, to) => {
            let (ns, dir, name) = decode_file_rid(from)?;
            let (ns2, dir2, name2) = decode_file_rid(to)?;
            if ns != ns2 {
                return Err(ApiError::access_denied(format!(
                    "rename stays within a namespace: '{ns}' to '{ns2}' is not allowed"
                )));
            }
            let f = state
                .blocking(move |s| s.rename_file(&ns, (&dir, &name), (&dir2, &name2), now_ms()))
                .await?;
            ok(file_object(state, &f), rid)
        }
        Op::FileList | Op::FolderList => {
            let listing = Listing::parse(&query)?;
            let files = matches!(op, Op::FileList);
            let page = listing.run(state, files).await?;
            ok(page, rid)
        }
        Op::FolderExist(rid_) => {
            let (ns, dir) = decode_folder_rid(rid_)?;
            let e = state.blocking(move |s| s.folder_exists(&ns, &dir)).await?;
            ok(json!({ "exist": e }), rid)
        }
        Op::FolderCreate(rid_) => {
            let (ns, dir) = decode_folder_rid(rid_)?;
            state
                .blocking(move |s| s.create_folder(&ns, &dir, now_ms()))
                .await?;
            ok(json!({}), rid)
        }
        Op::FolderDelete(rid_) => {
            let (ns, dir) = decode_folder_rid(rid_)?;
            state.blocking(move |s| s.delete_folder(&ns, &dir)).await?;
            ok(json!({}), rid)
        }
    }
}

struct Listing {
    namespace: String,
    dir: String,
    page: u64,
    size: u64,
}

impl Listing {
    fn parse(query: &[(String, String)]) -> ApiResult<Listing> {
        let get = |k: &str| {
            query
                .iter()
                .find(|(key, v)| key == k && !v.is_empty())
                .map(|(_, v)| v.as_str())
        };
        let number = |k: &str, default: u64, lo: u64, hi: u64| -> ApiResult<u64> {
            match get(k) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (lo..=hi).contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid_argument(format!(
                            "{k} must be an integer from {lo} to {hi}, got '{v}'"
                        ))
                    }),
            }
        };
        let namespace = get("namespace")
            .ok_or_else(|| ApiError::invalid_argument("missing query parameter 'namespace'"))?
            .to_string();
        paths::validate_namespace(&namespace)?;
        Ok(Listing {
            namespace,
            dir: paths::normalize_dir(get("dir").unwrap_or("/"))?,
            page: number("currentPage", 1, 1, u32::MAX as u64)?,
            size: number("pageSize", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)?,
        })
    }

    async fn run(self, state: &Arc<AppState>, files: bool) -> ApiResult<Value> {
        let offset = (self.page - 1).saturating_mul(self.size);
        let (ns, dir, size) = (self.namespace.clone(), self.dir.clone(), self.size);
        let (total, result) = state
            .blocking(move |s| {
                if !s.folder_exists(&ns, &dir)? {
                    return Err(ApiError::dir_not_exist(format!(
                        "folder {dir} does not exist in namespace '{ns}'"
                    )));
                }
                Ok(if files {
                    let (t, list) = s.list_files(&ns, &dir, offset, size)?;
                    (
                        t,
                        list.iter().map(|f| FileOrFolder::File(f.clone())).collect(),
                    )
                } else {
                    let (t, list) = s.list_folders(&ns, &dir, offset, size)?;
                    (
                        t,
                        list.into_iter()
                            .map(FileOrFolder::Folder)
                            .collect::<Vec<_>>(),
                    )
                })
            })
            .await?;
        let result: Vec<Value> = result
            .iter()
            .map(|item| match item {
                FileOrFolder::File(f) => file_object(state, f),
                FileOrFolder::Folder(f) => folder_object(&self.namespace, f),
            })
            .collect();
        Ok(json!({
            "currentPage": self.page,
            "pageSize": self.size,
            "totalCount": total,
            "totalPage": total.div_ceil(self.size),
            "result": result,
        }))
    }
}

enum FileOrFolder {
    File(FileRecord),
    Folder(FolderRecord),
}

pub fn file_object(state: &AppState, f: &FileRecord) -> Value {
    let meta: Value = serde_json::from_str(&f.meta).unwrap_or_else(|_| json!({}));
    json!({
        "namespace": f.namespace,
        "dir": f.dir,
        "name": f.name,
        "path": paths::join(&f.dir, &f.name),
        "url": paths::file_url(&state.base_url, &f.namespace, &f.dir, &f.name),
        "size": f.size,
        "md5": f.md5,
        "eTag": f.md5.to_ascii_uppercase(),
        "mimeType": f.mime,
        "isImage": f.mime.starts_with("image/"),
        "createTime": f.create_time,
        "modifyTime": f.modify_time,
        "meta": meta,
    })
}

fn folder_object(ns: &str, f: &FolderRecord) -> Value {
    json!({
        "namespace": ns,
        "dir": f.dir,
        "name": f.name,
        "path": paths::join(&f.dir, &f.name),
        "createTime": f.create_time,
        "modifyTime": f.modify_time,
    })
}
