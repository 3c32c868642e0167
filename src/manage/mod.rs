//! Management API (docs/protocol.md §6): files, folders, listings, processing
//! and scanning, on the manage endpoint with the manage token of §2.
//!
//! - `request`: encoding, signing (a pure function of the request and the
//!   `Date`), sending with retries for reads, argument checks.
//! - `files`: file and folder operations, listings and the all-pages walk.
//! - `processing`: persistent tasks, transcoding, snapshots, scans.
//!
//! `dir` rule: every folder argument is normalised as the service stores
//! folders — a leading `/` is added, repeated `/` collapse, a trailing `/`
//! is dropped, and `""` or `"/"` is the root — before it goes into a
//! resource id or a query, so `"test"`, `"/test/"` and `"/test"` are one
//! folder.

mod files;
mod processing;
mod request;

pub use files::{dir_rid, file_rid, Listing};
pub use processing::{parse_feedback, EncodeOptions, FileRef, ScanTargets};
pub use request::{
    check_name, check_page, date_now, encode, encode_pairs, normalize_dir, ManageRequest,
    SignedRequest,
};
