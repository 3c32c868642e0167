//! Per-upload locks, staging claims and the incremental whole-file MD5.
//!
//! The MD5 of the contiguous prefix of stored parts (1, 2, …) is extended in
//! the background as parts arrive, so blockComplete does not read the data
//! again.
//! The state lives in memory; after a restart (or if parts were replaced in
//! a way the prefix cannot follow) blockComplete hashes while it copies.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use md5::Md5;

use crate::blob::hash_range;
use crate::state::AppState;

/// MD5 over parts 1..=covered.len(); `covered[i]` is the
/// [`crate::store::PartRecord::key`] of part i+1.
#[derive(Default)]
pub struct PrefixHash {
    pub hasher: Md5,
    pub covered: Vec<String>,
}

/// What is being written into an upload's staging object right now.
#[derive(Default)]
struct Claims {
    writing: HashSet<u32>,
    completing: bool,
}

/// The in-memory side of a live upload.
#[derive(Default)]
pub struct UploadEntry {
    /// Part commits, prefix hashing, complete, cancel and expiry of the
    /// upload take it, so an object is never removed while another request
    /// of that upload still reads it.
    pub prefix: tokio::sync::Mutex<PrefixHash>,
    /// Held only for a moment (never across I/O), so writers of parts do
    /// not wait for prefix hashing.
    claims: Mutex<Claims>,
}

/// Part `n`'s range of the staging object is being written; no other
/// request may write it, and blockComplete may not adopt the object.
pub struct Claim {
    entry: Arc<UploadEntry>,
    n: u32,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.entry.claims().writing.remove(&self.n);
    }
}

/// blockComplete is running: no new range writes start meanwhile.
pub struct Completing {
    entry: Arc<UploadEntry>,
    /// No range write was in flight when complete started, so the staging
    /// object can be adopted.
    pub quiet: bool,
}

impl Drop for Completing {
    fn drop(&mut self) {
        self.entry.claims().completing = false;
    }
}

impl UploadEntry {
    fn claims(&self) -> std::sync::MutexGuard<'_, Claims> {
        self.claims.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims part `n`'s range, unless another request writes it or a
    /// complete is running (the caller then writes a file of its own).
    pub fn claim(self: &Arc<Self>, n: u32) -> Option<Claim> {
        let mut c = self.claims();
        if c.completing || !c.writing.insert(n) {
            return None;
        }
        Some(Claim {
            entry: self.clone(),
            n,
        })
    }

    pub fn begin_complete(self: &Arc<Self>) -> Completing {
        let mut c = self.claims();
        c.completing = true;
        Completing {
            entry: self.clone(),
            quiet: c.writing.is_empty(),
        }
    }
}

/// One [`UploadEntry`] per live upload. An entry is forgotten only once its
/// upload is gone from the database, so a claim can never hide in a
/// forgotten entry while a fresh one says the upload is quiet.
#[derive(Default)]
pub struct UploadLocks {
    map: Mutex<HashMap<String, Arc<UploadEntry>>>,
}

impl UploadLocks {
    pub fn get(&self, id: &str) -> Arc<UploadEntry> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    pub fn forget(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

/// Extends the prefix hash of upload `id` over newly contiguous parts.
pub async fn advance(state: Arc<AppState>, id: String) {
    let lock = state.uploads.get(&id);
    let mut prefix = lock.prefix.lock().await;
    let pid = id.clone();
    let Ok(parts) = state.blocking(move |s| s.parts(&pid)).await else {
        return;
    };
    if parts.is_empty() {
        // Completed or cancelled meanwhile.
        drop(prefix);
        state.uploads.forget(&id);
        return;
    }
    let still_valid = prefix.covered.iter().enumerate().all(|(i, key)| {
        parts
            .get(i)
            .is_some_and(|p| p.part_number as usize == i + 1 && &p.key() == key)
    });
    if !still_valid {
        *prefix = PrefixHash::default();
    }
    let next: Vec<_> = parts
        .into_iter()
        .enumerate()
        .skip(prefix.covered.len())
        .take_while(|(i, p)| p.part_number as usize == i + 1)
        .map(|(_, p)| p)
        .collect();
    if next.is_empty() {
        return;
    }
    let mut hasher = std::mem::take(&mut prefix.hasher);
    let keys: Vec<String> = next.iter().map(|p| p.key()).collect();
    let hashed = state
        .blocking(move |s| {
            for p in &next {
                hash_range(&mut hasher, &s.source(p))?;
            }
            Ok(hasher)
        })
        .await;
    match hashed {
        Ok(h) => {
            prefix.hasher = h;
            prefix.covered.extend(keys);
        }
        Err(_) => *prefix = PrefixHash::default(),
    }
}
