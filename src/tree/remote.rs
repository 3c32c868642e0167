//! One remote folder's files as a map, for `skip` decisions: one listing
//! per folder (pages of 100 in parallel after the first), not one request
//! per file; fetched once per call and shared by every file of the folder.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::manage::normalize_dir;
use crate::remote_file::RemoteFile;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OnceCell, Semaphore};

/// The most files one remote folder may hold for a `skip` comparison; a
/// larger folder is an error for the files in it, not unbounded memory.
pub const MAX_LISTED: usize = 200_000;
const PAGE: i64 = 100;

/// Name → file, for the files directly in one folder.
pub type Folder = HashMap<String, RemoteFile>;

fn parse_page(v: &Value, into: &mut Folder, dir: &str) -> Result<()> {
    let items = v["result"].as_array().ok_or_else(|| {
        Error::InvalidResponse(format!("listing {dir}: the answer has no `result` array"))
    })?;
    // An entry without a usable name, size, MD5 or URL cannot be compared:
    // it counts as absent, so the file is sent again.
    for item in items {
        let Some(name) = item["name"].as_str() else {
            continue;
        };
        if let Ok(file) = RemoteFile::from_object(item, name) {
            into.insert(name.to_string(), file);
        }
    }
    if into.len() > MAX_LISTED {
        return Err(Error::invalid(format!(
            "remote folder {dir} holds more than {MAX_LISTED} files, too many to compare for \
             `skip`; use \"skip\":\"none\" or a smaller folder"
        )));
    }
    Ok(())
}

/// Lists every file directly in `dir`. A folder that does not exist is
/// empty. `requests` bounds the requests in flight (the call's permits).
pub async fn list_folder(
    client: &Client,
    ns: &str,
    dir: &str,
    requests: &Semaphore,
) -> Result<Folder> {
    let page = |n: i64| async move {
        let _permit = requests.acquire().await.expect("never closed");
        client.file_list(ns, dir, n, PAGE).await
    };
    let first = match page(1).await {
        Ok(v) => v,
        Err(Error::Server { code, .. }) if code == "DirNotExist" => return Ok(Folder::new()),
        Err(e) => return Err(e),
    };
    let mut folder = Folder::new();
    parse_page(&first, &mut folder, dir)?;
    let total = first["total_count"].as_u64().unwrap_or(0);
    if total as usize > MAX_LISTED {
        return Err(Error::invalid(format!(
            "remote folder {dir} holds {total} files, more than the {MAX_LISTED} that can be \
             compared for `skip`; use \"skip\":\"none\" or a smaller folder"
        )));
    }
    let pages = (total as i64 + PAGE - 1) / PAGE;
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    let mut rest = stream::iter(2..=pages).map(page).buffer_unordered(16);
    while let Some(v) = rest.try_next().await? {
        parse_page(&v, &mut folder, dir)?;
    }
    Ok(folder)
}

/// One folder's listing, fetched once by whichever file asks first.
type Slot = Arc<OnceCell<Result<Arc<Folder>>>>;

/// The listings of one call, fetched on first use, one fetch per folder
/// however many files ask at once.
#[derive(Default)]
pub struct Listings {
    folders: Mutex<HashMap<String, Slot>>,
}

impl Listings {
    pub async fn get(
        &self,
        client: &Client,
        ns: &str,
        dir: &str,
        requests: &Semaphore,
    ) -> Result<Arc<Folder>> {
        let dir = normalize_dir(dir);
        let cell = self
            .folders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(dir.clone())
            .or_default()
            .clone();
        cell.get_or_init(|| async {
            list_folder(client, ns, &dir, requests)
                .await
                .map(Arc::new)
                .map_err(|e| crate::retry::annotate(e, &format!("listing remote folder {dir}")))
        })
        .await
        .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_page_keeps_the_files_it_can_compare() {
        let md5 = "900150983CD24FB0D6963F7D28E17F72";
        let page = json!({"result": [
            {"name": "a.txt", "url": "http://h/files/ns/a.txt", "size": "3", "md5": md5},
            {"name": "no-md5", "url": "http://h/files/ns/no-md5", "size": 3},
            {"url": "http://h/files/ns/nameless", "size": 3, "md5": md5},
        ]});
        let mut folder = Folder::new();
        parse_page(&page, &mut folder, "/d").unwrap();
        assert_eq!(folder.len(), 1, "{folder:?}");
        let a = &folder["a.txt"];
        assert_eq!(
            (a.size, a.md5.as_str()),
            (3, "900150983cd24fb0d6963f7d28e17f72")
        );
        let e = parse_page(&json!({}), &mut folder, "/d").unwrap_err();
        assert!(e.message().contains("no `result` array"), "{e}");
    }
}
