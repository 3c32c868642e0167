//! C surface of the management API (docs/protocol.md §6).
//!
//! Shared rules, stated once here and in each function's comment: `ns` is
//! the namespace (not named `namespace`, a C++ keyword); `dir` is required
//! and normalised (`"test"`, `"/test/"` and `"/test"` are one folder, `""`
//! and `"/"` the root); every string is NUL-terminated UTF-8; the answer is
//! a JSON document the caller frees with `wantu_string_free`, never NULL.

use super::boundary::{client, json_call, optional_str, required_str, wantu_client};
use crate::manage::{dir_rid, file_rid, parse_feedback, EncodeOptions, FileRef, ScanTargets};
use std::ffi::c_char;

/// Reads `(ns, dir, name)` C strings: all three required.
unsafe fn file_args<'a>(
    ns: *const c_char,
    dir: *const c_char,
    name: *const c_char,
) -> crate::Result<FileRef<'a>> {
    Ok(FileRef {
        ns: required_str(ns, "ns")?,
        dir: required_str(dir, "dir")?,
        name: required_str(name, "name")?,
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_file_exists(
    client: *const wantu_client,
    ns: *const c_char,
    dir: *const c_char,
    name: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let f = file_args(ns, dir, name)?;
        c.run(c.file_exists(f.ns, f.dir, f.name))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_file_get(
    client: *const wantu_client,
    ns: *const c_char,
    dir: *const c_char,
    name: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let f = file_args(ns, dir, name)?;
        c.run(c.file_get(f.ns, f.dir, f.name))?
    })
}

/// Deletes a file: `{"code":200,…}`; 404 `FileNotExist` when it does not
/// exist. Arguments as `wantu_file_exists`.
///
/// # Safety
/// Each string argument is NULL or points to a NUL-terminated string.
/// `client` is only looked up, never dereferenced. A NULL, freed or unknown
/// `client`, a NULL required argument or invalid UTF-8 answers an
/// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
/// The result is never NULL; free it with `wantu_string_free`.
#[no_mangle]
pub unsafe extern "C" fn wantu_file_delete(
    client: *const wantu_client,
    ns: *const c_char,
    dir: *const c_char,
    name: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let f = file_args(ns, dir, name)?;
        c.run(c.file_delete(f.ns, f.dir, f.name))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_file_rename(
    client: *const wantu_client,
    ns: *const c_char,
    dir: *const c_char,
    name: *const c_char,
    new_dir: *const c_char,
    new_name: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let f = file_args(ns, dir, name)?;
        let new_dir = optional_str(new_dir, "new_dir")?;
        let new_name = required_str(new_name, "new_name")?;
        c.run(c.file_rename(f.ns, f.dir, f.name, new_dir, new_name))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_file_list(
    client: *const wantu_client,
    ns: *const c_char,
    dir: *const c_char,
    page: i64,
    page_size: i64,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let ns = required_str(ns, "ns")?;
        let dir = required_str(dir, "dir")?;
        c.run(c.file_list(ns, dir, page, page_size))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_file_list_all(
    client: *const wantu_client,
    ns: *const c_char,
    dir: *const c_char,
    max_items: i64,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let ns = required_str(ns, "ns")?;
        let dir = required_str(dir, "dir")?;
        c.run(c.file_list_all(ns, dir, max_items))?
    })
}

/// Creates the folder `dir` and any missing parents: `{"code":200,…}`; 409
/// `NameDuplicated` when it exists. `client`, `ns`, `dir` are required.
///
/// # Safety
/// Each string argument is NULL or points to a NUL-terminated string.
/// `client` is only looked up, never dereferenced. A NULL, freed or unknown
/// `client`, a NULL required argument or invalid UTF-8 answers an
/// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
/// The result is never NULL; free it with `wantu_string_free`.
#[no_mangle]
pub unsafe extern "C" fn wantu_dir_create(
    client: *const wantu_client,
    ns: *const c_char,
    dir: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let ns = required_str(ns, "ns")?;
        let dir = required_str(dir, "dir")?;
        c.run(c.dir_create(ns, dir))?
    })
}

/// Asks whether a folder exists: `{"code":200,"exist":true|false,…}`.
/// Arguments as `wantu_dir_create`.
///
/// # Safety
/// Each string argument is NULL or points to a NUL-terminated string.
/// `client` is only looked up, never dereferenced. A NULL, freed or unknown
/// `client`, a NULL required argument or invalid UTF-8 answers an
/// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
/// The result is never NULL; free it with `wantu_string_free`.
#[no_mangle]
pub unsafe extern "C" fn wantu_dir_exists(
    client: *const wantu_client,
    ns: *const c_char,
    dir: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let ns = required_str(ns, "ns")?;
        let dir = required_str(dir, "dir")?;
        c.run(c.dir_exists(ns, dir))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_dir_delete(
    client: *const wantu_client,
    ns: *const c_char,
    dir: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let ns = required_str(ns, "ns")?;
        let dir = required_str(dir, "dir")?;
        c.run(c.dir_delete(ns, dir))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_dir_list(
    client: *const wantu_client,
    ns: *const c_char,
    dir: *const c_char,
    page: i64,
    page_size: i64,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let ns = required_str(ns, "ns")?;
        let dir = required_str(dir, "dir")?;
        c.run(c.dir_list(ns, dir, page, page_size))?
    })
}

