//! C surface of downloads (`crate::download`): one stored file, or a
//! remote folder tree. No download logic here.

use super::boundary::{hosted, optional_str, required_str, wantu_client};
use super::cancel::{optional_cancel, wantu_cancel};
use super::ops::{Job, SendPtr};
use super::transfer::wantu_progress_fn;
use crate::download::{self, DownloadOptions};
use std::ffi::{c_char, c_void};
use std::path::PathBuf;

network_call! {
    /// Downloads the stored file `dir`/`name` of namespace `ns` to
    /// `local_path`, in one call.
    ///
    /// The file's `url`, `size` and `md5` come from the manage API; its bytes
    /// from a GET of that URL — for files larger than `part_size`, several
    /// `Range` requests in parallel. Bytes go into a temporary file beside
    /// `local_path` (`.NAME.wantu-part`), the MD5 of the whole file is checked
    /// against the stored one, and only then is the file renamed to
    /// `local_path` (replacing a file there): a partial or damaged download
    /// never sits under the final name.
    ///
    /// - `client`, `ns`, `name`, `local_path`: required. `dir`: NULL or `""` is
    ///   the root folder. `local_path`'s folder must exist.
    /// - `options_json`: NULL for the defaults, or an object with any of
    ///   `concurrency` (requests in flight, 1…256, default 32), `part_size`
    ///   (bytes per range, 102400…67108864, default 8 MiB), `max_attempts`
    ///   (per request, 1…100, default 10), `retry_budget_ms` (default
    ///   120000), `backoff_base_ms` (100), `backoff_max_ms` (10000), `resume`
    ///   (default true). Unknown keys, and the folder-only keys, are refused.
    /// - `progress`, `user_data`: optional, see `wantu_progress_fn`; `total` is
    ///   the file's size once its metadata arrived (`WANTU_SIZE_UNKNOWN`
    ///   before).
    /// - `cancel`: optional handle from `wantu_cancel_new`; a cancel stops the
    ///   requests within about 50 ms.
    ///
    /// Resume: with `resume` on, a file of several ranges keeps a sidecar
    /// (`.NAME.wantu-part.json`) listing the finished ranges; after a failure,
    /// cancel or crash, the same call again fetches only the ranges not
    /// finished. If the stored file changed (size or MD5), it starts over.
    /// Transient failures (connection trouble, timeouts, 429, 5xx) are retried
    /// with backoff, continuing after the bytes already received.
    ///
    /// Answers `{"code":200,"path","size","md5","url","parts","part_size",
    /// "fetched_parts","resumed_parts","attempts","retries","checkpoint",…}`;
    /// an error carries the same fields when the download had begun, and
    /// `partial_kept: true` when its partial file was kept for a resume.
    ///
    /// # Safety
    /// `client` is NULL or a live handle; strings are NULL or NUL-terminated;
    /// `progress` is NULL or valid for the whole call. Blocks until done;
    /// callbacks run on this thread. The result is never NULL; free it with
    /// `wantu_string_free`.
    fn wantu_download_file / wantu_download_file_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
        name: *const c_char,
        local_path: *const c_char,
        options_json: *const c_char,
        progress: wantu_progress_fn,
        user_data: *mut c_void,
        cancel: *const wantu_cancel,
    ) {
        let host = hosted(client)?;
        let ns = required_str(ns, "ns")?.to_owned();
        let dir = optional_str(dir, "dir")?.unwrap_or("/").to_owned();
        let name = required_str(name, "name")?.to_owned();
        let local_path = PathBuf::from(required_str(local_path, "local_path")?);
        let opts = DownloadOptions::from_json(optional_str(options_json, "options_json")?)?;
        let cancel = optional_cancel(cancel)?;
        let (client, user_data) = (host.client.clone(), SendPtr(user_data));
        Ok(Job::thread(&host, move |ctx| {
            let cancel = ctx.cancel(cancel);
            let answer = ctx.reporting(progress, user_data.get()).with(|cb| {
                download::download_file(
                    &client,
                    &ns,
                    &dir,
                    &name,
                    &local_path,
                    opts,
                    cb,
                    cancel.as_ref(),
                )
            });
            answer.to_string()
        }))
    }
}

