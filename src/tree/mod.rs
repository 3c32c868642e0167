//! Helpers shared by every many-files call, uploads and downloads alike:
//!
//! - `filter`: `include` / `exclude` glob lists over relative paths;
//! - `remote`: one remote folder's files as a map (name → `RemoteFile`), read
//!   with the listing call, pages in parallel;
//! - `skip`: the `skip` option (`none`, `size`, `md5`) and its rule;
//! - `local_md5` and `remote_dir`: the MD5 of a local file (off the async
//!   threads) and the remote folder of a relative path.

pub mod filter;
pub mod remote;
pub mod skip;

pub use crate::remote_file::RemoteFile;
pub use filter::Filters;
pub use remote::Listings;
pub use skip::Skip;

use crate::error::{Error, Result};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// The MD5 (lower-case hex) of the first `size` bytes of a local file,
/// read on the runtime's blocking pool; `stop` ends it early.
pub async fn local_md5(path: PathBuf, size: u64, stop: CancellationToken) -> Result<String> {
    tokio::task::spawn_blocking(move || crate::transfer::source::hash_file(&path, size, &stop))
        .await
        .map_err(|e| Error::Internal(format!("the hashing task failed: {e}")))?
}

/// The remote folder for a file whose parent, relative to the local root,
/// is `rel_parent` (`/`-separated, "" for the root): `remote_root` joined
/// with it, normalised as the service stores folders (`/a/b`, `/`).
pub fn remote_dir(remote_root: &str, rel_parent: &str) -> String {
    crate::manage::normalize_dir(&format!("{remote_root}/{rel_parent}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_dirs_join_and_normalise() {
        assert_eq!(remote_dir("", ""), "/");
        assert_eq!(remote_dir("/", "a"), "/a");
        assert_eq!(remote_dir("photos/", "2024/a b"), "/photos/2024/a b");
        assert_eq!(remote_dir("/x//y", ""), "/x/y");
    }
}