/// Lists every folder directly in `dir`, walking all pages, up to
/// `max_items`; the answer has the shape of `wantu_file_list_all`.
///
/// # Safety
/// Each string argument is NULL or points to a NUL-terminated string.
/// `client` is only looked up, never dereferenced. A NULL, freed or unknown
/// `client`, a NULL required argument or invalid UTF-8 answers an
/// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
/// The result is never NULL; free it with `wantu_string_free`.
#[no_mangle]
pub unsafe extern "C" fn wantu_dir_list_all(
    client: *const wantu_client,
    ns: *const c_char,
    dir: *const c_char,
    max_items: i64,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let ns = required_str(ns, "ns")?;
        let dir = required_str(dir, "dir")?;
        c.run(c.dir_list_all(ns, dir, max_items))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_pts_add(
    client: *const wantu_client,
    ns: *const c_char,
    dir: *const c_char,
    name: *const c_char,
    fops: *const c_char,
    notify_url: *const c_char,
    force: i32,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let f = file_args(ns, dir, name)?;
        let fops = required_str(fops, "fops")?;
        let notify_url = optional_str(notify_url, "notify_url")?;
        c.run(c.pts_add(f, fops, notify_url, force != 0))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_pts_get(
    client: *const wantu_client,
    persistent_id: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        c.run(c.pts_get(required_str(persistent_id, "persistent_id")?))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_media_encode(
    client: *const wantu_client,
    ns: *const c_char,
    input_dir: *const c_char,
    input_name: *const c_char,
    output_dir: *const c_char,
    output_name: *const c_char,
    encode_template: *const c_char,
    options_json: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let ns = required_str(ns, "ns")?;
        let input = FileRef {
            ns,
            dir: required_str(input_dir, "input_dir")?,
            name: required_str(input_name, "input_name")?,
        };
        let output = FileRef {
            ns,
            dir: required_str(output_dir, "output_dir")?,
            name: required_str(output_name, "output_name")?,
        };
        let template = required_str(encode_template, "encode_template")?;
        let options = EncodeOptions::from_json(optional_str(options_json, "options_json")?)?;
        c.run(c.media_encode(input, output, template, &options))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_media_encode_result(
    client: *const wantu_client,
    task_id: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        c.run(c.media_encode_result(required_str(task_id, "task_id")?))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_snapshot(
    client: *const wantu_client,
    ns: *const c_char,
    input_dir: *const c_char,
    input_name: *const c_char,
    output_dir: *const c_char,
    output_name: *const c_char,
    time_ms: i64,
    notify_url: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let ns = required_str(ns, "ns")?;
        let input = FileRef {
            ns,
            dir: required_str(input_dir, "input_dir")?,
            name: required_str(input_name, "input_name")?,
        };
        let output = FileRef {
            ns,
            dir: required_str(output_dir, "output_dir")?,
            name: required_str(output_name, "output_name")?,
        };
        let notify_url = optional_str(notify_url, "notify_url")?;
        c.run(c.snapshot(input, output, time_ms, notify_url))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_snapshot_result(
    client: *const wantu_client,
    task_id: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        c.run(c.snapshot_result(required_str(task_id, "task_id")?))?
    })
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
#[no_mangle]
pub unsafe extern "C" fn wantu_scan_porn(
    client: *const wantu_client,
    ns: *const c_char,
    files_json: *const c_char,
    urls_json: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let targets = scan_targets(ns, files_json, urls_json)?;
        c.run(c.scan_porn(&targets))?
    })
}

/// Scans images for advertising; arguments and answers as
/// `wantu_scan_porn`.
///
/// # Safety
/// Each string argument is NULL or points to a NUL-terminated string.
/// `client` is only looked up, never dereferenced. A NULL, freed or unknown
/// `client`, a NULL required argument or invalid UTF-8 answers an
/// `InvalidArgument` JSON error (never a crash). Thread-safe: any number of threads may call with one client.
/// The result is never NULL; free it with `wantu_string_free`.
#[no_mangle]
pub unsafe extern "C" fn wantu_scan_advertising(
    client: *const wantu_client,
    ns: *const c_char,
    files_json: *const c_char,
    urls_json: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let targets = scan_targets(ns, files_json, urls_json)?;
        c.run(c.scan_advertising(&targets))?
    })
}

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
#[no_mangle]
pub unsafe extern "C" fn wantu_scan_feedback(
    client: *const wantu_client,
    feedback_json: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        let items = parse_feedback(required_str(feedback_json, "feedback_json")?)?;
        c.run(c.scan_feedback(&items))?
    })
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
