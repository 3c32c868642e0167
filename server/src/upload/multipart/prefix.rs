//! The incremental whole-file MD5 of a multipart upload.
//!
//! The MD5 of the contiguous prefix of stored parts (1, 2, …) is extended in
//! the background as parts arrive, so blockComplete does not read the data
//! again. The state lives in memory ([`super::locks::PrefixHash`]); after a
//! restart (or if parts were replaced in a way the prefix cannot follow)
//! blockComplete hashes while it copies.

use std::sync::Arc;

use super::locks::PrefixHash;
use crate::state::AppState;
use crate::storage::blob::hash_range;

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
