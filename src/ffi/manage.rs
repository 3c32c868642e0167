//! C surface of the management API (docs/protocol.md §6).
//!
//! Shared rules, stated once here and in each function's comment: `ns` is
//! the namespace (not named `namespace`, a C++ keyword); `dir` is required
//! and normalised (`"test"`, `"/test/"` and `"/test"` are one folder, `""`
//! and `"/"` the root); every string is NUL-terminated UTF-8; the answer is
//! a JSON document the caller frees with `wantu_string_free`, never NULL.

use super::boundary::{hosted, json_call, optional_str, required_str, wantu_client};
use super::ops::Job;
use crate::manage::{dir_rid, file_rid, FileRef};
use std::ffi::c_char;

/// A stored file named by owned copies of `(ns, dir, name)`, for a call
/// that runs after its arguments are gone.
pub(super) struct OwnedFile {
    ns: String,
    dir: String,
    name: String,
}

impl OwnedFile {
    pub(super) fn as_ref(&self) -> FileRef<'_> {
        FileRef {
            ns: &self.ns,
            dir: &self.dir,
            name: &self.name,
        }
    }
}

/// Reads `(ns, dir, name)` C strings: all three required.
pub(super) unsafe fn file_args(
    ns: *const c_char,
    dir: *const c_char,
    name: *const c_char,
) -> crate::Result<OwnedFile> {
    // SAFETY: the three pointers are NULL or NUL-terminated strings (this function's contract).
    unsafe { file_args_named(ns, (dir, "dir"), (name, "name")) }
}

/// `file_args` for a call whose folder and name arguments have other
/// names (`input_dir`, `output_name`…): errors name the argument as the
/// header spells it.
pub(super) unsafe fn file_args_named(
    ns: *const c_char,
    dir: (*const c_char, &str),
    name: (*const c_char, &str),
) -> crate::Result<OwnedFile> {
    Ok(OwnedFile {
        // SAFETY: each pointer is NULL or a NUL-terminated string that outlives the call (this
        // function's contract).
        ns: unsafe { required_str(ns, "ns") }?.to_owned(),
        dir: unsafe { required_str(dir.0, dir.1) }?.to_owned(),
        name: unsafe { required_str(name.0, name.1) }?.to_owned(),
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
        // SAFETY: each pointer is NULL or a NUL-terminated string that outlives the call (this
        // function's contract).
        let ns = unsafe { required_str(ns, "ns") }?;
        let dir = unsafe { required_str(dir, "dir") }?;
        let rid = match unsafe { optional_str(name, "name") }? {
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
