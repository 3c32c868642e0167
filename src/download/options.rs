//! Options of `download_file` and `download_dir`, given as a JSON object
//! whose keys are the field names below. Unknown keys are refused so that a
//! typo does not silently fall back to a default; folder-only options are
//! refused by the one-file call.

use crate::error::{Error, Result};
use crate::multipart::MIN_PART_SIZE;
use crate::results::{Keep, ResultOptions};
use crate::retry::RetryLimits;
use crate::transfer::options::MAX_PART_SIZE;
/// Which local files a folder download leaves alone: the rule folder
/// uploads use, the other way round.
pub use crate::tree::Skip;
use serde::Deserialize;
use std::path::PathBuf;

/// Range size when none is configured: large enough that a request's
/// set-up cost is small next to its transfer, small enough that a
/// re-fetched range after an interruption costs little.
pub(crate) const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
/// Requests in flight by default. Loopback and LAN need few; a 40 ms link
/// needs many to hide the round trip of each small file (measured in
/// bench/README.md), and 32 connections are still polite to one server.
pub(crate) const DEFAULT_CONCURRENCY: u32 = 32;
pub(crate) const MAX_CONCURRENCY: u32 = 256;
/// Files and folders one folder download lists at most, by default. The
/// listing is a stream, so this is a guard against downloading a far
/// larger tree than meant, not a memory bound.
pub(crate) const DEFAULT_MAX_FILES: u64 = 100_000_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DownloadOptions {
    /// Requests in flight at once across the whole call, 1…256.
    pub concurrency: u32,
    /// Bytes per range request, 102400…64 MiB; files up to it go in one
    /// plain GET.
    pub part_size: Option<u64>,
    /// Attempts per request, 1…100 (1 = no retries).
    pub max_attempts: u32,
    /// Total time one file may spend waiting between retries.
    pub retry_budget_ms: u64,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Keep an interrupted download (temporary file and its sidecar) and
    /// continue it next time; false discards it on failure.
    pub resume: bool,
    // ---- folder downloads only ----
    pub skip: Skip,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub dry_run: bool,
    pub fail_fast: bool,
    pub max_files: u64,
    /// Which files' results the answer keeps (`crate::results`).
    pub results: Keep,
    /// A JSON-lines file that gets every file's result as it ends.
    pub results_file: Option<PathBuf>,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            concurrency: DEFAULT_CONCURRENCY,
            part_size: None,
            max_attempts: 10,
            retry_budget_ms: 120_000,
            backoff_base_ms: 100,
            backoff_max_ms: 10_000,
            resume: true,
            skip: Skip::None,
            include: Vec::new(),
            exclude: Vec::new(),
            dry_run: false,
            fail_fast: false,
            max_files: DEFAULT_MAX_FILES,
            results: Keep::All,
            results_file: None,
        }
    }
}

impl DownloadOptions {
    /// Parses and checks the options JSON; `None`, `""` or `null` give the
    /// defaults.
    pub fn from_json(text: Option<&str>) -> Result<DownloadOptions> {
        let opts: DownloadOptions = crate::options_json::parse(text, r#"{"concurrency":8}"#)?;
        opts.validate()?;
        Ok(opts)
    }

    /// Where the per-file results go.
    pub fn result_options(&self) -> ResultOptions {
        ResultOptions {
            keep: self.results,
            file: self.results_file.clone(),
        }
    }

    pub fn retry_limits(&self) -> RetryLimits {
        RetryLimits {
            max_attempts: self.max_attempts,
            base_ms: self.backoff_base_ms,
            max_ms: self.backoff_max_ms,
            budget_ms: self.retry_budget_ms,
        }
    }

    /// The range size for a file of `size` bytes: the configured one, or
    /// the default grown in whole MiB so that no file needs more than
    /// 10000 ranges (the sidecar stays small).
    pub fn part_size_for(&self, size: u64) -> u64 {
        if let Some(ps) = self.part_size {
            return ps;
        }
        let needed = size.div_ceil(10_000);
        DEFAULT_PART_SIZE.max(needed.div_ceil(1 << 20) << 20)
    }

    /// Refuses the folder-only options in a one-file call.
    pub fn check_single_file(&self) -> Result<()> {
        let d = DownloadOptions::default();
        for (set, key) in [
            (self.skip != d.skip, "skip"),
            (!self.include.is_empty(), "include"),
            (!self.exclude.is_empty(), "exclude"),
            (self.dry_run, "dry_run"),
            (self.fail_fast, "fail_fast"),
            (self.max_files != d.max_files, "max_files"),
            (self.results != d.results, "results"),
            (self.results_file.is_some(), "results_file"),
        ] {
            if set {
                return Err(Error::invalid(format!(
                    "option `{key}` is for folder downloads (wantu_download_dir) only"
                )));
            }
        }
        Ok(())
    }

    /// Refuses values that cannot work, naming the option and its range.
    pub fn validate(&self) -> Result<()> {
        if let Some(ps) = self.part_size {
            if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&ps) {
                return Err(Error::invalid(format!(
                    "option `part_size` must be from {MIN_PART_SIZE} to {MAX_PART_SIZE} bytes, \
                     not {ps}"
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
        if self.max_files == 0 {
            return Err(Error::invalid("option `max_files` must be 1 or more"));
        }
        if self.include.len() + self.exclude.len() > 1000 {
            return Err(Error::invalid(
                "options `include` and `exclude` hold more than 1000 patterns together",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parsing_and_named_errors() {
        let o = DownloadOptions::from_json(None).unwrap();
        assert_eq!(o.concurrency, DEFAULT_CONCURRENCY);
        assert!(o.resume);
        let o = DownloadOptions::from_json(Some(r#"{"skip":"md5","include":["*.jpg"]}"#)).unwrap();
        assert_eq!(o.skip, Skip::Md5);
        assert!(o
            .check_single_file()
            .unwrap_err()
            .message()
            .contains("`skip`"));
        for (json, needle) in [
            (r#"{"part_size":1}"#, "`part_size`"),
            (r#"{"concurrency":0}"#, "`concurrency`"),
            (r#"{"concurrency":257}"#, "`concurrency`"),
            (r#"{"max_attempts":0}"#, "`max_attempts`"),
            (r#"{"skip":"ctime"}"#, "unknown variant"),
            (r#"{"max_files":0}"#, "`max_files`"),
            (r#"{"checkpoint":1}"#, "unknown field"),
            ("[1]", "not usable"),
        ] {
            let e = DownloadOptions::from_json(Some(json)).unwrap_err();
            assert_eq!(e.name(), "InvalidArgument");
            assert!(e.message().contains(needle), "{json}: {e}");
        }
    }

    #[test]
    fn part_size_grows_for_huge_files() {
        let o = DownloadOptions::default();
        assert_eq!(o.part_size_for(1 << 30), DEFAULT_PART_SIZE);
        let huge = 200u64 << 30; // 200 GiB / 10000 ≈ 20.5 MiB → 21 MiB
        assert_eq!(o.part_size_for(huge), 21 << 20);
        assert!(huge.div_ceil(o.part_size_for(huge)) <= 10_000);
    }
}
