//! A remote tree listed as a stream, a page at a time, for the folder
//! download: files come out as their pages arrive, so the download starts
//! at once and holds only what is listed but not yet started, never the
//! whole tree.
//!
//! - Pages of one folder are read one after the other (the next page is
//!   asked for once the last one is in), several folders at once
//!   (`PAGES_IN_FLIGHT`), each page under one of the call's request
//!   permits.
//! - Folders wait on a stack (depth first), so what waits is about the
//!   folders beside the path being listed, ~150 bytes each, not the tree.
//! - The caller asks for more only while it has room (`Lister::next`),
//!   which bounds the files listed but not started.
//! - A listing that changes while it is read can shift items between
//!   pages: a name the previous page of the same folder already gave is
//!   dropped, and a short or last page ends the folder, so it cannot loop.
//! - A folder whose listing fails after the client's retries is reported
//!   as failed (`rel/`) and the rest goes on; only the root's first page
//!   failing fails the call, since nothing could be listed at all.

use super::plan::safe_segment;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::manage::{normalize_dir, Listing};
use crate::remote_file::RemoteFile;
use futures_util::future::LocalBoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;
use tokio::sync::Semaphore;

/// Items per listing page (the service's largest).
const PAGE: i64 = 100;
/// Listing pages asked for at once: enough to keep ahead of the
/// downloads, few enough to leave the call's permits to them.
const PAGES_IN_FLIGHT: usize = 4;

/// One file found under the remote folder.
#[derive(Debug)]
pub struct Entry {
    /// Path below the remote folder, `/`-separated (`a/b/c.jpg`).
    pub rel: String,
    /// The remote folder holding it (normalised, as listed).
    pub dir: String,
    /// The file's metadata, or why it cannot be downloaded.
    pub remote: Result<RemoteFile>,
}

/// What one page gave.
#[derive(Debug)]
pub enum Found {
    File(Entry),
    /// A folder below the root (`a`, `a/b`), created locally too.
    Folder(String),
    /// A folder not downloaded (`a/b/`): its name is unsafe here, or its
    /// listing failed.
    Failed(String, Error),
}

/// Where one folder's listing of one kind stands.
struct Cursor {
    rel: String,
    dir: String,
    kind: Listing,
    page: i64,
    /// The previous page's names, to drop what a shifting listing repeats.
    last_names: Vec<String>,
}

type PageAnswer = (Cursor, Result<(Vec<Value>, i64)>);

pub struct Lister<'a> {
    client: &'a Client,
    requests: &'a Semaphore,
    ns: &'a str,
    waiting: Vec<Cursor>,
    in_flight: FuturesUnordered<LocalBoxFuture<'a, PageAnswer>>,
    max_items: u64,
    listed: u64,
    root: String,
}

impl<'a> Lister<'a> {
    /// Starts at `root` (normalised); at most `max_items` files and
    /// folders in all.
    pub fn new(
        client: &'a Client,
        requests: &'a Semaphore,
        ns: &'a str,
        root: &str,
        max_items: u64,
    ) -> Lister<'a> {
        let root = normalize_dir(root);
        let mut l = Lister {
            client,
            requests,
            ns,
            waiting: Vec::new(),
            in_flight: FuturesUnordered::new(),
            max_items,
            listed: 0,
            root: root.clone(),
        };
        l.push_folder(String::new(), root);
        l
    }

    /// Nothing left to list.
    pub fn is_done(&self) -> bool {
        self.waiting.is_empty() && self.in_flight.is_empty()
    }

    fn push_folder(&mut self, rel: String, dir: String) {
        // Folders first on the stack, so the files of a folder come before
        // its subfolders are opened.
        for kind in [Listing::Folders, Listing::Files] {
            self.waiting.push(Cursor {
                rel: rel.clone(),
                dir: dir.clone(),
                kind,
                page: 1,
                last_names: Vec::new(),
            });
        }
    }

    fn start_pages(&mut self) {
        while self.in_flight.len() < PAGES_IN_FLIGHT {
            let Some(cursor) = self.waiting.pop() else {
                return;
            };
            let (client, requests, ns) = (self.client, self.requests, self.ns);
            self.in_flight.push(Box::pin(async move {
                let r = page(client, requests, ns, &cursor).await;
                (cursor, r)
            }));
        }
    }

    /// The next page's findings (`None` once everything is listed). An
    /// error is the call's: the root could not be listed, or the tree
    /// holds more than `max_items`.
    pub async fn next(&mut self) -> Option<Result<Vec<Found>>> {
        self.start_pages();
        let (mut cursor, answer) = self.in_flight.next().await?;
        let (items, last_page) = match answer {
            Ok(a) => a,
            Err(e) if cursor.rel.is_empty() && cursor.page == 1 => return Some(Err(e)),
            Err(e) => return Some(Ok(vec![Found::Failed(format!("{}/", cursor.rel), e)])),
        };
        self.listed += items.len() as u64;
        if self.listed > self.max_items {
            return Some(Err(Error::invalid(format!(
                "remote folder {} holds more than {} files and folders (option `max_files`); \
                 raise it or download a smaller folder",
                self.root, self.max_items
            ))));
        }
        let full = items.len() as i64 >= PAGE;
        let mut found = Vec::with_capacity(items.len());
        let mut names = Vec::with_capacity(items.len());
        for item in items {
            let name = item.get("name").and_then(Value::as_str).unwrap_or("");
            if cursor.last_names.iter().any(|n| n == name) {
                continue;
            }
            names.push(name.to_string());
            let rel = join_rel(&cursor.rel, name);
            match cursor.kind {
                Listing::Files => {
                    let remote = safe_segment(name).and_then(|_| {
                        RemoteFile::from_object(&item, &join_remote(&cursor.dir, name))
                    });
                    found.push(Found::File(Entry {
                        rel,
                        dir: cursor.dir.clone(),
                        remote,
                    }));
                }
                Listing::Folders => match safe_segment(name) {
                    Ok(_) => {
                        let dir = join_remote(&cursor.dir, name);
                        found.push(Found::Folder(rel.clone()));
                        self.push_folder(rel, dir);
                    }
                    Err(e) => found.push(Found::Failed(format!("{rel}/"), e)),
                },
            }
        }
        if full && cursor.page < last_page {
            cursor.page += 1;
            cursor.last_names = names;
            self.waiting.push(cursor);
        }
        Some(Ok(found))
    }
}

/// One page: its items and the last page's number.
async fn page(
    client: &Client,
    requests: &Semaphore,
    ns: &str,
    cursor: &Cursor,
) -> Result<(Vec<Value>, i64)> {
    let _permit = requests
        .acquire()
        .await
        .map_err(|_| Error::Cancelled("the download was cancelled".into()))?;
    let mut answer = client
        .list(cursor.kind, ns, &cursor.dir, cursor.page, PAGE)
        .await?;
    let items = match answer.get_mut("result").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => {
            return Err(Error::InvalidResponse(format!(
                "the listing of {} has no `result` array",
                cursor.dir
            )))
        }
    };
    let last = answer
        .get("total_page")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MAX);
    Ok((items, last))
}

fn join_rel(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

fn join_remote(dir: &str, rel: &str) -> String {
    normalize_dir(&format!("{dir}/{rel}"))
}
