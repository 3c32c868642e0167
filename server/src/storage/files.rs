//! File metadata rows.

use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};

use super::Store;
use crate::http::error::{ApiError, ApiResult};

/// One stored file. `blob` names its content object; `meta` is a JSON
/// object text of the user's `meta-*` fields.
#[derive(Debug, Clone)]
pub struct FileRecord {
    pub namespace: String,
    pub dir: String,
    pub name: String,
    pub blob: String,
    pub size: u64,
    /// Lower-case hex MD5 of the content.
    pub md5: String,
    pub mime: String,
    pub create_time: i64,
    pub modify_time: i64,
    pub meta: String,
}

const COLUMNS: &str = "namespace, dir, name, blob, size, md5, mime, create_time, modify_time, meta";

fn from_row(r: &Row<'_>) -> rusqlite::Result<FileRecord> {
    Ok(FileRecord {
        namespace: r.get(0)?,
        dir: r.get(1)?,
        name: r.get(2)?,
        blob: r.get(3)?,
        size: r.get::<_, i64>(4)? as u64,
        md5: r.get(5)?,
        mime: r.get(6)?,
        create_time: r.get(7)?,
        modify_time: r.get(8)?,
        meta: r.get(9)?,
    })
}

fn insert(conn: &rusqlite::Connection, f: &FileRecord) -> rusqlite::Result<()> {
    conn.execute(
        &format!("INSERT OR REPLACE INTO files({COLUMNS}) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"),
        params![
            f.namespace,
            f.dir,
            f.name,
            f.blob,
            f.size as i64,
            f.md5,
            f.mime,
            f.create_time,
            f.modify_time,
            f.meta
        ],
    )?;
    Ok(())
}

fn existing(
    conn: &rusqlite::Connection,
    ns: &str,
    dir: &str,
    name: &str,
) -> rusqlite::Result<Option<(String, i64)>> {
    conn.query_row(
        "SELECT blob, create_time FROM files WHERE namespace=?1 AND dir=?2 AND name=?3",
        params![ns, dir, name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Inserts or replaces a file inside an open transaction; `insert_only`
/// refuses an existing name. Returns the replaced object, if any.
pub(super) fn commit_in(
    conn: &rusqlite::Connection,
    mut rec: FileRecord,
    insert_only: bool,
) -> ApiResult<Option<String>> {
    let old = existing(conn, &rec.namespace, &rec.dir, &rec.name)?;
    if let Some((_, created)) = &old {
        if insert_only {
            return Err(ApiError::file_exists(format!(
                "{} already exists in namespace '{}' and the policy has insertOnly",
                crate::paths::join(&rec.dir, &rec.name),
                rec.namespace
            )));
        }
        // An overwrite keeps the original creation time.
        rec.create_time = *created;
    }
    insert(conn, &rec)?;
    Ok(old.map(|(blob, _)| blob))
}

impl Store {
    pub fn get_file(&self, ns: &str, dir: &str, name: &str) -> ApiResult<Option<FileRecord>> {
        let conn = self.conn();
        let f = conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM files WHERE namespace=?1 AND dir=?2 AND name=?3"),
                params![ns, dir, name],
                from_row,
            )
            .optional()?;
        Ok(f)
    }

    /// Commits a file whose object is already in place. The existence check
    /// and the write share one IMMEDIATE transaction under the connection
    /// lock, so concurrent `insertOnly` uploads of one name cannot both win.
    pub fn commit_file(&self, rec: FileRecord, insert_only: bool) -> ApiResult<Option<String>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old = commit_in(&tx, rec, insert_only)?;
        tx.commit()?;
        Ok(old)
    }

    /// Deletes a file row; returns its object for removal.
    /// Deletes the row and answers the object to remove once this has
    /// returned: the deletion is committed first, so a failed commit (a
    /// full disk) leaves the file whole. (`DELETE … RETURNING` through
    /// `query_row` would lose a failed autocommit: it happens when the
    /// statement is reset, after the row was read.)
    pub fn delete_file(&self, ns: &str, dir: &str, name: &str) -> ApiResult<String> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let blob: Option<String> = tx
            .query_row(
                "SELECT blob FROM files WHERE namespace=?1 AND dir=?2 AND name=?3",
                params![ns, dir, name],
                |r| r.get(0),
            )
            .optional()?;
        let blob = blob.ok_or_else(|| not_found(ns, dir, name))?;
        tx.execute(
            "DELETE FROM files WHERE namespace=?1 AND dir=?2 AND name=?3",
            params![ns, dir, name],
        )?;
        tx.commit()?;
        Ok(blob)
    }

    /// Renames/moves a file within its namespace. An existing target is
    /// refused ([server choice]: a rename never silently destroys a file).
    pub fn rename_file(
        &self,
        ns: &str,
        from: (&str, &str),
        to: (&str, &str),
        now_ms: i64,
    ) -> ApiResult<FileRecord> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut rec = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM files WHERE namespace=?1 AND dir=?2 AND name=?3"),
                params![ns, from.0, from.1],
                from_row,
            )
            .optional()?
            .ok_or_else(|| not_found(ns, from.0, from.1))?;
        if from == to {
            return Ok(rec);
        }
        if existing(&tx, ns, to.0, to.1)?.is_some() {
            return Err(ApiError::file_exists(format!(
                "rename target {} already exists",
                crate::paths::join(to.0, to.1)
            )));
        }
        tx.execute(
            "DELETE FROM files WHERE namespace=?1 AND dir=?2 AND name=?3",
            params![ns, from.0, from.1],
        )?;
        rec.dir = to.0.to_string();
        rec.name = to.1.to_string();
        rec.modify_time = now_ms;
        insert(&tx, &rec)?;
        tx.commit()?;
        Ok(rec)
    }

    /// Files directly in `dir`, sorted by name: (total count, page).
    pub fn list_files(
        &self,
        ns: &str,
        dir: &str,
        offset: u64,
        limit: u64,
    ) -> ApiResult<(u64, Vec<FileRecord>)> {
        let conn = self.conn();
        let total: i64 = conn.query_row(
            "SELECT COUNT(*) FROM files WHERE namespace=?1 AND dir=?2",
            params![ns, dir],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM files WHERE namespace=?1 AND dir=?2 ORDER BY name LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = stmt
            .query_map(params![ns, dir, limit as i64, offset as i64], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((total as u64, rows))
    }
}

fn not_found(ns: &str, dir: &str, name: &str) -> ApiError {
    ApiError::file_not_exist(format!(
        "file {} does not exist in namespace '{ns}'",
        crate::paths::join(dir, name)
    ))
}
