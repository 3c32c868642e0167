//! Files and folders: exists, get, delete, rename, create, listings, and the
//! walk over every page of a listing (docs/protocol.md §6).

use super::request::{
    check_name, check_namespace, check_page, normalize_dir, ManageRequest, MAX_PAGE_SIZE,
};
use crate::auth::{dir_resource_id, file_resource_id};
use crate::client::Client;
use crate::error::{Error, Result};
use reqwest::Method;
use serde_json::{Map, Value};

/// What a listing lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Files,
    Folders,
}

impl Listing {
    fn path(self) -> &'static str {
        match self {
            Listing::Files => "/3.0/files",
            Listing::Folders => "/3.0/folders",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Listing::Files => "list files",
            Listing::Folders => "list folders",
        }
    }
}

/// The checked resource id of a file.
pub fn file_rid(ns: &str, dir: &str, name: &str) -> Result<String> {
    check_namespace(ns)?;
    check_name("name", name)?;
    Ok(file_resource_id(ns, &normalize_dir(dir), name))
}

/// The checked resource id of a folder.
pub fn dir_rid(ns: &str, dir: &str) -> Result<String> {
    check_namespace(ns)?;
    Ok(dir_resource_id(ns, &normalize_dir(dir)))
}

impl Client {
    /// `{"exist":true|false}`; a missing file is not an error here.
    pub async fn file_exists(&self, ns: &str, dir: &str, name: &str) -> Result<Value> {
        let rid = file_rid(ns, dir, name)?;
        self.manage(ManageRequest::new(
            Method::GET,
            format!("/3.0/files/{rid}/exist"),
            "file exists",
        ))
        .await
    }

    /// The file object (`namespace`, `dir`, `name`, `path`, `url`, `size`,
    /// `md5`, `e_tag`, `mime_type`, `is_image`, `create_time`,
    /// `modify_time`, `meta`); 404 `FileNotExist` when there is none.
    pub async fn file_get(&self, ns: &str, dir: &str, name: &str) -> Result<Value> {
        let rid = file_rid(ns, dir, name)?;
        self.manage(ManageRequest::new(
            Method::GET,
            format!("/3.0/files/{rid}"),
            "get file",
        ))
        .await
    }

    pub async fn file_delete(&self, ns: &str, dir: &str, name: &str) -> Result<Value> {
        let rid = file_rid(ns, dir, name)?;
        self.manage(ManageRequest::new(
            Method::DELETE,
            format!("/3.0/files/{rid}"),
            "delete file",
        ))
        .await
    }

    /// Renames or moves a file inside its namespace; `new_dir` `None` keeps
    /// the folder. Answers the file object at its new place.
    pub async fn file_rename(
        &self,
        ns: &str,
        dir: &str,
        name: &str,
        new_dir: Option<&str>,
        new_name: &str,
    ) -> Result<Value> {
        let rid = file_rid(ns, dir, name)?;
        check_name("new_name", new_name)?;
        let new_rid = file_resource_id(ns, &normalize_dir(new_dir.unwrap_or(dir)), new_name);
        self.manage(ManageRequest::new(
            Method::POST,
            format!("/3.0/files/{rid}/rename/{new_rid}"),
            "rename file",
        ))
        .await
    }

    /// Creates a folder and any missing parents; 409 `NameDuplicated` when
    /// it exists already.
    pub async fn dir_create(&self, ns: &str, dir: &str) -> Result<Value> {
        let rid = dir_rid(ns, dir)?;
        self.manage(ManageRequest::new(
            Method::POST,
            format!("/3.0/folders/{rid}"),
            "create folder",
        ))
        .await
    }

    pub async fn dir_exists(&self, ns: &str, dir: &str) -> Result<Value> {
        let rid = dir_rid(ns, dir)?;
        self.manage(ManageRequest::new(
            Method::GET,
            format!("/3.0/folders/{rid}/exist"),
            "folder exists",
        ))
        .await
    }

    /// Deletes an empty folder; 409 `DirNotEmpty` otherwise.
    pub async fn dir_delete(&self, ns: &str, dir: &str) -> Result<Value> {
        let rid = dir_rid(ns, dir)?;
        self.manage(ManageRequest::new(
            Method::DELETE,
            format!("/3.0/folders/{rid}"),
            "delete folder",
        ))
        .await
    }

