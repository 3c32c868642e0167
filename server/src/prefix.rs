//! Per-upload locks and the incremental whole-file MD5.
//!
//! The MD5 of the contiguous prefix of stored parts (1, 2, …) is extended in
//! the background as parts arrive, so blockComplete normally only copies.
//! The state lives in memory; after a restart (or if parts were replaced in
//! a way the prefix cannot follow) blockComplete hashes while it copies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use md5::Md5;

use crate::blob::hash_file;
use crate::state::AppState;

/// MD5 over parts 1..=covered.len(); `covered[i]` is the object of part i+1.
#[derive(Default)]
pub struct PrefixHash {
    pub hasher: Md5,
    pub covered: Vec<String>,
}

/// One async lock per live upload. Part commits, prefix hashing, complete,
/// cancel and expiry of the same upload take it, so an object is never
/// removed while another request of that upload still reads it.
#[derive(Default)]
pub struct UploadLocks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<PrefixHash>>>>,
}

impl UploadLocks {
    pub fn get(&self, id: &str) -> Arc<tokio::sync::Mutex<PrefixHash>> {
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
    let mut prefix = lock.lock().await;
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
    let still_valid = prefix.covered.iter().enumerate().all(|(i, blob)| {
        parts
            .get(i)
            .is_some_and(|p| p.part_number as usize == i + 1 && &p.blob == blob)
    });
    if !still_valid {
        *prefix = PrefixHash::default();
    }
    let next: Vec<String> = parts
        .iter()
        .enumerate()
        .skip(prefix.covered.len())
        .take_while(|(i, p)| p.part_number as usize == i + 1)
        .map(|(_, p)| p.blob.clone())
        .collect();
    if next.is_empty() {
        return;
    }
    let mut hasher = std::mem::take(&mut prefix.hasher);
    let blobs = next.clone();
    let hashed = state
        .blocking(move |s| {
            for b in &blobs {
                hash_file(&mut hasher, &s.blob_path(b))?;
            }
            Ok(hasher)
        })
        .await;
    match hashed {
        Ok(h) => {
            prefix.hasher = h;
            prefix.covered.extend(next);
        }
        Err(_) => *prefix = PrefixHash::default(),
    }
}
