//! The C surface. Each function checks its arguments through `boundary`,
//! calls the plain-Rust core, and hands back a JSON string. No protocol
//! logic lives here.

pub mod batch;
pub mod boundary;
pub mod cancel;
pub mod client;
pub mod download;
mod handles;
pub mod manage;
pub mod stream;
pub mod transfer;
pub mod upload;
