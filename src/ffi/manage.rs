//! C surface of the management API (docs/protocol.md §6).
//!
//! Shared rules, stated once here and in each function's comment: `ns` is
//! the namespace (not named `namespace`, a C++ keyword); `dir` is required
//! and normalised (`"test"`, `"/test/"` and `"/test"` are one folder, `""`
//! and `"/"` the root); every string is NUL-terminated UTF-8; the answer is
//! a JSON document the caller frees with `wantu_string_free`, never NULL.

use super::boundary::{hosted, json_call, optional_str, required_str, wantu_client};
use super::ops::Job;
use crate::manage::{dir_rid, file_rid, parse_feedback, EncodeOptions, FileRef, ScanTargets};
use std::ffi::c_char;

/// A stored file named by owned copies of `(ns, dir, name)`, for a call
/// that runs after its arguments are gone.
struct OwnedFile {
    ns: String,
    dir: String,
    name: String,
}

impl OwnedFile {
    fn as_ref(&self) -> FileRef<'_> {
        FileRef {
            ns: &self.ns,
            dir: &self.dir,
            name: &self.name,
        }
    }
}

/// Reads `(ns, dir, name)` C strings: all three required.
unsafe fn file_args(
    ns: *const c_char,
    dir: *const c_char,
    name: *const c_char,
) -> crate::Result<OwnedFile> {
    file_args_named(ns, (dir, "dir"), (name, "name"))
}

/// `file_args` for a call whose folder and name arguments have other
/// names (`input_dir`, `output_name`…): errors name the argument as the
/// header spells it.
unsafe fn file_args_named(
    ns: *const c_char,
    dir: (*const c_char, &str),
    name: (*const c_char, &str),
) -> crate::Result<OwnedFile> {
    Ok(OwnedFile {
        ns: required_str(ns, "ns")?.to_owned(),
        dir: required_str(dir.0, dir.1)?.to_owned(),
        name: required_str(name.0, name.1)?.to_owned(),
    })
}

network_call! {
    /// Asks whether a file exists: `{"code":200,"exist":true|false,…}` (a
    /// missing file is not an error). `client`, `ns`, `dir`, `name` are
    /// required.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_file_exists / wantu_file_exists_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
        name: *const c_char,
    ) {
        let (h, f) = (hosted(client)?, file_args(ns, dir, name)?);
        let c = h.client.clone();
        Ok(Job::task(&h, async move {
            c.file_exists(&f.ns, &f.dir, &f.name).await
        }))
    }
}

network_call! {
    /// Reads a file's metadata: `{"code":200,"namespace","dir","name","path",
    /// "url","size","md5","e_tag","mime_type","is_image","create_time",
    /// "modify_time","meta":{…},…}` (times in ms); 404 `FileNotExist` when it
    /// does not exist. Arguments as `wantu_file_exists`.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_file_get / wantu_file_get_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
        name: *const c_char,
    ) {
        let (h, f) = (hosted(client)?, file_args(ns, dir, name)?);
        let c = h.client.clone();
        Ok(Job::task(&h, async move {
            c.file_get(&f.ns, &f.dir, &f.name).await
        }))
    }
}

network_call! {
    /// Deletes a file: `{"code":200,…}`; 404 `FileNotExist` when it does not
    /// exist. Arguments as `wantu_file_exists`.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_file_delete / wantu_file_delete_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
        name: *const c_char,
    ) {
        let (h, f) = (hosted(client)?, file_args(ns, dir, name)?);
        let c = h.client.clone();
        Ok(Job::task(&h, async move {
            c.file_delete(&f.ns, &f.dir, &f.name).await
        }))
    }
}

network_call! {
    /// Renames or moves the file `dir`/`name` to `new_dir`/`new_name` in the
    /// same namespace. `new_dir` NULL keeps the folder; `new_name` is required.
    /// Answers the file object at its new place (as `wantu_file_get`); 404
    /// `FileNotExist` when the source does not exist. Other arguments as
    /// `wantu_file_exists`.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_file_rename / wantu_file_rename_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
        name: *const c_char,
        new_dir: *const c_char,
        new_name: *const c_char,
    ) {
        let (h, f) = (hosted(client)?, file_args(ns, dir, name)?);
        let c = h.client.clone();
        let new_dir = optional_str(new_dir, "new_dir")?.map(str::to_owned);
        let new_name = required_str(new_name, "new_name")?.to_owned();
        Ok(Job::task(&h, async move {
            c.file_rename(&f.ns, &f.dir, &f.name, new_dir.as_deref(), &new_name)
                .await
        }))
    }
}

network_call! {
    /// Lists one page of the files directly in `dir`, sorted by name:
    /// `{"code":200,"current_page","page_size","total_count","total_page",
    /// "result":[file objects as wantu_file_get],…}`. `page` counts from 1;
    /// `page_size` is 1…100; other values give an `InvalidArgument` error naming
    /// the argument. `client`, `ns`, `dir` are required.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_file_list / wantu_file_list_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
        page: i64,
        page_size: i64,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let ns = required_str(ns, "ns")?.to_owned();
        let dir = required_str(dir, "dir")?.to_owned();
        Ok(Job::task(&h, async move { c.file_list(&ns, &dir, page, page_size).await }))
    }
}

