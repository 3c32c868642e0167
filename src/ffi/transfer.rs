//! C surface of the one-call uploader (`crate::transfer`): three entry
//! points (file, memory, read callback) and the callback types. The cancel
//! handle they take lives in cancel.rs. No upload logic here.

use super::boundary::{byte_slice, hosted, in_callback, optional_str, required_str, wantu_client};
use super::cancel::optional_cancel;
pub use super::cancel::wantu_cancel;
use super::ops::{Form, Hosted, Job, SendPtr};
use crate::policy::Policy;
use crate::transfer::{self, CancelToken, Source, TransferOptions};
use crate::upload::Target;
use bytes::Bytes;
use std::ffi::{c_char, c_int, c_void};
use std::path::PathBuf;
use std::sync::Arc;

/// The `total` a progress callback receives while the length of a stream is
/// not known yet (`UINT64_MAX`). Once the stream's end has been read, the
/// real total is passed instead.
pub const WANTU_SIZE_UNKNOWN: u64 = 0xFFFF_FFFF_FFFF_FFFF;

/// Progress callback: `sent` bytes of `total` have gone out (`total` is
/// `WANTU_SIZE_UNKNOWN` while a stream's length is unknown).
///
/// Called on the thread that called the upload function, at least every
/// 100 ms and whenever another MiB went out, and once more with
/// `sent == total` when the upload succeeds. `sent` counts each byte of the
/// upload once: it never goes backwards and never exceeds `total`, even
/// when a part is retried (a retry adds only what goes beyond the earlier
/// attempt); parts skipped thanks to a checkpoint count as sent at the
/// start. Return 0 to continue, non-zero to cancel the upload. The callback
/// may call `wantu_cancel_trigger` and `wantu_string_free`; any other
/// libwantu call from inside it answers an error.
#[allow(non_camel_case_types)]
pub type wantu_progress_fn =
    Option<unsafe extern "C" fn(sent: u64, total: u64, user_data: *mut c_void) -> c_int>;

/// Read callback of `wantu_transfer_stream`: fill `buf` with up to `cap`
/// bytes and return how many were written; return 0 at the end of the
/// stream and a negative number on error (the upload then fails with an
/// `IoError` and is discarded on the server). Short reads are fine. Called
/// on the thread that called `wantu_transfer_stream`, one call at a time;
/// the same re-entry rule as for progress callbacks applies.
#[allow(non_camel_case_types)]
pub type wantu_read_fn =
    Option<unsafe extern "C" fn(buf: *mut u8, cap: usize, user_data: *mut c_void) -> isize>;

/// The arguments every entry point shares, checked and owned.
struct Common {
    host: Arc<Hosted>,
    policy: Policy,
    target: Target,
    options: TransferOptions,
    cancel: Option<CancelToken>,
}

#[allow(clippy::too_many_arguments)]
unsafe fn common(
    client: *const wantu_client,
    policy_json: *const c_char,
    dir: *const c_char,
    name: *const c_char,
    meta_json: *const c_char,
    var_json: *const c_char,
    options_json: *const c_char,
    cancel: *const wantu_cancel,
) -> crate::Result<Common> {
    let host = hosted(client)?;
    // SAFETY: each pointer is NULL or a NUL-terminated string that outlives the call (this
    // function's contract).
    let policy = Policy::parse(unsafe { required_str(policy_json, "policy_json") }?)?;
    let target = Target::new(
        // SAFETY: each pointer is NULL or a NUL-terminated string that outlives the call (this
        // function's contract).
        unsafe { optional_str(dir, "dir") }?,
        unsafe { optional_str(name, "name") }?,
        unsafe { optional_str(meta_json, "meta_json") }?,
        unsafe { optional_str(var_json, "var_json") }?,
    )?;
    // SAFETY: each pointer is NULL or a NUL-terminated string that outlives the call (this
    // function's contract).
    let options =
        TransferOptions::from_json(unsafe { optional_str(options_json, "options_json") }?)?;
    let cancel = optional_cancel(cancel)?;
    Ok(Common {
        host,
        policy,
        target,
        options,
        cancel,
    })
}

impl Common {
    /// The upload as a job: `source` is made on the thread that runs it,
    /// progress goes where the call's form sends it, and the cancel obeys
    /// the operation too.
    fn job(
        self,
        progress: wantu_progress_fn,
        user_data: *mut c_void,
        source: impl FnOnce() -> Owned + Send + 'static,
    ) -> Job {
        let user_data = SendPtr(user_data);
        let host = self.host.clone();
        Job::thread(&host, move |ctx| {
            let mut owned = source();
            let cancel = ctx.cancel(self.cancel.clone());
            let outcome = ctx.reporting(progress, user_data.get()).with(|callback| {
                transfer::upload(
                    &self.host.client,
                    &self.policy,
                    &self.target,
                    owned.source(),
                    &self.options,
                    callback,
                    cancel.as_ref(),
                )
            });
            outcome.to_json().to_string()
        })
    }
}

