//! Multipart upload state: one `uploads` row per upload, one `parts` row per
//! stored part. Kept in SQLite so uploads survive a restart.

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::files::{commit_in, FileRecord};
use super::Store;
use crate::http::error::{ApiError, ApiResult};

/// An upload that is neither completed nor cancelled expires after 24 hours.
pub const UPLOAD_TTL_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone)]
pub struct UploadRecord {
    pub id: String,
    pub upload_id: String,
    pub access_key: String,
    pub namespace: String,
    /// Target dir and name as rendered at blockInit; variables that depend
    /// on the whole file are rendered at blockComplete.
    pub dir: String,
    pub name: String,
    /// JSON object texts of the `meta-*` and `var-*` fields.
    pub meta: String,
    pub vars: String,
    /// Name used for `${ext}` and MIME guessing when the target has none.
    pub orig_name: String,
    pub created: i64,
    /// The staging object that parts of size <= `stride` are written into,
    /// part N at offset (N-1)*stride. `None` for uploads started before
    /// staging existed (all their parts are objects of their own).
    pub staging: Option<String>,
    /// Size of part 1 as received at blockInit.
    pub stride: u64,
}

#[derive(Debug, Clone)]
pub struct PartRecord {
    pub part_number: u32,
    /// The part's own object, or the upload's staging object when `pos`
    /// is set.
    pub blob: String,
    pub size: u64,
    pub md5: String,
    /// Offset of the part's bytes inside the staging object.
    pub pos: Option<u64>,
}

impl PartRecord {
    /// Where the bytes are: (object, offset, length).
    pub fn range(&self) -> (&str, u64, u64) {
        (&self.blob, self.pos.unwrap_or(0), self.size)
    }

    /// Identifies this version of the part's bytes. A staged range is never
    /// rewritten while a row points at it, so object plus offset is enough.
    pub fn key(&self) -> String {
        match self.pos {
            Some(p) => format!("{}@{p}", self.blob),
            None => self.blob.clone(),
        }
    }
}

impl Store {
    pub fn create_upload(&self, u: &UploadRecord, part1: &PartRecord) -> ApiResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO uploads(id, upload_id, access_key, namespace, dir, name, meta, vars,
                                 orig_name, created, staging, stride)
             VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
            params![
                u.id,
                u.upload_id,
                u.access_key,
                u.namespace,
                u.dir,
                u.name,
                u.meta,
                u.vars,
                u.orig_name,
                u.created,
                u.staging,
                u.stride as i64
            ],
        )?;
        insert_part(&tx, &u.id, part1)?;
        tx.commit()?;
        Ok(())
    }

    pub fn get_upload(&self, id: &str) -> ApiResult<Option<UploadRecord>> {
        let conn = self.conn();
        let u = conn
            .query_row(
                "SELECT id, upload_id, access_key, namespace, dir, name, meta, vars, orig_name,
                        created, staging, stride FROM uploads WHERE id=?1",
                params![id],
                |r| {
                    Ok(UploadRecord {
                        id: r.get(0)?,
                        upload_id: r.get(1)?,
                        access_key: r.get(2)?,
                        namespace: r.get(3)?,
                        dir: r.get(4)?,
                        name: r.get(5)?,
                        meta: r.get(6)?,
                        vars: r.get(7)?,
                        orig_name: r.get(8)?,
                        created: r.get(9)?,
                        staging: r.get(10)?,
                        stride: r.get::<_, i64>(11)? as u64,
                    })
                },
            )
            .optional()?;
        Ok(u)
    }

    /// Whether part `n` may be written into the staging object: the upload
    /// is live and has no row for that part. A stored part is never
    /// overwritten in place: a failed re-upload would destroy it, and
    /// prefix hashing or an assembly may be reading it.
    pub fn staging_slot_free(&self, id: &str, n: u32) -> ApiResult<bool> {
        let conn = self.conn();
        let free = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM uploads WHERE id=?1)
                AND NOT EXISTS(SELECT 1 FROM parts WHERE upload=?1 AND part_number=?2)",
            params![id, n],
            |r| r.get(0),
        )?;
        Ok(free)
    }

    /// Stores (or replaces) a part; returns the replaced part's object when
    /// it was an object of its own (a staged range is not removable).
    pub fn put_part(&self, id: &str, p: &PartRecord) -> ApiResult<Option<String>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let live: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM uploads WHERE id=?1)",
            params![id],
            |r| r.get(0),
        )?;
        if !live {
            return Err(ApiError::no_such_upload(format!(
                "upload {id} was completed, cancelled or expired meanwhile"
            )));
        }
        let old: Option<String> = tx
            .query_row(
                "SELECT blob FROM parts WHERE upload=?1 AND part_number=?2 AND pos IS NULL",
                params![id, p.part_number],
                |r| r.get(0),
            )
            .optional()?;
        insert_part(&tx, id, p)?;
        tx.commit()?;
        Ok(old)
    }

    /// All stored parts of an upload, by part number.
    pub fn parts(&self, id: &str) -> ApiResult<Vec<PartRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT part_number, blob, size, md5, pos FROM parts WHERE upload=?1
             ORDER BY part_number",
        )?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok(PartRecord {
                    part_number: r.get(0)?,
                    blob: r.get(1)?,
                    size: r.get::<_, i64>(2)? as u64,
                    md5: r.get(3)?,
                    pos: r.get::<_, Option<i64>>(4)?.map(|p| p as u64),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Forgets an upload; returns its objects (parts and staging) for removal.
    pub fn delete_upload(&self, id: &str) -> rusqlite::Result<Vec<String>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let blobs = delete_upload_in(&tx, id)?;
        tx.commit()?;
        Ok(blobs)
    }

    /// Commits the assembled file and forgets the upload in one transaction.
    /// Returns the upload's objects and the replaced file's object; the
    /// caller removes them except the one `rec` now uses.
    pub fn complete_upload(
        &self,
        id: &str,
        rec: FileRecord,
        insert_only: bool,
    ) -> ApiResult<(Vec<String>, Option<String>)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old = commit_in(&tx, rec, insert_only)?;
        let parts = delete_upload_in(&tx, id)?;
        tx.commit()?;
        Ok((parts, old))
    }

    pub fn expired_uploads(&self, now_ms: i64) -> rusqlite::Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id FROM uploads WHERE created < ?1")?;
        let rows = stmt.query_map(params![now_ms - UPLOAD_TTL_MS], |r| r.get(0))?;
        rows.collect()
    }
}

fn insert_part(tx: &rusqlite::Transaction<'_>, id: &str, p: &PartRecord) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO parts(upload, part_number, blob, size, md5, pos)
         VALUES(?1,?2,?3,?4,?5,?6)",
        params![
            id,
            p.part_number,
            p.blob,
            p.size as i64,
            p.md5,
            p.pos.map(|x| x as i64)
        ],
    )?;
    Ok(())
}

fn delete_upload_in(tx: &rusqlite::Transaction<'_>, id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = tx.prepare("DELETE FROM parts WHERE upload=?1 RETURNING blob")?;
    let mut blobs = stmt
        .query_map(params![id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    let mut stmt = tx.prepare("DELETE FROM uploads WHERE id=?1 RETURNING staging")?;
    let staging = stmt
        .query_map(params![id], |r| r.get::<_, Option<String>>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    blobs.extend(staging.into_iter().flatten());
    // Staged parts all name the staging object.
    blobs.sort();
    blobs.dedup();
    Ok(blobs)
}
