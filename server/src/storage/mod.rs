//! Durable storage: metadata in SQLite (WAL), content in files named by
//! generated ids under `DATA/objects`.
//!
//! Content is written under `DATA/tmp`, fsynced, renamed into `objects/`
//! and only then committed in the database, so a crash can leave an
//! unreferenced object (collected at the next start) but never a visible
//! partial file. User-supplied names are database values only.

pub mod blob;
mod files;
mod folders;
mod uploads;

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

pub use files::FileRecord;
pub use folders::FolderRecord;
pub use uploads::{PartRecord, UploadRecord, UPLOAD_TTL_MS};

pub struct Store {
    conn: Mutex<Connection>,
    objects: PathBuf,
    tmp: PathBuf,
    /// Fault injection: behave as if the disk were full.
    full: Arc<AtomicBool>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS files(
    namespace TEXT NOT NULL, dir TEXT NOT NULL, name TEXT NOT NULL,
    blob TEXT NOT NULL, size INTEGER NOT NULL, md5 TEXT NOT NULL, mime TEXT NOT NULL,
    create_time INTEGER NOT NULL, modify_time INTEGER NOT NULL, meta TEXT NOT NULL,
    PRIMARY KEY(namespace, dir, name));
CREATE TABLE IF NOT EXISTS folders(
    namespace TEXT NOT NULL, path TEXT NOT NULL,
    create_time INTEGER NOT NULL, modify_time INTEGER NOT NULL,
    PRIMARY KEY(namespace, path));
CREATE TABLE IF NOT EXISTS uploads(
    id TEXT PRIMARY KEY, upload_id TEXT NOT NULL, access_key TEXT NOT NULL,
    namespace TEXT NOT NULL, dir TEXT NOT NULL, name TEXT NOT NULL,
    meta TEXT NOT NULL, vars TEXT NOT NULL, orig_name TEXT NOT NULL, created INTEGER NOT NULL,
    staging TEXT, stride INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS parts(
    upload TEXT NOT NULL, part_number INTEGER NOT NULL,
    blob TEXT NOT NULL, size INTEGER NOT NULL, md5 TEXT NOT NULL, pos INTEGER,
    PRIMARY KEY(upload, part_number));
";

/// Columns added after the first release, for data directories created
/// before them: (table, column, declaration).
const ADDED_COLUMNS: [(&str, &str, &str); 3] = [
    ("uploads", "staging", "TEXT"),
    ("uploads", "stride", "INTEGER NOT NULL DEFAULT 0"),
    ("parts", "pos", "INTEGER"),
];

fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    for (table, column, decl) in ADDED_COLUMNS {
        let present: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM pragma_table_info(?1) WHERE name=?2)",
            [table, column],
            |r| r.get(0),
        )?;
        if !present {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
        }
    }
    Ok(())
}

fn db_err(e: rusqlite::Error) -> io::Error {
    io::Error::other(format!("metadata database: {e}"))
}

impl Store {
    /// Opens (creating if needed) the store under `root`, then expires
    /// abandoned uploads and removes leftovers of interrupted writes.
    pub fn open(root: &Path, now_ms: i64) -> io::Result<Store> {
        let objects = root.join("objects");
        let tmp = root.join("tmp");
        fs::create_dir_all(&objects)?;
        fs::create_dir_all(&tmp)?;
        let conn = Connection::open(root.join("meta.db")).map_err(db_err)?;
        conn.busy_timeout(Duration::from_secs(2)).map_err(db_err)?;
        // EXCLUSIVE locking makes a second server on the same directory fail
        // at start instead of collecting the first one's objects.
        conn.execute_batch(
            "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
        )
        .map_err(db_err)?;
        conn.execute_batch(SCHEMA).map_err(db_err)?;
        migrate(&conn).map_err(db_err)?;
        let store = Store {
            conn: Mutex::new(conn),
            objects,
            tmp,
            full: Arc::new(AtomicBool::new(false)),
        };
        store.startup_cleanup(now_ms)?;
        Ok(store)
    }

    /// Simulates a full disk while `flag` is set: every database commit is
    /// rolled back (the commit hook's answer) and [`Store::check_space`]
    /// fails with ENOSPC.
    pub fn simulate_disk_full(mut self, flag: Arc<AtomicBool>) -> Self {
        let f = flag.clone();
        self.conn().commit_hook(Some(move || f.load(Relaxed)));
        self.full = flag;
        self
    }

