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

/// Listings a call keeps at once. The folder walk gives a folder's files
/// one after the other (files before subfolders), so a folder's listing is
/// wanted while its files are in progress and seldom after: the oldest
/// listings are dropped past this many, and a folder asked for again is
/// listed again. What the call holds is then bounded by this number of
/// folders, not by the size of the tree.
const KEPT_LISTINGS: usize = 32;
/// And by this many stored files across the kept listings (~200 bytes
/// each, ~40 MiB), so that 32 folders of the largest size (`MAX_LISTED`)
/// are never held at once. The newest listing is always kept.
const KEPT_ENTRIES: usize = 200_000;

/// The listings of one call, fetched on first use, one fetch per folder
/// however many files ask at once; at most `KEPT_LISTINGS` kept.
#[derive(Default)]
pub struct Listings {
    folders: Mutex<Kept>,
}

struct Kept {
    by_dir: HashMap<String, Slot>,
    /// Folders in the order they were first asked for, oldest first.
    order: std::collections::VecDeque<String>,
    /// `KEPT_ENTRIES` (smaller in tests).
    entry_budget: usize,
}

impl Default for Kept {
    fn default() -> Kept {
        Kept {
            by_dir: HashMap::new(),
            order: Default::default(),
            entry_budget: KEPT_ENTRIES,
        }
    }
}

impl Kept {
    /// Stored files in the listings fetched so far.
    fn entries(&self) -> usize {
        self.by_dir
            .values()
            .filter_map(|s| match s.get() {
                Some(Ok(folder)) => Some(folder.len()),
                _ => None,
            })
            .sum()
    }

    fn slot(&mut self, dir: &str) -> Slot {
        if let Some(s) = self.by_dir.get(dir) {
            return s.clone();
        }
        // Files still waiting on a dropped slot hold their own handle.
        while self.order.len() >= KEPT_LISTINGS
            || (!self.order.is_empty() && self.entries() > self.entry_budget)
        {
            if let Some(old) = self.order.pop_front() {
                self.by_dir.remove(&old);
            }
        }
        let s = Slot::default();
        self.by_dir.insert(dir.to_string(), s.clone());
        self.order.push_back(dir.to_string());
        s
    }
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
            .slot(&dir);
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
    fn old_listings_are_dropped_past_the_limit() {
        let mut k = Kept::default();
        let first = k.slot("/d0");
        assert!(Arc::ptr_eq(&first, &k.slot("/d0")));
        for i in 1..=KEPT_LISTINGS {
            k.slot(&format!("/d{i}"));
        }
        assert_eq!(k.by_dir.len(), KEPT_LISTINGS);
        assert!(!k.by_dir.contains_key("/d0"));
        assert!(!Arc::ptr_eq(&first, &k.slot("/d0")));
    }

    #[test]
    fn large_listings_are_dropped_past_the_entry_budget() {
        let mut k = Kept {
            entry_budget: 100,
            ..Kept::default()
        };
        let big = |n: usize, tag: &str| {
            let md5 = "900150983CD24FB0D6963F7D28E17F72";
            let items: Vec<Value> = (0..n)
                .map(|i| json!({"name": format!("{tag}{i}"), "url": "http://h/f", "size": 1, "md5": md5}))
                .collect();
            let mut folder = Folder::new();
            parse_page(&json!({ "result": items }), &mut folder, "/d").unwrap();
            Arc::new(folder)
        };
        let a = k.slot("/a");
        let _ = a.set(Ok(big(51, "a")));
        let b = k.slot("/b");
        let _ = b.set(Ok(big(51, "b")));
        // Together over the budget: asking for a third drops the oldest
        // until it fits, and the newest is kept.
        k.slot("/c");
        assert!(!k.by_dir.contains_key("/a"));
        assert!(k.by_dir.contains_key("/b") && k.by_dir.contains_key("/c"));
    }

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
