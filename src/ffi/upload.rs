//! The upload calls of the service's Python SDK: token, simple uploads,
//! caller-driven multipart.

use super::boundary::{
    byte_slice, client, hosted, json_call, optional_str, required_str, wantu_client,
};
use super::ops::Job;
use crate::multipart::parse_parts;
use crate::policy::Policy;
use crate::upload::{Content, Target};
use bytes::Bytes;
use std::ffi::c_char;
use std::path::PathBuf;

/// Answers `{"code":200,"token":"UPLOAD_AK_TOP …"}`: the upload token for a
/// policy JSON object, e.g. for a browser or another process to upload with.
/// The policy must name a `namespace` and an `expiration` (ms, -1 = never).
///
/// # Safety
/// Every string argument is NULL or a NUL-terminated string readable for the
/// duration of the call. `client` is only looked up, never dereferenced:
/// NULL, a freed handle or any other value that is not a live handle
/// answers an `InvalidArgument` error, as do NULL required strings and
/// invalid UTF-8.
#[no_mangle]
pub unsafe extern "C" fn wantu_upload_token(
    client: *const wantu_client,
    policy_json: *const c_char,
) -> *mut c_char {
    json_call(|| {
        let c = self::client(client)?;
        // SAFETY: each pointer is NULL or a NUL-terminated string that outlives the call (this
        // function's contract).
        let policy = Policy::parse(unsafe { required_str(policy_json, "policy_json") }?)?;
        let mut fields = serde_json::Map::new();
        fields.insert("token".into(), c.upload_token(&policy).into());
        Ok(crate::result::local_success(fields))
    })
}

unsafe fn target(
    dir: *const c_char,
    name: *const c_char,
    meta_json: *const c_char,
    var_json: *const c_char,
) -> crate::Result<Target> {
    Target::new(
        // SAFETY: each pointer is NULL or a NUL-terminated string that outlives the call (this
        // function's contract).
        unsafe { optional_str(dir, "dir") }?,
        unsafe { optional_str(name, "name") }?,
        unsafe { optional_str(meta_json, "meta_json") }?,
        unsafe { optional_str(var_json, "var_json") }?,
    )
}

network_call! {
    /// Uploads a local file in one request, streaming it from disk (its size
    /// does not matter to memory). `dir` and `name` may be NULL when the policy
    /// names them (the policy wins anyway). `md5` (32 hex digits) is optional and
    /// checked by the server; `meta_json` and `var_json` are JSON objects or NULL.
    /// Answers a result JSON document (`code` 200 on success).
    ///
    /// # Safety
    /// Every string argument is NULL or a NUL-terminated string readable for the
    /// duration of the call. `client` is only looked up, never dereferenced:
    /// NULL, a freed handle or any other value that is not a live handle
    /// answers an `InvalidArgument` error, as do NULL required strings and
    /// invalid UTF-8.
    fn wantu_upload_file / wantu_upload_file_async(
        client: *const wantu_client,
        policy_json: *const c_char,
        dir: *const c_char,
        name: *const c_char,
        file_path: *const c_char,
        md5: *const c_char,
        meta_json: *const c_char,
        var_json: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let policy = Policy::parse(required_str(policy_json, "policy_json")?)?;
        let target = target(dir, name, meta_json, var_json)?;
        let path = PathBuf::from(required_str(file_path, "file_path")?);
        let md5 = optional_str(md5, "md5")?.map(str::to_owned);
        Ok(Job::task(&h, async move {
            c.upload(&policy, &target, Content::File(path), md5.as_deref())
                .await
        }))
    }
}

network_call! {
    /// Uploads `content_len` bytes from memory in one request; `(NULL, 0)` is an
    /// empty file. Other arguments as `wantu_upload_file`. The bytes are copied,
    /// so the buffer may be reused as soon as the call returns.
    ///
    /// # Safety
    /// Every string argument is NULL or a NUL-terminated string readable for the
    /// duration of the call. `client` is only looked up, never dereferenced:
    /// NULL, a freed handle or any other value that is not a live handle
    /// answers an `InvalidArgument` error, as do NULL required strings and
    /// invalid UTF-8.
    fn wantu_upload_content / wantu_upload_content_async(
        client: *const wantu_client,
        policy_json: *const c_char,
        dir: *const c_char,
        name: *const c_char,
        content: *const u8,
        content_len: usize,
        md5: *const c_char,
        meta_json: *const c_char,
        var_json: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let policy = Policy::parse(required_str(policy_json, "policy_json")?)?;
        let target = target(dir, name, meta_json, var_json)?;
        let bytes = Bytes::copy_from_slice(byte_slice(content, content_len, "content")?);
        let md5 = optional_str(md5, "md5")?.map(str::to_owned);
        Ok(Job::task(&h, async move {
            c.upload(&policy, &target, Content::Bytes(bytes), md5.as_deref())
                .await
        }))
    }
}

