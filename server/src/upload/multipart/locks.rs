//! Per-upload locks, staging claims and the state of the incremental
//! whole-file MD5 (extended by `prefix.rs`). All of it lives in memory.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use md5_simd::Md5;

/// MD5 over parts 1..=covered.len(); `covered[i]` is the
/// [`crate::storage::PartRecord::key`] of part i+1.
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
