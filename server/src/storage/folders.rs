//! Folders. [server choice] A folder exists when it was created explicitly
//! (create-folder, which also creates its parents) or when any file lives
//! in it or below it; the root `/` always exists. Implicit folders vanish
//! with their last file, like prefixes in an object store.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, TransactionBehavior};

use super::Store;
use crate::http::error::{ApiError, ApiResult};
use crate::paths::below_range;

#[derive(Debug, Clone)]
pub struct FolderRecord {
    /// The parent folder.
    pub dir: String,
    pub name: String,
    pub create_time: i64,
    pub modify_time: i64,
}

fn exists_in(conn: &Connection, ns: &str, path: &str) -> rusqlite::Result<bool> {
    if path == "/" {
        return Ok(true);
    }
    let (lo, hi) = below_range(path);
    conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM folders WHERE namespace=?1 AND (path=?2 OR (path>=?3 AND path<?4)))
             OR EXISTS(SELECT 1 FROM files WHERE namespace=?1 AND (dir=?2 OR (dir>=?3 AND dir<?4)))",
        params![ns, path, lo, hi],
        |r| r.get(0),
    )
}

impl Store {
    pub fn folder_exists(&self, ns: &str, path: &str) -> ApiResult<bool> {
        Ok(exists_in(&self.conn(), ns, path)?)
    }

    /// Creates `path` and its missing parents; an existing folder is a 409.
    pub fn create_folder(&self, ns: &str, path: &str, now_ms: i64) -> ApiResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if exists_in(&tx, ns, path)? {
            return Err(ApiError::name_duplicated(format!(
                "folder {path} already exists in namespace '{ns}'"
            )));
        }
        let mut prefix = String::new();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            prefix.push('/');
            prefix.push_str(seg);
            tx.execute(
                "INSERT OR IGNORE INTO folders(namespace, path, create_time, modify_time)
                 VALUES(?1, ?2, ?3, ?3)",
                params![ns, prefix, now_ms],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes an empty, explicitly created folder.
    pub fn delete_folder(&self, ns: &str, path: &str) -> ApiResult<()> {
        if path == "/" {
            return Err(ApiError::invalid_argument(
                "the root folder cannot be deleted",
            ));
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !exists_in(&tx, ns, path)? {
            return Err(ApiError::dir_not_exist(format!(
                "folder {path} does not exist in namespace '{ns}'"
            )));
        }
        let (lo, hi) = below_range(path);
        let busy: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM folders WHERE namespace=?1 AND path>=?3 AND path<?4)
                 OR EXISTS(SELECT 1 FROM files WHERE namespace=?1 AND (dir=?2 OR (dir>=?3 AND dir<?4)))",
            params![ns, path, lo, hi],
            |r| r.get(0),
        )?;
        if busy {
            return Err(ApiError::dir_not_empty(format!(
                "folder {path} in namespace '{ns}' still holds files or folders"
            )));
        }
        tx.execute(
            "DELETE FROM folders WHERE namespace=?1 AND path=?2",
            params![ns, path],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Direct subfolders of `dir` (explicit and implicit), sorted by name.
    pub fn list_folders(
        &self,
        ns: &str,
        dir: &str,
        offset: u64,
        limit: u64,
    ) -> ApiResult<(u64, Vec<FolderRecord>)> {
        let conn = self.conn();
        let (lo, hi) = below_range(dir);
        // child name → (earliest create, latest modify)
        let mut children: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut add = |path: &str, created: i64, modified: i64| {
            let child = path[lo.len()..].split('/').next().unwrap_or("");
            if child.is_empty() {
                return;
            }
            let e = children
                .entry(child.to_string())
                .or_insert((created, modified));
            e.0 = e.0.min(created);
            e.1 = e.1.max(modified);
        };
        let mut stmt = conn.prepare(
            "SELECT path, create_time, modify_time FROM folders
             WHERE namespace=?1 AND path>=?2 AND path<?3",
        )?;
        let mut rows = stmt.query(params![ns, lo, hi])?;
        while let Some(r) = rows.next()? {
            add(&r.get::<_, String>(0)?, r.get(1)?, r.get(2)?);
        }
        let mut stmt = conn.prepare(
            "SELECT dir, MIN(create_time), MAX(modify_time) FROM files
             WHERE namespace=?1 AND dir>=?2 AND dir<?3 GROUP BY dir",
        )?;
        let mut rows = stmt.query(params![ns, lo, hi])?;
        while let Some(r) = rows.next()? {
            add(&r.get::<_, String>(0)?, r.get(1)?, r.get(2)?);
        }
        let total = children.len() as u64;
        let page = children
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|(name, (create_time, modify_time))| FolderRecord {
                dir: dir.to_string(),
                name,
                create_time,
                modify_time,
            })
            .collect();
        Ok((total, page))
    }
}
