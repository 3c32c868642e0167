//! Options of the folder and batch uploads: every one-call upload option
//! (`part_size`, `concurrency`, `integrity`, retries…) plus the keys below.
//! Unknown keys are refused, as for the one-call upload.

use crate::error::{Error, Result};
use crate::results::ResultOptions;
use crate::transfer::TransferOptions;
use crate::tree::Skip;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Requests in flight across a many-files call when `concurrency` is not
/// given. Small files cost about one round trip each, so files per second
/// ≈ concurrency / round trip. Measured through a 40 ms link
/// (bench/README.md): 32 gave ~600 files/s, too close to the 500/s
/// target, 64 gave ~1160/s; on a LAN the server, not the client, is the
/// limit either way, and memory does not depend on this number (large
/// files' parts are bounded by the part buffers below).
pub const DEFAULT_BATCH_CONCURRENCY: u32 = 64;

/// Memory for part buffers across the call: at most this many bytes of
/// parts (and at least one part) are read and waiting to be sent at once,
/// whatever `concurrency` is. 32 MiB = four 8 MiB parts, what the one-call
/// upload uses for one large file at its defaults.
pub const PART_BUFFER_BUDGET: u64 = 32 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub transfer: TransferOptions,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub follow_symlinks: bool,
    pub skip: Skip,
    pub dry_run: bool,
    pub fail_fast: bool,
    /// `results` and `results_file` (`crate::results`).
    pub results: ResultOptions,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Extra {
    include: Vec<String>,
    exclude: Vec<String>,
    follow_symlinks: bool,
    skip: Skip,
    dry_run: bool,
    fail_fast: bool,
}

const EXTRA_KEYS: [&str; 6] = [
    "include",
    "exclude",
    "follow_symlinks",
    "skip",
    "dry_run",
    "fail_fast",
];

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions::from_json(None).expect("the defaults are valid")
    }
}

impl BatchOptions {
    /// Parses and checks the options JSON; `None` or empty text gives the
    /// defaults.
    pub fn from_json(text: Option<&str>) -> Result<BatchOptions> {
        let mut map: Map<String, Value> =
            crate::options_json::parse(text, r#"{"concurrency":16,"skip":"md5"}"#)?;
        if map.contains_key("checkpoint_path") {
            return Err(Error::invalid(
                "option `checkpoint_path` is for one-file uploads; a folder or batch upload \
                 resumes by running it again with \"skip\":\"md5\"",
            ));
        }
        let results = crate::results::take_options(&mut map)?;
        let mut extra = Map::new();
        for k in EXTRA_KEYS {
            if let Some(v) = map.remove(k) {
                extra.insert(k.to_string(), v);
            }
        }
        let extra: Extra =
            serde_json::from_value(Value::Object(extra)).map_err(crate::options_json::unusable)?;
        map.entry("concurrency")
            .or_insert_with(|| DEFAULT_BATCH_CONCURRENCY.into());
        let transfer = TransferOptions::from_json(Some(&Value::Object(map).to_string()))?;
        crate::tree::Filters::new(&extra.include, &extra.exclude)?;
        Ok(BatchOptions {
            transfer,
            include: extra.include,
            exclude: extra.exclude,
            follow_symlinks: extra.follow_symlinks,
            skip: extra.skip,
            dry_run: extra.dry_run,
            fail_fast: extra.fail_fast,
            results,
        })
    }

    /// How many part buffers may exist at once for this part size.
    pub fn part_buffers(&self, part_size: u64) -> usize {
        let by_budget = (PART_BUFFER_BUDGET / part_size.max(1)).max(1);
        by_budget.min(self.transfer.concurrency as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_keys() {
        let o = BatchOptions::from_json(None).unwrap();
        assert_eq!(o.transfer.concurrency, DEFAULT_BATCH_CONCURRENCY);
        assert_eq!(o.skip, Skip::None);
        assert!(!o.follow_symlinks && !o.dry_run && !o.fail_fast);
        assert_eq!(o.part_buffers(8 << 20), 4);
        assert_eq!(o.part_buffers(1 << 20), 32);
        let o = BatchOptions::from_json(Some(
            r#"{"concurrency":3,"skip":"md5","include":["*.jpg"],"dry_run":true,"part_size":1048576}"#,
        ))
        .unwrap();
        assert_eq!(o.transfer.concurrency, 3);
        assert_eq!(o.skip, Skip::Md5);
        assert_eq!(o.part_buffers(1 << 20), 3);
    }

    #[test]
    fn bad_options_are_named() {
        for (json, needle) in [
            (r#"{"skip":"sha1"}"#, "unknown variant"),
            (r#"{"include":"*.jpg"}"#, "invalid type"),
            (r#"{"concurrency":0}"#, "`concurrency`"),
            (r#"{"checkpoint_path":"/tmp/x"}"#, "`checkpoint_path`"),
            (r#"{"exclude":["a[b"]}"#, "`exclude`"),
            (r#"{"folow_symlinks":true}"#, "unknown field"),
            ("[1]", "expected an object"),
        ] {
            let e = BatchOptions::from_json(Some(json)).unwrap_err();
            assert_eq!(e.name(), "InvalidArgument");
            assert!(e.message().contains(needle), "{json}: {e}");
        }
    }
}
