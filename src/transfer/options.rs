//! Options of the one-call uploader, given as a JSON object whose keys are
//! the field names below. Unknown keys are refused so that a typo does not
//! silently fall back to a default.

use crate::error::{Error, Result};
use crate::multipart::MIN_PART_SIZE;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// The largest part the protocol allows (docs/protocol.md §4, server choice).
pub const MAX_PART_SIZE: u64 = 64 * 1024 * 1024;
/// Part size when none is configured: 10000 parts of it cover 78 GiB, and
/// (4 + 1) buffers of it stay well under 64 MiB.
pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
pub const DEFAULT_CONCURRENCY: u32 = 4;
pub const MAX_CONCURRENCY: u32 = 64;
pub use crate::retry::MAX_ATTEMPTS_LIMIT;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransferOptions {
    /// Bytes per part, 102400…64 MiB; automatic (8 MiB, grown for files
    /// that would need more than 10000 parts) when absent.
    pub part_size: Option<u64>,
    /// Parts in flight at once, 1…64.
    pub concurrency: u32,
    /// Sizes up to this go in one simple request; larger ones use multipart.
    /// Defaults to the part size. For memory and stream sources it is capped
    /// at the part size, which keeps their memory bounded.
    pub multipart_threshold: Option<u64>,
    /// Per-part `md5` sent and every eTag compared; whole-file `md5` sent at
    /// completion. On by default.
    pub integrity: bool,
    /// Attempts per request, 1…100 (1 = no retries).
    pub max_attempts: u32,
    /// Total time the whole upload may spend waiting between retries.
    pub retry_budget_ms: u64,
    /// First backoff ceiling; it doubles per attempt up to `backoff_max_ms`,
    /// and the actual wait is drawn uniformly below it (full jitter).
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Where to keep the resume checkpoint (file uploads only).
    pub checkpoint_path: Option<PathBuf>,
}

impl Default for TransferOptions {
    fn default() -> Self {
        TransferOptions {
            part_size: None,
            concurrency: DEFAULT_CONCURRENCY,
            multipart_threshold: None,
            integrity: true,
            max_attempts: 10,
            retry_budget_ms: 120_000,
            backoff_base_ms: 100,
            backoff_max_ms: 10_000,
            checkpoint_path: None,
        }
    }
}

impl TransferOptions {
    /// The retry limits these options set for every request of the upload.
    pub fn retry_limits(&self) -> crate::retry::RetryLimits {
        crate::retry::RetryLimits {
            max_attempts: self.max_attempts,
            base_ms: self.backoff_base_ms,
            max_ms: self.backoff_max_ms,
            budget_ms: self.retry_budget_ms,
        }
    }

    /// Parses and checks the options JSON; `None` or empty text gives the
    /// defaults.
    pub fn from_json(text: Option<&str>) -> Result<TransferOptions> {
        let opts: TransferOptions = crate::options_json::parse(text, r#"{"concurrency":8}"#)?;
        opts.validate()?;
        Ok(opts)
    }

    /// Refuses values that cannot work, naming the option and its range.
    pub fn validate(&self) -> Result<()> {
        if let Some(ps) = self.part_size {
            if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&ps) {
                return Err(Error::invalid(format!(
                    "option `part_size` must be from {MIN_PART_SIZE} to {MAX_PART_SIZE} bytes, \
                     not {ps} (omit it for automatic sizing)"
                )));
            }
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(Error::invalid(format!(
                "option `concurrency` must be from 1 to {MAX_CONCURRENCY}, not {}",
                self.concurrency
            )));
        }
        self.retry_limits().validate()?;
        if let Some(p) = &self.checkpoint_path {
            if p.as_os_str().is_empty() {
                return Err(Error::invalid(
                    "option `checkpoint_path` is empty: give a file path or leave it out",
                ));
            }
        }
        Ok(())
    }

    pub fn retry_budget(&self) -> Duration {
        Duration::from_millis(self.retry_budget_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_parsing() {
        let o = TransferOptions::from_json(None).unwrap();
        assert_eq!(o.concurrency, 4);
        assert!(o.integrity);
        let o = TransferOptions::from_json(Some(
            r#"{"part_size":1048576,"concurrency":8,"integrity":false,"checkpoint_path":"/tmp/x"}"#,
        ))
        .unwrap();
        assert_eq!(o.part_size, Some(1 << 20));
        assert!(!o.integrity);
    }

    #[test]
    fn hostile_options_are_named() {
        for (json, needle) in [
            (r#"{"part_size":0}"#, "`part_size`"),
            (r#"{"part_size":102399}"#, "`part_size`"),
            (r#"{"part_size":18446744073709551615}"#, "`part_size`"),
            (r#"{"part_size":1e30}"#, "not usable"),
            (r#"{"part_size":-1}"#, "not usable"),
            (r#"{"concurrency":0}"#, "`concurrency`"),
            (r#"{"concurrency":100000}"#, "`concurrency`"),
            (r#"{"max_attempts":0}"#, "`max_attempts`"),
            (r#"{"backoff_base_ms":0}"#, "`backoff_base_ms`"),
            (r#"{"checkpoint_path":""}"#, "`checkpoint_path`"),
            (r#"{"partsize":1}"#, "unknown field"),
            ("[1]", "not usable"),
            ("{", "not usable"),
        ] {
            let e = TransferOptions::from_json(Some(json)).unwrap_err();
            assert_eq!(e.name(), "InvalidArgument");
            assert!(e.message().contains(needle), "{json}: {e}");
        }
    }
}
