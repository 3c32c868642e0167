//! C surface of the service's media processing and scanning: persistent
//! processing (`pts`), transcoding, snapshots and content scans. The rules
//! of `manage.rs` hold here too (`ns`, `dir`, UTF-8, JSON answers).

use super::boundary::{hosted, optional_str, required_str, wantu_client};
use super::manage::{file_args, file_args_named};
use super::ops::Job;
use crate::manage::{parse_feedback, EncodeOptions, ScanTargets};
use std::ffi::c_char;

network_call! {
    /// Adds a persistent processing task `fops` (required, non-empty) on the
    /// file `dir`/`name`; `notify_url` (NULL: none) is called when it is done;
    /// `force` non-zero redoes work already done. The real service answers
    /// `{"code":200,"persistent_id":…}`; wantu-server answers 501
    /// `UnsupportedOperation` after validating the request.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_pts_add / wantu_pts_add_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
        name: *const c_char,
        fops: *const c_char,
        notify_url: *const c_char,
        force: i32,
    ) {
        let (h, f) = (hosted(client)?, file_args(ns, dir, name)?);
        let c = h.client.clone();
        let fops = required_str(fops, "fops")?.to_owned();
        let notify_url = optional_str(notify_url, "notify_url")?.map(str::to_owned);
        Ok(Job::task(&h, async move {
            c.pts_add(f.as_ref(), &fops, notify_url.as_deref(), force != 0)
                .await
        }))
    }
}

network_call! {
    /// Reads the state of the persistent task `persistent_id` (required). The
    /// real service answers the task object; wantu-server answers 501
    /// `UnsupportedOperation`.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_pts_get / wantu_pts_get_async(
        client: *const wantu_client,
        persistent_id: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let id = required_str(persistent_id, "persistent_id")?.to_owned();
        Ok(Job::task(&h, async move { c.pts_get(&id).await }))
    }
}

network_call! {
    /// Transcodes the file `input_dir`/`input_name` into
    /// `output_dir`/`output_name` (both in namespace `ns`) with the template
    /// `encode_template`; all of these are required. `options_json` is NULL or
    /// a JSON object with any of: `use_preset` (bool or 0/1: the template is a
    /// preset), `force` (bool or 0/1), `watermark` (bool or 0/1),
    /// `watermark_template` (string), `notify_url` (string), `seek` and
    /// `duration` (numbers, passed through); unknown keys are refused. The real
    /// service answers `{"code":200,"task_id":…}`; wantu-server answers 501
    /// `UnsupportedOperation` after validating the request (the input must
    /// exist).
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_media_encode / wantu_media_encode_async(
        client: *const wantu_client,
        ns: *const c_char,
        input_dir: *const c_char,
        input_name: *const c_char,
        output_dir: *const c_char,
        output_name: *const c_char,
        encode_template: *const c_char,
        options_json: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let input = file_args_named(ns, (input_dir, "input_dir"), (input_name, "input_name"))?;
        let output = file_args_named(ns, (output_dir, "output_dir"), (output_name, "output_name"))?;
        let template = required_str(encode_template, "encode_template")?.to_owned();
        let options = EncodeOptions::from_json(optional_str(options_json, "options_json")?)?;
        Ok(Job::task(&h, async move {
            c.media_encode(input.as_ref(), output.as_ref(), &template, &options)
                .await
        }))
    }
}

network_call! {
    /// Reads the state of the transcoding task `task_id` (required). The real
    /// service answers the task object; wantu-server answers 501
    /// `UnsupportedOperation`.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_media_encode_result / wantu_media_encode_result_async(
        client: *const wantu_client,
        task_id: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let id = required_str(task_id, "task_id")?.to_owned();
        Ok(Job::task(&h, async move { c.media_encode_result(&id).await }))
    }
}

