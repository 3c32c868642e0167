//! C surface of downloads to the caller (`crate::download::stream`): a
//! stored file, or a range of it, to a write callback or into a buffer the
//! library owns. No download logic here.

use super::boundary::{hosted, in_callback, optional_str, required_str, wantu_client};
use super::cancel::{optional_cancel, wantu_cancel};
use super::ops::{Job, SendPtr};
use super::transfer::wantu_progress_fn;
use crate::download::stream::{self, ByteRange, Consumer, StreamOptions};
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};
use std::sync::Mutex;

/// The `length` of a range that reads to the end of the file
/// (`UINT64_MAX`). `offset` 0 with `WANTU_TO_END` is the whole file, whose
/// MD5 is checked.
pub const WANTU_TO_END: u64 = 0xFFFF_FFFF_FFFF_FFFF;

/// Write callback of `wantu_download_stream`: take the `len` bytes at
/// `data` (the next bytes of the download, in file order; `len` > 0) and
/// return 0 to go on, or non-zero to stop the download (it then answers
/// an `IoError` naming the value returned). `data` is valid only during
/// the call: copy what you keep.
///
/// Called on the thread that called `wantu_download_stream` (for
/// `wantu_download_stream_async`: on that call's library thread), one call
/// at a time, between progress callbacks; never after the call answered. The
/// re-entry rule of progress callbacks applies: inside it only
/// `wantu_cancel_trigger` and `wantu_string_free` may be called, any other
/// libwantu call answers an error. While the callback blocks, at most the
/// read-ahead window (32 MiB) is fetched ahead, then the requests wait.
#[allow(non_camel_case_types)]
pub type wantu_write_fn =
    Option<unsafe extern "C" fn(data: *const u8, len: usize, user_data: *mut c_void) -> c_int>;

/// The byte range of the two calls: `length` `WANTU_TO_END` reads to the end.
fn range(offset: u64, length: u64) -> ByteRange {
    ByteRange {
        offset,
        length: (length != WANTU_TO_END).then_some(length),
    }
}

/// The C write callback as a consumer.
struct Writer {
    write: unsafe extern "C" fn(*const u8, usize, *mut c_void) -> c_int,
    user_data: SendPtr,
    delivered: u64,
}

impl Consumer for Writer {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let (f, user_data) = (self.write, self.user_data.0);
        // SAFETY: the caller promised a valid callback for the call's duration.
        let rc = in_callback(|| unsafe { f(bytes.as_ptr(), bytes.len(), user_data) });
        if rc != 0 {
            return Err(Error::Io(format!(
                "the write callback returned {rc} after {} bytes; the download was stopped",
                self.delivered
            )));
        }
        self.delivered += bytes.len() as u64;
        Ok(())
    }
}

network_call! {
    /// Downloads the stored file `dir`/`name` of namespace `ns` — or `length`
    /// bytes of it from `offset` — into the caller's `write` callback, in file
    /// order, so that a pipe or a socket can take the bytes as they come.
    ///
    /// Ranges of `part_size` are fetched in parallel behind a read-ahead
    /// window of 32 MiB (at most `concurrency` ranges), and handed to `write`
    /// in order: memory stays bounded whatever the file's size.
    ///
    /// - `client`, `ns`, `name`, `write`: required. `dir`: NULL or `""` is the
    ///   root folder.
    /// - `offset`, `length`: the bytes to read; `0, WANTU_TO_END` is the whole
    ///   file. A range that does not lie inside the file (past its end, or
    ///   `offset + length` overflowing) answers `InvalidArgument` naming the
    ///   file's size; `length` 0 reads nothing.
    /// - `options_json`: NULL for the defaults, or an object with any of
    ///   `concurrency` (ranges in flight, 1…256, default 8), `part_size`
    ///   (bytes per range, 102400…67108864, default 4 MiB), `max_attempts`
    ///   (1…100, default 10), `retry_budget_ms` (120000), `backoff_base_ms`
    ///   (100), `backoff_max_ms` (10000). Unknown keys are refused.
    /// - `write`, `write_data`: see `wantu_write_fn`.
    /// - `progress`, `user_data`: optional, see `wantu_progress_fn`: bytes
    ///   delivered to `write` of the range's length.
    /// - `cancel`: optional handle from `wantu_cancel_new`.
    ///
    /// Integrity: for the whole file, the MD5 of the bytes delivered is checked
    /// against the stored one as they pass; a mismatch ends the call with an
    /// `InvalidResponse` error *after* the bytes went to `write`. Bytes
    /// received are unverified until the call answers 200, exactly as with
    /// `curl URL | md5sum`: a consumer that must not act on damaged bytes
    /// waits for the answer. A range cannot be MD5-checked (the stored MD5 is
    /// of the whole file; `md5_checked` says which); every answer's
    /// `Content-Range` and MD5 `ETag` are checked, so a file replaced on the
    /// server during the call is an error.
    ///
    /// Answers `{"code":200,"size","md5","url","offset","length",
    /// "md5_checked","attempts","retries"}` (`size` and `md5` of the stored
    /// file); an error carries the same fields once the metadata arrived.
    ///
    /// # Safety
    /// `client` and `cancel` are only looked up; strings are NULL or
    /// NUL-terminated; `write` and `progress` are NULL or valid for the whole
    /// call (for the non-blocking form: until its answer is delivered). The
    /// blocking form blocks until done and both callbacks run on the calling
    /// thread; the non-blocking form runs them on its library thread
    /// (docs/async.md). The result is never NULL; free it with
    /// `wantu_string_free`.
    fn wantu_download_stream / wantu_download_stream_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
        name: *const c_char,
        offset: u64,
        length: u64,
        options_json: *const c_char,
        write: wantu_write_fn,
        write_data: *mut c_void,
        progress: wantu_progress_fn,
        user_data: *mut c_void,
        cancel: *const wantu_cancel,
    ) {
        let host = hosted(client)?;
        let ns = required_str(ns, "ns")?.to_owned();
        let dir = optional_str(dir, "dir")?.unwrap_or("/").to_owned();
        let name = required_str(name, "name")?.to_owned();
        let opts = StreamOptions::from_json(optional_str(options_json, "options_json")?)?;
        if opts.max_bytes.is_some() {
            return Err(Error::invalid(
                "option `max_bytes` is for downloads into memory (wantu_download_memory) only",
            ));
        }
        let write = write.ok_or_else(|| {
            Error::invalid("`write` is NULL; pass a function that takes the bytes")
        })?;
        let cancel = optional_cancel(cancel)?;
        let mut writer = Writer {
            write,
            user_data: SendPtr(write_data),
            delivered: 0,
        };
        let (client, user_data) = (host.client.clone(), SendPtr(user_data));
        Ok(Job::thread(&host, move |ctx| {
            let cancel = ctx.cancel(cancel);
            let range = range(offset, length);
            ctx.reporting(progress, user_data.get())
                .with(|cb| {
                    stream::download_to(
                        &client,
                        &ns,
                        &dir,
                        &name,
                        range,
                        &opts,
                        &mut writer,
                        cb,
                        cancel.as_ref(),
                    )
                })
                .to_string()
        }))
    }
}