    /// Fails with ENOSPC while a full disk is simulated; called where
    /// content starts to be written.
    pub fn check_space(&self) -> io::Result<()> {
        if self.full.load(Relaxed) {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        Ok(())
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (transactions roll back on drop), so poisoning is ignored.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn blob_path(&self, blob: &str) -> PathBuf {
        self.objects.join(blob)
    }

    /// Where a part's bytes are (its own object or a staging range).
    pub fn source(&self, p: &PartRecord) -> blob::Source {
        let (blob, offset, len) = p.range();
        blob::Source {
            path: self.blob_path(blob),
            offset,
            len,
        }
    }

    pub fn new_tmp_path(&self) -> PathBuf {
        self.tmp.join(uuid::Uuid::new_v4().simple().to_string())
    }

    /// Moves a complete, fsynced temporary file into `objects/` under a new
    /// id and makes the rename durable.
    pub fn promote(&self, tmp: &Path) -> io::Result<String> {
        if let Err(e) = self.check_space() {
            let _ = fs::remove_file(tmp);
            return Err(e);
        }
        let blob = uuid::Uuid::new_v4().simple().to_string();
        if let Err(e) = fs::rename(tmp, self.blob_path(&blob)) {
            let _ = fs::remove_file(tmp);
            return Err(e);
        }
        fs::File::open(&self.objects)?.sync_all()?;
        Ok(blob)
    }

    /// Best effort: an object that cannot be removed now is collected at
    /// the next start because nothing references it.
    pub fn remove_blob(&self, blob: &str) {
        let _ = fs::remove_file(self.blob_path(blob));
    }

    fn startup_cleanup(&self, now_ms: i64) -> io::Result<()> {
        for entry in fs::read_dir(&self.tmp)? {
            let _ = fs::remove_file(entry?.path());
        }
        for id in self.expired_uploads(now_ms).map_err(db_err)? {
            for blob in self.delete_upload(&id).map_err(db_err)? {
                self.remove_blob(&blob);
            }
        }
        let referenced = self.referenced_blobs().map_err(db_err)?;
        for entry in fs::read_dir(&self.objects)? {
            let entry = entry?;
            let name = entry.file_name();
            if !referenced.contains(name.to_string_lossy().as_ref()) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    fn referenced_blobs(&self) -> rusqlite::Result<HashSet<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT blob FROM files UNION SELECT blob FROM parts
             UNION SELECT staging FROM uploads WHERE staging IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(dir: &str, name: &str, blob: &str) -> FileRecord {
        FileRecord {
            namespace: "ns".into(),
            dir: dir.into(),
            name: name.into(),
            blob: blob.into(),
            size: 1,
            md5: "0".into(),
            mime: "text/plain".into(),
            create_time: 1,
            modify_time: 1,
            meta: "{}".into(),
        }
    }

    #[test]
    fn data_dirs_from_before_staging_are_migrated() {
        let td = tempfile::tempdir().unwrap();
        let old = Connection::open(td.path().join("meta.db")).unwrap();
        old.execute_batch(
            "CREATE TABLE uploads(
                id TEXT PRIMARY KEY, upload_id TEXT NOT NULL, access_key TEXT NOT NULL,
                namespace TEXT NOT NULL, dir TEXT NOT NULL, name TEXT NOT NULL,
                meta TEXT NOT NULL, vars TEXT NOT NULL, orig_name TEXT NOT NULL,
                created INTEGER NOT NULL);
             CREATE TABLE parts(
                upload TEXT NOT NULL, part_number INTEGER NOT NULL,
                blob TEXT NOT NULL, size INTEGER NOT NULL, md5 TEXT NOT NULL,
                PRIMARY KEY(upload, part_number));
             INSERT INTO uploads VALUES('u','U','ak','ns','/','n','{}','{}','n',1);
             INSERT INTO parts VALUES('u',1,'b1',3,'m');",
        )
        .unwrap();
        drop(old);
        std::fs::create_dir_all(td.path().join("objects")).unwrap();
        std::fs::write(td.path().join("objects/b1"), b"abc").unwrap();
        let s = Store::open(td.path(), 2).unwrap();
        let u = s.get_upload("u").unwrap().unwrap();
        assert_eq!((u.staging, u.stride), (None, 0));
        let p = &s.parts("u").unwrap()[0];
        assert_eq!((p.blob.as_str(), p.pos), ("b1", None));
        assert!(td.path().join("objects/b1").exists(), "still referenced");
        drop(s);
        Store::open(td.path(), 2).expect("migrating twice is a no-op");
    }

    #[test]
    fn folders_explicit_and_implicit() {
        let td = tempfile::tempdir().unwrap();
        let s = Store::open(td.path(), 0).unwrap();
        s.commit_file(rec("/a/b", "f", "x"), false).unwrap();
        assert!(s.folder_exists("ns", "/a").unwrap());
        assert!(s.folder_exists("ns", "/a/b").unwrap());
        assert!(!s.folder_exists("ns", "/a/b/c").unwrap());
        assert!(!s.folder_exists("ns", "/a/bb").unwrap());
        s.create_folder("ns", "/z/y", 5).unwrap();
        assert_eq!(
            s.create_folder("ns", "/z", 5).unwrap_err().code,
            "NameDuplicated"
        );
        let (total, list) = s.list_folders("ns", "/", 0, 10).unwrap();
        assert_eq!(total, 2);
        assert_eq!(list[0].name, "a");
        assert_eq!(list[1].name, "z");
        assert_eq!(s.delete_folder("ns", "/z").unwrap_err().code, "DirNotEmpty");
        s.delete_folder("ns", "/z/y").unwrap();
        s.delete_folder("ns", "/z").unwrap();
        assert_eq!(s.delete_folder("ns", "/z").unwrap_err().code, "DirNotExist");
        assert_eq!(s.delete_folder("ns", "/a").unwrap_err().code, "DirNotEmpty");
    }
}