network_call! {
    /// Takes a still image of the video `input_dir`/`input_name` at `time_ms`
    /// milliseconds (0 or more) into `output_dir`/`output_name`, all in
    /// namespace `ns` (all required); `notify_url` may be NULL. The real
    /// service answers `{"code":200,"task_id":…}`; wantu-server answers 501
    /// `UnsupportedOperation` after validating the request.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_snapshot / wantu_snapshot_async(
        client: *const wantu_client,
        ns: *const c_char,
        input_dir: *const c_char,
        input_name: *const c_char,
        output_dir: *const c_char,
        output_name: *const c_char,
        time_ms: i64,
        notify_url: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let input = file_args_named(ns, (input_dir, "input_dir"), (input_name, "input_name"))?;
        let output = file_args_named(ns, (output_dir, "output_dir"), (output_name, "output_name"))?;
        let notify_url = optional_str(notify_url, "notify_url")?.map(str::to_owned);
        Ok(Job::task(&h, async move {
            c.snapshot(input.as_ref(), output.as_ref(), time_ms, notify_url.as_deref())
                .await
        }))
    }
}

network_call! {
    /// Reads the state of the snapshot task `task_id` (required). The real
    /// service answers the task object; wantu-server answers 501
    /// `UnsupportedOperation`.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_snapshot_result / wantu_snapshot_result_async(
        client: *const wantu_client,
        task_id: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let id = required_str(task_id, "task_id")?.to_owned();
        Ok(Job::task(&h, async move { c.snapshot_result(&id).await }))
    }
}

unsafe fn scan_targets(
    ns: *const c_char,
    files_json: *const c_char,
    urls_json: *const c_char,
) -> crate::Result<ScanTargets> {
    // SAFETY: each pointer is NULL or a NUL-terminated string that outlives the call (this
    // function's contract).
    let files = unsafe { optional_str(files_json, "files_json") }?;
    let urls = unsafe { optional_str(urls_json, "urls_json") }?;
    // `ns` only names the namespace of stored files; URLs need none.
    let ns = match files {
        // SAFETY: each pointer is NULL or a NUL-terminated string that outlives the call (this
        // function's contract).
        Some(_) => unsafe { required_str(ns, "ns") }?,
        None => unsafe { optional_str(ns, "ns") }?.unwrap_or(""),
    };
    ScanTargets::parse(ns, files, urls)
}

network_call! {
    /// Scans images for pornography. Give exactly one of `files_json` — a JSON
    /// array of stored files in namespace `ns`, each a `"/dir/name"` string or
    /// a `{"dir":…,"name":…}` object — and `urls_json` — a JSON array of URL
    /// strings; the other must be NULL (`ns` may be NULL with URLs). The real
    /// service answers `{"code":200,"result":[…]}`; wantu-server answers 501
    /// `UnsupportedOperation` after validating the request (stored files must
    /// exist).
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_scan_porn / wantu_scan_porn_async(
        client: *const wantu_client,
        ns: *const c_char,
        files_json: *const c_char,
        urls_json: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let targets = scan_targets(ns, files_json, urls_json)?;
        Ok(Job::task(&h, async move { c.scan_porn(&targets).await }))
    }
}

network_call! {
    /// Scans images for advertising; arguments and answers as
    /// `wantu_scan_porn`.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_scan_advertising / wantu_scan_advertising_async(
        client: *const wantu_client,
        ns: *const c_char,
        files_json: *const c_char,
        urls_json: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let targets = scan_targets(ns, files_json, urls_json)?;
        Ok(Job::task(&h, async move { c.scan_advertising(&targets).await }))
    }
}

network_call! {
    /// Reports scan results the caller judges wrong. `feedback_json` (required)
    /// is a JSON array of objects (or one object); each is sent as one
    /// `feedback` field in the service's form, e.g.
    /// `{"resourceId":…,"label":0}` (see `wantu_resource_id`) or
    /// `{"url":…,"label":1}`. The real service answers `{"code":200,…}`;
    /// wantu-server answers 501 `UnsupportedOperation` after validating the
    /// request.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_scan_feedback / wantu_scan_feedback_async(
        client: *const wantu_client,
        feedback_json: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let items = parse_feedback(required_str(feedback_json, "feedback_json")?)?;
        Ok(Job::task(&h, async move { c.scan_feedback(&items).await }))
    }
}
