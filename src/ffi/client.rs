//! Client handles, strings and versions.

use super::boundary::{self, constructor_call, optional_str, required_str, wantu_client};
use crate::client::{Client, ClientConfig, ClientOptions};
use std::ffi::{c_char, CString};

/// Creates a client from the constructor arguments of the service's Python
/// SDK.
///
/// - `ak`, `sk`: the access key and secret key (required, non-empty UTF-8).
/// - `type`: `"TOP"` or `"CLOUD"` (case-insensitive); NULL means `"TOP"`.
/// - `upload_endpoint`, `manage_endpoint`: base URLs (`http://host:port`, an
///   optional path prefix allowed); NULL means the service's defaults.
///
/// Returns a handle to release with `wantu_client_free`, or NULL when an
/// argument is unusable; `wantu_last_error()` then says why. The handle is
/// thread-safe: any number of threads may use it at once.
///
/// # Safety
/// Every string argument is NULL or a NUL-terminated string readable for the
/// duration of the call. NULL required strings and invalid UTF-8 are
/// reported (NULL result, see `wantu_last_error`), not crashed on.
#[no_mangle]
pub unsafe extern "C" fn wantu_client_new(
    ak: *const c_char,
    sk: *const c_char,
    r#type: *const c_char,
    upload_endpoint: *const c_char,
    manage_endpoint: *const c_char,
) -> *mut wantu_client {
    // SAFETY: the same pointers, under the same contract as this
    // function's.
    unsafe {
        wantu_client_new_with_options(
            ak,
            sk,
            r#type,
            upload_endpoint,
            manage_endpoint,
            std::ptr::null(),
        )
    }
}

/// Like `wantu_client_new`, with options as a JSON object (NULL for defaults):
///
/// - `connect_timeout_ms` (default 10000): time to establish a connection.
/// - `request_timeout_ms` (default 0 = none): time for a whole request.
/// - `read_timeout_ms` (default 120000, 0 = none): longest silence from the server.
/// - `ca_file`: PEM file of extra trusted CA certificates (HTTPS always
///   verifies certificates; there is no switch to turn that off).
/// - `proxy`: proxy URL for every request; without it, no proxy is used
///   (environment variables are ignored).
/// - `user_agent`: replaces `ALIMEDIASDK_C_TAE/<version>`.
/// - `limit_rate_bytes_per_sec` (default none): one bandwidth budget shared
///   by every upload and download of the client, both directions together;
///   0 is refused.
/// - `max_running_operations` (default 128, 1…4096): non-blocking
///   operations whose requests run at once; the others wait their turn
///   (docs/async.md).
///
/// Unknown keys are refused. Returns NULL on failure; see `wantu_last_error`.
///
/// # Safety
/// Every string argument is NULL or a NUL-terminated string readable for the
/// duration of the call. NULL required strings and invalid UTF-8 are
/// reported (NULL result, see `wantu_last_error`), not crashed on.
#[no_mangle]
pub unsafe extern "C" fn wantu_client_new_with_options(
    ak: *const c_char,
    sk: *const c_char,
    r#type: *const c_char,
    upload_endpoint: *const c_char,
    manage_endpoint: *const c_char,
    options_json: *const c_char,
) -> *mut wantu_client {
    constructor_call(|| {
        let mut config = ClientConfig::new(
            // SAFETY: each pointer is NULL or a NUL-terminated string that outlives the call (this
            // function's contract).
            unsafe { required_str(ak, "ak") }?,
            unsafe { required_str(sk, "sk") }?,
            unsafe { optional_str(r#type, "type") }?,
            unsafe { optional_str(upload_endpoint, "upload_endpoint") }?,
            unsafe { optional_str(manage_endpoint, "manage_endpoint") }?,
        )?;
        // SAFETY: each pointer is NULL or a NUL-terminated string that outlives the call (this
        // function's contract).
        config.options =
            ClientOptions::from_json(unsafe { optional_str(options_json, "options_json") }?)?;
        boundary::new_client(Client::new(config)?)
    })
}

/// Releases a client. From then on the handle is dead: every call given it
/// answers an `InvalidArgument` error naming `client`, even after another
/// client was created (a new handle never takes a freed one's value; see
/// docs/handles.md). Calls already running
/// with it on other threads finish normally; the client's connections and
/// I/O threads are released when the last of them returns. NULL, a handle
/// freed already and a value that never was a handle are ignored. Called
/// from inside a libwantu callback it is refused: nothing is freed (a
/// warning is logged) and the handle stays usable.
///
/// # Safety
/// None beyond the C types: `client` is only looked up, never dereferenced.
#[no_mangle]
pub unsafe extern "C" fn wantu_client_free(client: *mut wantu_client) {
    if client.is_null() {
        return;
    }
    if boundary::inside_callback() {
        tracing::warn!(
            "wantu_client_free was called from inside a libwantu callback; refused \
             (the upload still uses the client): free it after the call returns"
        );
        return;
    }
    // Dropping the last reference shuts the client down; a panic there must
    // not cross into C.
    let _ = std::panic::catch_unwind(|| boundary::free_client(client));
}

/// The JSON error of the last failed `wantu_client_new*` call on this
/// thread, as an owned string (free it with `wantu_string_free`), or NULL
/// when the last constructor call on this thread succeeded or none was made.
#[no_mangle]
pub extern "C" fn wantu_last_error() -> *mut c_char {
    match boundary::take_last_error() {
        Some(text) => CString::new(text).map_or(std::ptr::null_mut(), CString::into_raw),
        None => std::ptr::null_mut(),
    }
}

/// Releases a string returned by libwantu. NULL does nothing.
///
/// # Safety
/// `s` is NULL or a string returned by libwantu that was not freed yet;
/// freeing it twice, or freeing memory from elsewhere, is undefined.
#[no_mangle]
pub unsafe extern "C" fn wantu_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: `s` came from `CString::into_raw` in this library and is freed once (this
        // function's contract).
        drop(unsafe { CString::from_raw(s) });
    }
}

/// The library version, e.g. `"0.1.0"`: a static string, never freed.
/// Compare with the `WANTU_VERSION_*` macros to detect a header/library mismatch.
#[no_mangle]
pub extern "C" fn wantu_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