network_call! {
    /// Starts a multipart upload and sends its first part (at least 102400
    /// bytes unless it is the only part). Answers `id`, `upload_id`,
    /// `part_number` 1 and `e_tag`; keep them for the next calls.
    ///
    /// # Safety
    /// Every string argument is NULL or a NUL-terminated string readable for the
    /// duration of the call. `client` is only looked up, never dereferenced:
    /// NULL, a freed handle or any other value that is not a live handle
    /// answers an `InvalidArgument` error, as do NULL required strings and
    /// invalid UTF-8.
    fn wantu_multipart_init / wantu_multipart_init_async(
        client: *const wantu_client,
        policy_json: *const c_char,
        dir: *const c_char,
        name: *const c_char,
        content: *const u8,
        content_len: usize,
        md5: *const c_char,
        meta_json: *const c_char,
        var_json: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let policy = Policy::parse(required_str(policy_json, "policy_json")?)?;
        let target = target(dir, name, meta_json, var_json)?;
        let bytes = Bytes::copy_from_slice(byte_slice(content, content_len, "content")?);
        let md5 = optional_str(md5, "md5")?.map(str::to_owned);
        Ok(Job::task(&h, async move {
            c.multipart_init(&policy, &target, Content::Bytes(bytes), md5.as_deref())
                .await
        }))
    }
}

network_call! {
    /// Sends part `part_number` (2…10000; any order, from any thread) of the
    /// upload `id`/`upload_id`. `md5` is this part's MD5, optional. Answers the
    /// part's `e_tag`.
    ///
    /// # Safety
    /// Every string argument is NULL or a NUL-terminated string readable for the
    /// duration of the call. `client` is only looked up, never dereferenced:
    /// NULL, a freed handle or any other value that is not a live handle
    /// answers an `InvalidArgument` error, as do NULL required strings and
    /// invalid UTF-8.
    fn wantu_multipart_upload / wantu_multipart_upload_async(
        client: *const wantu_client,
        policy_json: *const c_char,
        id: *const c_char,
        upload_id: *const c_char,
        part_number: u32,
        content: *const u8,
        content_len: usize,
        md5: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let policy = Policy::parse(required_str(policy_json, "policy_json")?)?;
        let id = required_str(id, "id")?.to_owned();
        let upload_id = required_str(upload_id, "upload_id")?.to_owned();
        let bytes = Bytes::copy_from_slice(byte_slice(content, content_len, "content")?);
        let md5 = optional_str(md5, "md5")?.map(str::to_owned);
        Ok(Job::task(&h, async move {
            let content = Content::Bytes(bytes);
            c.multipart_upload(&policy, &id, &upload_id, part_number, content, md5.as_deref())
                .await
        }))
    }
}

network_call! {
    /// Assembles the upload from its parts. `parts` lists every part as the
    /// service's Python SDK does — URL-safe Base64 of
    /// `[{"e_tag":…,"part_number":…},…]` — or as a plain JSON array
    /// (snake_case or camelCase keys). `md5` is the whole
    /// file's MD5, optional. Answers the file's result JSON.
    ///
    /// # Safety
    /// Every string argument is NULL or a NUL-terminated string readable for the
    /// duration of the call. `client` is only looked up, never dereferenced:
    /// NULL, a freed handle or any other value that is not a live handle
    /// answers an `InvalidArgument` error, as do NULL required strings and
    /// invalid UTF-8.
    fn wantu_multipart_complete / wantu_multipart_complete_async(
        client: *const wantu_client,
        policy_json: *const c_char,
        id: *const c_char,
        upload_id: *const c_char,
        parts: *const c_char,
        md5: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let policy = Policy::parse(required_str(policy_json, "policy_json")?)?;
        let id = required_str(id, "id")?.to_owned();
        let upload_id = required_str(upload_id, "upload_id")?.to_owned();
        let parts = parse_parts(required_str(parts, "parts")?)?;
        let md5 = optional_str(md5, "md5")?.map(str::to_owned);
        Ok(Job::task(&h, async move {
            c.multipart_complete(&policy, &id, &upload_id, &parts, md5.as_deref())
                .await
        }))
    }
}

network_call! {
    /// Cancels the upload `id`/`upload_id`; the server discards its parts.
    ///
    /// # Safety
    /// Every string argument is NULL or a NUL-terminated string readable for the
    /// duration of the call. `client` is only looked up, never dereferenced:
    /// NULL, a freed handle or any other value that is not a live handle
    /// answers an `InvalidArgument` error, as do NULL required strings and
    /// invalid UTF-8.
    fn wantu_multipart_cancel / wantu_multipart_cancel_async(
        client: *const wantu_client,
        policy_json: *const c_char,
        id: *const c_char,
        upload_id: *const c_char,
    ) {
        let h = hosted(client)?;
        let c = h.client.clone();
        let policy = Policy::parse(required_str(policy_json, "policy_json")?)?;
        let id = required_str(id, "id")?.to_owned();
        let upload_id = required_str(upload_id, "upload_id")?.to_owned();
        Ok(Job::task(&h, async move {
            c.multipart_cancel(&policy, &id, &upload_id).await
        }))
    }
}
