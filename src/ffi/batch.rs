//! C surface of the many-files uploads (`crate::batch`): a local folder
//! and a list of jobs. No scheduling logic here.

use super::boundary::{hosted, optional_str, required_str, wantu_client};
use super::cancel::{optional_cancel, wantu_cancel};
use super::ops::{Job, SendPtr};
use super::transfer::wantu_progress_fn;
use crate::batch::{self, BatchOptions};
use crate::policy::Policy;
use std::ffi::{c_char, c_void};
use std::path::PathBuf;

network_call! {
    /// Uploads every regular file under `local_dir`, recursively, to
    /// `remote_dir` + its path relative to `local_dir` (`photos/2024/a.jpg`
    /// under remote `/backup` becomes `/backup/photos/2024` + `a.jpg`).
    ///
    /// - `client`, `policy_json`, `local_dir`: required. The policy must not
    ///   name files (no `"name"`): each file keeps its local name.
    /// - `remote_dir`: NULL or `""` for the root.
    /// - `options_json`: NULL for the defaults, or a JSON object with every
    ///   option of `wantu_transfer_file` except `checkpoint_path` (default
    ///   `concurrency` here: 64 requests in flight across all files), and:
    ///   `include` / `exclude` (lists of globs over the relative path; `*`
    ///   crosses `/`), `follow_symlinks` (default false: links are reported as
    ///   skipped), `skip` (`"none"` (default), `"size"`, or `"md5"`: same size
    ///   and MD5 as the stored file; one listing per remote folder),
    ///   `dry_run` (report what would be sent, send nothing), `fail_fast`
    ///   (stop at the first failed file). Unknown keys are refused.
    /// - `progress`, `user_data`, `cancel`: as `wantu_transfer_file`; progress
    ///   counts the bytes of the whole call (skipped files count as done).
    ///
    /// Answers one JSON document: `code` 200 only when every file succeeded
    /// (otherwise `code` 0 with `error` `"FilesFailed"` or `"Cancelled"`),
    /// `files`, `uploaded`, `skipped`, `failed`, `bytes` (of the files sent),
    /// `attempts`, `retries`, and `results`: one object per file, sorted by
    /// path, with `path`, `dir`, `name`, `status` (`"uploaded"`, `"skipped"`,
    /// `"failed"`, `"would_upload"`), `code`, and the server's `url`, `e_tag`,
    /// `file_size`… or `error` and `message`. A missing or unreadable
    /// `local_dir` is an error before anything is sent; a FIFO, device or
    /// unreadable file inside it fails that file only. See docs/folders.md.
    ///
    /// # Safety
    /// As `wantu_transfer_file`.
    fn wantu_upload_dir / wantu_upload_dir_async(
        client: *const wantu_client,
        policy_json: *const c_char,
        local_dir: *const c_char,
        remote_dir: *const c_char,
        options_json: *const c_char,
        progress: wantu_progress_fn,
        user_data: *mut c_void,
        cancel: *const wantu_cancel,
    ) {
        let host = hosted(client)?;
        let policy = Policy::parse(required_str(policy_json, "policy_json")?)?;
        let local_dir = required_str(local_dir, "local_dir")?;
        if local_dir.is_empty() {
            return Err(crate::Error::invalid("`local_dir` is empty; pass a folder"));
        }
        let local_dir = PathBuf::from(local_dir);
        let remote_dir = optional_str(remote_dir, "remote_dir")?.unwrap_or("/").to_owned();
        let options = BatchOptions::from_json(optional_str(options_json, "options_json")?)?;
        let cancel = optional_cancel(cancel)?;
        let (client, user_data) = (host.client.clone(), SendPtr(user_data));
        Ok(Job::thread(&host, move |ctx| {
            let cancel = ctx.cancel(cancel);
            text_answer(ctx.reporting(progress, user_data.get()).with(|callback| {
                batch::upload_dir(
                    &client,
                    &policy,
                    &local_dir,
                    &remote_dir,
                    &options,
                    callback,
                    None,
                    cancel.as_ref(),
                )
            }))
        }))
    }
}

network_call! {
    /// Uploads a list of files and buffers in one call, under one scheduler.
    ///
    /// `jobs_json` is a JSON array of objects, each with either `path` (a local
    /// file) or `content_base64` (the bytes), and optionally `dir`, `name`
    /// (default: the file's own name; required for bytes unless the policy
    /// names files), `meta` and `var` (objects, as `wantu_upload_file`'s
    /// `meta_json` / `var_json`). A malformed job is an `InvalidArgument`
    /// error naming it (`jobs_json[3]`) before anything is sent. Options,
    /// progress, cancel and the answer are as `wantu_upload_dir`; each result
    /// also has the job's `index`, and `path` is the job's path (or `#index`
    /// for bytes).
    ///
    /// # Safety
    /// As `wantu_transfer_file`.
    fn wantu_transfer_batch / wantu_transfer_batch_async(
        client: *const wantu_client,
        policy_json: *const c_char,
        jobs_json: *const c_char,
        options_json: *const c_char,
        progress: wantu_progress_fn,
        user_data: *mut c_void,
        cancel: *const wantu_cancel,
    ) {
        let host = hosted(client)?;
        let policy = Policy::parse(required_str(policy_json, "policy_json")?)?;
        let jobs = batch::parse_jobs(required_str(jobs_json, "jobs_json")?)?;
        let options = BatchOptions::from_json(optional_str(options_json, "options_json")?)?;
        let cancel = optional_cancel(cancel)?;
        let (client, user_data) = (host.client.clone(), SendPtr(user_data));
        Ok(Job::thread(&host, move |ctx| {
            let cancel = ctx.cancel(cancel);
            text_answer(ctx.reporting(progress, user_data.get()).with(|callback| {
                batch::upload_batch(&client, &policy, jobs, &options, callback, None, cancel.as_ref())
            }))
        }))
    }
}

/// A many-files answer (written as text by its engine), or its error.
fn text_answer(outcome: crate::Result<String>) -> String {
    outcome.unwrap_or_else(|e| crate::result::error(&e).to_string())
}