network_call! {
    /// Downloads the stored file `dir`/`name` of namespace `ns` — or `length`
    /// bytes of it from `offset` — into a buffer the library allocates.
    ///
    /// Arguments, options, checks and answer as `wantu_download_stream`, plus
    /// the option `max_bytes` (default 67108864 = 64 MiB): a file or range
    /// larger than it is refused with `InvalidArgument` before anything is
    /// fetched. The whole file is MD5-checked before the call answers, so the
    /// bytes of a 200 answer are verified (a range's are not: `md5_checked`).
    ///
    /// - `out_data`, `out_len`: required. On a 200 answer `*out_data` is the
    ///   buffer (NULL when it holds 0 bytes) and `*out_len` its length; free it
    ///   with `wantu_bytes_free`. On an error they are NULL and 0.
    ///
    /// # Safety
    /// As `wantu_download_stream`; `out_data` and `out_len` are NULL or
    /// writable, and stay writable until the answer is delivered (for the
    /// non-blocking form: until its completion, cancelled or not; they are
    /// set before the answer comes).
    fn wantu_download_memory / wantu_download_memory_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
        name: *const c_char,
        offset: u64,
        length: u64,
        options_json: *const c_char,
        progress: wantu_progress_fn,
        user_data: *mut c_void,
        cancel: *const wantu_cancel,
        out_data: *mut *mut u8,
        out_len: *mut usize,
    ) {
        if out_data.is_null() || out_len.is_null() {
            return Err(Error::invalid(
                "`out_data` or `out_len` is NULL; pass where to store the buffer and its length",
            ));
        }
        *out_data = std::ptr::null_mut();
        *out_len = 0;
        let host = hosted(client)?;
        let ns = required_str(ns, "ns")?.to_owned();
        let dir = optional_str(dir, "dir")?.unwrap_or("/").to_owned();
        let name = required_str(name, "name")?.to_owned();
        let opts = StreamOptions::from_json(optional_str(options_json, "options_json")?)?;
        let cancel = optional_cancel(cancel)?;
        let (client, user_data) = (host.client.clone(), SendPtr(user_data));
        let out = (SendPtr(out_data.cast()), SendPtr(out_len.cast()));
        Ok(Job::thread(&host, move |ctx| {
            let cancel = ctx.cancel(cancel);
            let range = range(offset, length);
            let (answer, bytes) = ctx.reporting(progress, user_data.get()).with(|cb| {
                stream::download_to_memory(
                    &client,
                    &ns,
                    &dir,
                    &name,
                    range,
                    &opts,
                    cb,
                    cancel.as_ref(),
                )
            });
            if let Some(bytes) = bytes.filter(|b| !b.is_empty()) {
                let (data, len) = (out.0.get().cast::<*mut u8>(), out.1.get().cast::<usize>());
                // SAFETY: the caller promised both stay writable until the
                // answer is delivered.
                unsafe {
                    *len = bytes.len();
                    *data = into_raw(bytes);
                }
            }
            answer.to_string()
        }))
    }
}

/// Frees a buffer from `wantu_download_memory`. NULL, and a pointer that
/// is not a live buffer of the library (freed already, or never given
/// out), are ignored.
///
/// # Safety
/// None beyond passing a pointer: it is only looked up, never dereferenced
/// unless the library gave it out.
#[no_mangle]
pub unsafe extern "C" fn wantu_bytes_free(data: *mut u8) {
    if data.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        let mut map = BUFFERS.lock().unwrap_or_else(|p| p.into_inner());
        let freed = map.as_mut().and_then(|m| m.remove(&(data as usize)));
        // The map goes with its last buffer: nothing stays allocated.
        if map.as_ref().is_some_and(HashMap::is_empty) {
            *map = None;
        }
        drop(freed);
    });
}

/// The buffers given out and not yet freed, by address: the free call
/// needs no length, and a double or wrong free does no harm.
static BUFFERS: Mutex<Option<HashMap<usize, Box<[u8]>>>> = Mutex::new(None);

fn into_raw(bytes: Vec<u8>) -> *mut u8 {
    // The buffer was reserved at its exact size, so this does not copy.
    let mut boxed = bytes.into_boxed_slice();
    let at = boxed.as_mut_ptr();
    BUFFERS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(at as usize, boxed);
    at
}