/// What an upload reads, owned by its job.
enum Owned {
    File(PathBuf),
    Memory(Bytes),
    Reader(CRead),
}

impl Owned {
    fn source(&mut self) -> Source<'_> {
        match self {
            Owned::File(p) => Source::File(p.clone()),
            Owned::Memory(b) => Source::Memory(b),
            Owned::Reader(r) => Source::Reader(r),
        }
    }
}

network_call! {
    /// Uploads a local file of any size in one call: one simple request up to
    /// the threshold, otherwise a multipart upload with parts sent in parallel.
    ///
    /// - `client`, `policy_json`, `file_path`: required.
    /// - `dir`, `name`, `meta_json`, `var_json`: as `wantu_upload_file` (the
    ///   policy's `dir`/`name` win; NULL when the policy names them).
    /// - `options_json`: NULL for the defaults, or a JSON object with any of
    ///   `part_size` (bytes, 102400…67108864; default 8 MiB, grown in whole MiB
    ///   so that no upload needs more than 10000 parts), `concurrency` (parts in
    ///   flight, 1…64, default 4), `multipart_threshold` (bytes; default the
    ///   part size), `integrity` (default true: each part's MD5 sent and its
    ///   eTag checked, the whole file's MD5 sent at completion), `max_attempts`
    ///   (per request, 1…100, default 10), `retry_budget_ms` (total wait between
    ///   retries per upload, default 120000), `backoff_base_ms` (default 100),
    ///   `backoff_max_ms` (default 10000), `checkpoint_path` (resume file,
    ///   file uploads only). Unknown keys are refused.
    /// - `progress`, `user_data`: optional progress callback (NULL for none),
    ///   see `wantu_progress_fn`; `user_data` is passed to it untouched.
    /// - `cancel`: optional handle from `wantu_cancel_new` (NULL for none).
    ///
    /// Memory stays near (concurrency + 1) × part size whatever the file's
    /// size: parts are read by offset only when about to be sent. Connection
    /// errors, timeouts, 429 and 5xx are retried with exponential backoff and
    /// full jitter; other 4xx are final. A file that changes while it is
    /// uploaded ends in `FileChanged` and is never completed. With
    /// `checkpoint_path`, progress is recorded after every part (one line
    /// appended; a torn last line is ignored); running the same upload again
    /// with the same checkpoint skips the finished parts; a checkpoint for a
    /// different file, size, mtime, target or part size, or whose upload the
    /// server no longer knows, is discarded and the upload starts over;
    /// success removes it. An unwritable checkpoint path is an error before
    /// anything is sent. A failed upload without a checkpoint is cancelled on
    /// the server; with one it is kept there for the resume.
    ///
    /// Answers the server's result JSON plus `multipart`, `parts`, `part_size`,
    /// `uploaded_parts`, `resumed_parts`, `attempts` (requests made, retries
    /// included), `retries`, `checkpoint` (`"none"`, `"new"`, `"resumed"` or
    /// `"stale"`) and `md5` (with integrity on). Errors carry the same figures
    /// and, once the upload began, `id` and `upload_id`. A cancel answers
    /// `{"code":0,"error":"Cancelled",…}` after the upload was cancelled on the
    /// server; a cancel that came while blockComplete was in flight says that
    /// the file may or may not be stored (check with `wantu_file_get`).
    ///
    /// # Safety
    /// `client` and `cancel` are only looked up, never dereferenced (a freed
    /// or unknown handle is an `InvalidArgument` error); string arguments are
    /// NULL or NUL-terminated; `progress` is NULL or a valid function for the whole
    /// call. Bad arguments answer an `InvalidArgument` JSON error, never a
    /// crash. Blocks until the upload ends; callbacks run on this thread. Any
    /// number of threads may upload with one client at once. The result is
    /// never NULL; free it with `wantu_string_free`.
    fn wantu_transfer_file / wantu_transfer_file_async(
        client: *const wantu_client,
        policy_json: *const c_char,
        dir: *const c_char,
        name: *const c_char,
        file_path: *const c_char,
        meta_json: *const c_char,
        var_json: *const c_char,
        options_json: *const c_char,
        progress: wantu_progress_fn,
        user_data: *mut c_void,
        cancel: *const wantu_cancel,
    ) {
        let c = common(
            client,
            policy_json,
            dir,
            name,
            meta_json,
            var_json,
            options_json,
            cancel,
        )?;
        let path = PathBuf::from(required_str(file_path, "file_path")?);
        Ok(c.job(progress, user_data, move || Owned::File(path)))
    }
}