    /// One page of a listing: `current_page`, `page_size`, `total_count`,
    /// `total_page` and `result` (items sorted by name). `page` counts from
    /// 1; `page_size` is 1…100.
    pub async fn list(
        &self,
        kind: Listing,
        ns: &str,
        dir: &str,
        page: i64,
        page_size: i64,
    ) -> Result<Value> {
        check_namespace(ns)?;
        check_page(page, page_size)?;
        let request = ManageRequest::new(Method::GET, kind.path().to_string(), kind.what())
            .query("namespace", ns)
            .query("dir", normalize_dir(dir))
            .query("currentPage", page.to_string())
            .query("pageSize", page_size.to_string());
        self.manage(request).await
    }

    pub async fn file_list(&self, ns: &str, dir: &str, page: i64, page_size: i64) -> Result<Value> {
        self.list(Listing::Files, ns, dir, page, page_size).await
    }

    pub async fn dir_list(&self, ns: &str, dir: &str, page: i64, page_size: i64) -> Result<Value> {
        self.list(Listing::Folders, ns, dir, page, page_size).await
    }

    /// Walks the pages of a listing (`page_size` items a request) and answers
    /// at most `max_items` items in one document:
    /// `{"code":200,"total_count":N,"result":[…],"truncated":bool,
    /// "pages_read":k,"message","request_id"}`. `total_count` is the count
    /// the server last reported; `truncated` is true when the walk stopped
    /// at `max_items` while the server held more.
    pub async fn list_all(
        &self,
        kind: Listing,
        ns: &str,
        dir: &str,
        max_items: i64,
        page_size: i64,
    ) -> Result<Value> {
        if max_items < 1 {
            return Err(Error::invalid(format!(
                "`max_items` must be 1 or more, not {max_items}"
            )));
        }
        check_page(1, page_size)?;
        let max = usize::try_from(max_items).unwrap_or(usize::MAX);
        let mut items: Vec<Value> = Vec::new();
        let mut page = 1;
        // (truncated, total_count, request_id) of the last page read.
        let (truncated, total_count, request_id) = loop {
            let mut answer = self.list(kind, ns, dir, page, page_size).await?;
            let got = match answer.get_mut("result").map(Value::take) {
                Some(Value::Array(got)) => got,
                _ => {
                    return Err(Error::InvalidResponse(format!(
                        "{}: page {page} has no `result` array",
                        kind.what()
                    )))
                }
            };
            let total_count = answer["total_count"].as_u64();
            // The page count, else derived from the item count, else
            // unknown: then only a short page ends the walk.
            let total_page = answer["total_page"].as_i64().unwrap_or_else(|| {
                total_count.map_or(i64::MAX, |n| (n as i64 + page_size - 1) / page_size)
            });
            let total_count = total_count.unwrap_or(0);
            let request_id = answer["request_id"].as_str().unwrap_or("").to_string();
            let full_page = got.len() as i64 >= page_size;
            items.extend(got);
            if items.len() > max {
                items.truncate(max);
                break (true, total_count, request_id);
            }
            // A short page or the last page ends the walk, whichever the
            // server says first, so a listing that shrinks while it is
            // walked cannot loop.
            if !full_page || page >= total_page {
                break (false, total_count, request_id);
            }
            if items.len() == max {
                break (true, total_count, request_id);
            }
            page += 1;
        };
        let mut out = Map::new();
        out.insert("total_count".into(), total_count.into());
        out.insert("truncated".into(), truncated.into());
        out.insert("pages_read".into(), page.into());
        out.insert("request_id".into(), request_id.into());
        out.insert("result".into(), Value::Array(items));
        Ok(crate::result::local_success(out))
    }

    /// Every file directly in `dir`, up to `max_items`, 100 per request.
    pub async fn file_list_all(&self, ns: &str, dir: &str, max_items: i64) -> Result<Value> {
        self.list_all(Listing::Files, ns, dir, max_items, MAX_PAGE_SIZE)
            .await
    }

    /// Every folder directly in `dir`, up to `max_items`, 100 per request.
    pub async fn dir_list_all(&self, ns: &str, dir: &str, max_items: i64) -> Result<Value> {
        self.list_all(Listing::Folders, ns, dir, max_items, MAX_PAGE_SIZE)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_use_the_normalised_dir() {
        assert_eq!(
            file_rid("demo", "test/", "test.jpg").unwrap(),
            "WyJkZW1vIiwiL3Rlc3QiLCJ0ZXN0LmpwZyJd"
        );
        assert_eq!(dir_rid("demo", "").unwrap(), dir_resource_id("demo", "/"));
        assert_eq!(
            file_rid("", "/", "x").unwrap_err().name(),
            "InvalidArgument"
        );
        assert!(file_rid("ns", "/", "")
            .unwrap_err()
            .message()
            .contains("`name`"));
    }
}