network_call! {
    /// Lists every file directly in `dir`, walking all pages (100 items a
    /// request), up to `max_items` (1 or more):
    /// `{"code":200,"total_count":N,"result":[…],"truncated":bool,
    /// "pages_read":k,"message","request_id"}`. `total_count` is the count the
    /// server reported; `truncated` is true when more than `max_items` files
    /// exist and only the first `max_items` (by name) are in `result`. A failing
    /// page makes the whole call answer that error. Arguments as
    /// `wantu_file_list`.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_file_list_all / wantu_file_list_all_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
        max_items: i64,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let ns = required_str(ns, "ns")?.to_owned();
        let dir = required_str(dir, "dir")?.to_owned();
        Ok(Job::task(&h, async move { c.file_list_all(&ns, &dir, max_items).await }))
    }
}

network_call! {
    /// Creates the folder `dir` and any missing parents: `{"code":200,…}`; 409
    /// `NameDuplicated` when it exists. `client`, `ns`, `dir` are required.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_dir_create / wantu_dir_create_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let ns = required_str(ns, "ns")?.to_owned();
        let dir = required_str(dir, "dir")?.to_owned();
        Ok(Job::task(&h, async move { c.dir_create(&ns, &dir).await }))
    }
}

network_call! {
    /// Asks whether a folder exists: `{"code":200,"exist":true|false,…}`.
    /// Arguments as `wantu_dir_create`.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_dir_exists / wantu_dir_exists_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let ns = required_str(ns, "ns")?.to_owned();
        let dir = required_str(dir, "dir")?.to_owned();
        Ok(Job::task(&h, async move { c.dir_exists(&ns, &dir).await }))
    }
}

network_call! {
    /// Deletes an empty folder: `{"code":200,…}`; 409 `DirNotEmpty` when it
    /// holds files or folders, 404 `DirNotExist` when there is none. Arguments
    /// as `wantu_dir_create`.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_dir_delete / wantu_dir_delete_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let ns = required_str(ns, "ns")?.to_owned();
        let dir = required_str(dir, "dir")?.to_owned();
        Ok(Job::task(&h, async move { c.dir_delete(&ns, &dir).await }))
    }
}

network_call! {
    /// Lists one page of the folders directly in `dir`, sorted by name; items
    /// are `{"namespace","dir","name","path","create_time","modify_time"}`.
    /// Paging and arguments as `wantu_file_list`.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_dir_list / wantu_dir_list_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
        page: i64,
        page_size: i64,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let ns = required_str(ns, "ns")?.to_owned();
        let dir = required_str(dir, "dir")?.to_owned();
        Ok(Job::task(&h, async move { c.dir_list(&ns, &dir, page, page_size).await }))
    }
}

network_call! {
    /// Lists every folder directly in `dir`, walking all pages, up to
    /// `max_items`; the answer has the shape of `wantu_file_list_all`.
    ///
    /// # Safety
    /// Each string argument is NULL or points to a NUL-terminated string.
    /// `client` is only looked up, never dereferenced. A NULL, freed or unknown
    /// `client`, a NULL required argument or invalid UTF-8 answers an
    /// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
    /// The result is never NULL; free it with `wantu_string_free`.
    fn wantu_dir_list_all / wantu_dir_list_all_async(
        client: *const wantu_client,
        ns: *const c_char,
        dir: *const c_char,
        max_items: i64,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let ns = required_str(ns, "ns")?.to_owned();
        let dir = required_str(dir, "dir")?.to_owned();
        Ok(Job::task(&h, async move { c.dir_list_all(&ns, &dir, max_items).await }))
    }
}

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
    let files = optional_str(files_json, "files_json")?;
    let urls = optional_str(urls_json, "urls_json")?;
    // `ns` only names the namespace of stored files; URLs need none.
    let ns = match files {
        Some(_) => required_str(ns, "ns")?,
        None => optional_str(ns, "ns")?.unwrap_or(""),
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

/// Answers `{"code":200,"resource_id":…}`: the resource id of the file
/// `dir`/`name` in namespace `ns`, or of the folder `dir` when `name` is
/// NULL (`ns` and `dir` are required). Needs no client and no network.
///
/// # Safety
/// Each string argument is NULL or points to a NUL-terminated string. A
/// NULL required argument or invalid UTF-8 answers an `InvalidArgument`
/// JSON error. Thread-safe. The result is never NULL; free it with
/// `wantu_string_free`.
#[no_mangle]
pub unsafe extern "C" fn wantu_resource_id(
    ns: *const c_char,
    dir: *const c_char,
    name: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let ns = required_str(ns, "ns")?;
        let dir = required_str(dir, "dir")?;
        let rid = match optional_str(name, "name")? {
            Some(name) => file_rid(ns, dir, name)?,
            None => dir_rid(ns, dir)?,
        };
        let mut fields = serde_json::Map::new();
        fields.insert("resource_id".into(), rid.into());
        Ok(crate::result::local_success(fields))
    })
}

/// The largest `page_size` the listing calls accept (1…100 is valid).
// A literal, so cbindgen can write it into the header; a test in
// manage::request ties it to the core's limit.
pub const WANTU_MAX_PAGE_SIZE: i64 = 100;