network_call! {
    /// Uploads `content_len` bytes from memory in one call, like
    /// `wantu_transfer_file` (same arguments, options, callbacks and answer;
    /// `checkpoint_path` is refused). `(NULL, 0)` is an empty file. The buffer
    /// is only read during the call, part by part, and must not change until
    /// the call returns. The threshold for a simple request is at most the part
    /// size here.
    ///
    /// # Safety
    /// As `wantu_transfer_file`; `content` is NULL or points to `content_len`
    /// readable bytes.
    fn wantu_transfer_content / wantu_transfer_content_async(
        client: *const wantu_client,
        policy_json: *const c_char,
        dir: *const c_char,
        name: *const c_char,
        content: *const u8,
        content_len: usize,
        meta_json: *const c_char,
        var_json: *const c_char,
        options_json: *const c_char,
        progress: wantu_progress_fn,
        user_data: *mut c_void,
        cancel: *const wantu_cancel,
    ) |form| {
        let c = common(
            client,
            policy_json,
            dir,
            name,
            meta_json,
            var_json,
            options_json,
            cancel,
        )?;
        let data = byte_slice(content, content_len, "content")?;
        let bytes = match form {
            // SAFETY: the blocking form runs its job to the end before it
            // returns, so the buffer of the caller outlives every use of it.
            Form::Blocking => Bytes::from_static(unsafe { std::mem::transmute::<&[u8], &'static [u8]>(data) }),
            // The non-blocking form returns at once: it keeps a copy.
            Form::Async => Bytes::copy_from_slice(data),
        };
        Ok(c.job(progress, user_data, move || Owned::Memory(bytes)))
    }
}

network_call! {
    /// Uploads a stream of unknown length, read with `read(buf, cap,
    /// read_data)` on this thread until it returns 0 (see `wantu_read_fn`).
    /// Same options, callbacks and answer as `wantu_transfer_file`
    /// (`checkpoint_path` is refused). A stream that ends within the part size
    /// (and the threshold) goes in one simple request; a longer one is sent in
    /// parts of `part_size` (default 8 MiB, so up to 10000 × 8 MiB = 78 GiB;
    /// set `part_size` up to 64 MiB for longer streams) while later parts are
    /// being read. At most `concurrency + 1` part buffers exist at once: the
    /// reader waits while they are all in use. The progress `total` is
    /// `WANTU_SIZE_UNKNOWN` until the end of the stream has been read.
    ///
    /// # Safety
    /// As `wantu_transfer_file`; `read` is a valid function for the whole call
    /// (NULL answers an `InvalidArgument` error).
    fn wantu_transfer_stream / wantu_transfer_stream_async(
        client: *const wantu_client,
        policy_json: *const c_char,
        dir: *const c_char,
        name: *const c_char,
        read: wantu_read_fn,
        read_data: *mut c_void,
        meta_json: *const c_char,
        var_json: *const c_char,
        options_json: *const c_char,
        progress: wantu_progress_fn,
        user_data: *mut c_void,
        cancel: *const wantu_cancel,
    ) {
        let c = common(
            client,
            policy_json,
            dir,
            name,
            meta_json,
            var_json,
            options_json,
            cancel,
        )?;
        let Some(read) = read else {
            return Err(crate::Error::invalid(
                "`read` is NULL; pass a read callback",
            ));
        };
        let reader = CRead {
            read,
            data: SendPtr(read_data),
        };
        Ok(c.job(progress, user_data, move || Owned::Reader(reader)))
    }
}

/// The caller's read callback as a `std::io::Read`.
struct CRead {
    read: unsafe extern "C" fn(*mut u8, usize, *mut c_void) -> isize,
    data: SendPtr,
}

impl std::io::Read for CRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let (ptr, cap) = (buf.as_mut_ptr(), buf.len());
        // SAFETY: the caller promised a valid callback; `buf` is writable.
        let n = in_callback(|| unsafe { (self.read)(ptr, cap, self.data.0) });
        if n < 0 {
            return Err(std::io::Error::other(format!(
                "the read callback answered {n} (an error)"
            )));
        }
        if n as usize > cap {
            return Err(std::io::Error::other(format!(
                "the read callback answered {n} bytes but only {cap} fit in the buffer"
            )));
        }
        Ok(n as usize)
    }
}
