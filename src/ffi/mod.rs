//! The C surface. Each function checks its arguments through `boundary`,
//! calls the plain-Rust core, and hands back a JSON string. No protocol
//! logic lives here.

// First: its `network_call!` describes the calls of the modules below.
#[macro_use]
pub mod ops;
pub mod batch;
pub mod boundary;
pub mod cancel;
pub mod client;
pub mod download;
pub(crate) mod handles;
pub mod manage;
pub mod processing;
pub mod stream;
pub mod transfer;
pub mod upload;
