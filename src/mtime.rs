//! Modification times kept across the service: uploads of local files
//! record the file's mtime in its meta under `MTIME_KEY`, downloads set
//! it back on the local file, and the `mtime` skip rule compares it.
//!
//! The value is whole milliseconds since 1970-01-01 UTC, as decimal text
//! (meta values are text). Milliseconds because the service's own times
//! (`createTime`, `modifyTime`) are milliseconds, they fit a JSON number
//! exactly, and they are finer than any file system a comparison needs
//! (FAT's 2 s, HFS+'s 1 s) while every common one (ext4, APFS, NTFS) keeps
//! them exactly, so a downloaded file compares equal with its record.

use crate::error::{Error, Result};
use crate::upload::Target;
use serde_json::Value;
use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The meta key. User meta keys are free text, so the key carries the
/// product's prefix, which no one else has a reason to use; a caller who
/// sets this key in its own meta wins (nothing is overwritten).
pub const MTIME_KEY: &str = "wantu-mtime";

/// A time as whole milliseconds since the epoch (negative before it).
pub fn ms_of(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        // Before 1970: rounded down, like the positive side.
        Err(e) => -(e.duration().as_nanos().div_ceil(1_000_000) as i64),
    }
}

fn time_of(ms: i64) -> SystemTime {
    match ms >= 0 {
        true => UNIX_EPOCH + Duration::from_millis(ms as u64),
        false => UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs()),
    }
}

/// The target with the file's mtime recorded in its meta, unless the
/// caller gave the key already or the time is unknown.
pub fn recorded(target: &Target, modified: Option<SystemTime>) -> Cow<'_, Target> {
    let given = target.meta.iter().any(|(k, _)| k == MTIME_KEY);
    match modified {
        Some(t) if !given => {
            let mut t2 = target.clone();
            t2.meta.push((MTIME_KEY.to_string(), ms_of(t).to_string()));
            Cow::Owned(t2)
        }
        _ => Cow::Borrowed(target),
    }
}

/// The recorded mtime in a file object (`meta` of `file_get` or a listing
/// item); None when the file has none or it is not a whole number.
pub fn of_object(file: &Value) -> Option<i64> {
    match &file.get("meta")?.get(MTIME_KEY)? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// The local file's mtime in milliseconds, if the system gives one.
pub fn of_local(meta: &std::fs::Metadata) -> Option<i64> {
    meta.modified().ok().map(ms_of)
}

/// Sets a local file's mtime to the recorded one.
pub fn restore(path: &Path, ms: i64) -> Result<()> {
    let set = std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(time_of(ms)));
    set.map_err(|e| {
        Error::Io(format!(
            "cannot set the modification time of {} to the recorded one: {e}",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_both_sides_of_the_epoch() {
        assert_eq!(ms_of(UNIX_EPOCH + Duration::from_micros(1_500_999)), 1500);
        assert_eq!(ms_of(UNIX_EPOCH - Duration::from_millis(3)), -3);
        assert_eq!(ms_of(UNIX_EPOCH - Duration::from_micros(2500)), -3);
        for ms in [0, 1, 1_733_000_000_123, -1, -86_400_000] {
            assert_eq!(ms_of(time_of(ms)), ms);
        }
    }

    #[test]
    fn recorded_unless_given() {
        let t = Target::default();
        let at = UNIX_EPOCH + Duration::from_millis(42);
        let r = recorded(&t, Some(at));
        assert_eq!(r.meta, [(MTIME_KEY.to_string(), "42".to_string())]);
        let mut own = Target::default();
        own.meta.push((MTIME_KEY.into(), "7".into()));
        assert_eq!(recorded(&own, Some(at)).meta, own.meta);
        assert!(recorded(&t, None).meta.is_empty());
    }

    #[test]
    fn read_from_file_objects() {
        use serde_json::json;
        assert_eq!(
            of_object(&json!({"meta":{"wantu-mtime":"1700"}})),
            Some(1700)
        );
        assert_eq!(of_object(&json!({"meta":{"wantu-mtime":17}})), Some(17));
        assert_eq!(of_object(&json!({"meta":{"wantu-mtime":"soon"}})), None);
        assert_eq!(of_object(&json!({"meta":{}})), None);
        assert_eq!(of_object(&json!({})), None);
    }

    #[test]
    fn restore_sets_the_time() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, b"x").unwrap();
        restore(&p, 1_600_000_000_123).unwrap();
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!(of_local(&m), Some(1_600_000_000_123));
        let e = restore(&d.path().join("missing"), 0).unwrap_err();
        assert!(e.message().contains("modification time"), "{e}");
        assert!(e.message().contains("missing"), "{e}");
    }
}