network_call! {
    /// Downloads every file under `remote_dir` of namespace `ns` into
    /// `local_dir`, keeping the folder structure: the inverse of a folder
    /// upload.
    ///
    /// The remote tree is listed recursively (pages and folders in parallel);
    /// local folders are created (`local_dir` too, if missing); each file is
    /// downloaded as by `wantu_download_file`. One scheduler serves the whole
    /// call: at most `concurrency` requests (listing pages, whole small files
    /// and ranges of large ones alike) are in flight, and at most
    /// `concurrency` files are in progress, whatever the size of the tree.
    ///
    /// Remote names are untrusted: a file or folder whose name is empty, `.`,
    /// `..`, or holds `/`, `\` or NUL is refused (listed as failed) and
    /// nothing is written for it; on Windows so is a name Windows reads as
    /// something else (holding `:`, `<>"|?*` or a control character, ending in
    /// a dot or space, or a device name such as `NUL` or `con.txt`); a
    /// symbolic link or file in the way of a local folder is not followed.
    ///
    /// - `options_json`: the options of `wantu_download_file`, plus `skip`
    ///   (`"none"` default, `"size"`: a local file of the same size is kept,
    ///   `"md5"`: same size and MD5), `include` and `exclude` (lists of globs
    ///   on the relative path; a pattern without `/` matches the file name in
    ///   any folder), `dry_run` (list what would be downloaded), `fail_fast`
    ///   (stop at the first failure), `max_files` (default 1000000).
    /// - `progress`: bytes of the whole call; `total` is the size of all the
    ///   selected files once the listing is done; skipped files count as done.
    ///
    /// Answers one document: `code` 200 only when every file succeeded (else
    /// `code` 0 and `error` `"SomeFilesFailed"`, or `"Cancelled"`), counts
    /// `downloaded`, `skipped`, `failed` (and `would_download` in a dry
    /// run), `bytes`, and `results`: one object per file (sorted by `path`,
    /// relative to `local_dir`) with `code`, `status` (`"downloaded"`,
    /// `"skipped"`, `"failed"`, `"would_download"`: the words of
    /// docs/folders.md, "Per-file results"), `size`, `md5` and the download
    /// figures, or the error. A missing `remote_dir`,
    /// a `local_dir` that is not a folder, or bad options answer a plain error.
    ///
    /// # Safety
    /// As `wantu_download_file`.
    fn wantu_download_dir / wantu_download_dir_async(
        client: *const wantu_client,
        ns: *const c_char,
        remote_dir: *const c_char,
        local_dir: *const c_char,
        options_json: *const c_char,
        progress: wantu_progress_fn,
        user_data: *mut c_void,
        cancel: *const wantu_cancel,
    ) {
        let host = hosted(client)?;
        let ns = required_str(ns, "ns")?.to_owned();
        let remote_dir = optional_str(remote_dir, "remote_dir")?.unwrap_or("/").to_owned();
        let local_dir = PathBuf::from(required_str(local_dir, "local_dir")?);
        let opts = DownloadOptions::from_json(optional_str(options_json, "options_json")?)?;
        let cancel = optional_cancel(cancel)?;
        let (client, user_data) = (host.client.clone(), SendPtr(user_data));
        Ok(Job::thread(&host, move |ctx| {
            let cancel = ctx.cancel(cancel);
            let answer = ctx.reporting(progress, user_data.get()).with(|cb| {
                download::download_dir(
                    &client,
                    &ns,
                    &remote_dir,
                    &local_dir,
                    opts,
                    cb,
                    None,
                    cancel.as_ref(),
                )
            });
            answer.to_string()
        }))
    }
}
