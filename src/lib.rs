//! libwantu: the Wantu media-storage SDK. A plain-Rust core (this crate's
//! modules) behind a thin C surface (`ffi`).

// Every unsafe operation in an unsafe fn stands in its own `unsafe` block
// with a `// SAFETY:` line: the fn's contract alone does not say why each
// one holds.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod auth;
pub mod batch;
pub mod client;
pub mod download;
pub mod error;
pub mod ffi;
pub mod file_identity;
mod fs_compat;
mod log;
pub mod manage;
pub mod mtime;
pub mod multipart;
mod options_json;
pub mod policy;
pub mod rate;
pub mod remote_file;
pub mod report;
pub mod result;
pub mod results;
pub mod retry;
pub mod transfer;
pub mod tree;
pub mod upload;

pub use client::{Client, ClientConfig, ClientOptions};
// The many-files engines, as the `wantu` tool (and any Rust program) calls
// them: each answers the same result document as its C function
// (docs/folders.md, docs/downloads.md).
pub use batch::{upload_batch, upload_dir, BatchOptions};
pub use download::{download_dir, download_file, DownloadOptions};
pub use error::{Error, Result};

/// The crate version, as `wantu_version()` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
