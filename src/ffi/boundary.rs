//! What every exported function goes through: panic capture, pointer and
//! UTF-8 checks, and the JSON string hand-over. No protocol logic here.

use super::handles::Registry;
use super::ops::Hosted;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::result;
use serde_json::Value;
use std::cell::Cell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// An opaque client: keys, endpoints, a connection pool and I/O threads.
/// Create with `wantu_client_new`, release with `wantu_client_free`; safe to
/// share between threads.
// Never dereferenced: the pointer C holds is a token of the `CLIENTS`
// registry (see handles.rs), so a freed or invented handle is reported.
#[allow(non_camel_case_types)]
pub struct wantu_client {
    _opaque: [u8; 0],
}

static CLIENTS: Registry<Hosted> = Registry::new();

/// Registers a value and answers the token C holds for it, as a pointer.
pub(crate) fn register<T, H>(registry: &Registry<T>, value: T) -> Result<*mut H> {
    registry
        .insert(value)
        .map(|token| token as *mut H)
        .ok_or_else(|| Error::Internal("too many live handles".into()))
}

/// Registers a new client.
pub(crate) fn new_client(inner: Client) -> Result<*mut wantu_client> {
    register(&CLIENTS, Hosted::new(inner))
}

/// Ends a client handle; answers whether it was live. Its operations in
/// flight are cancelled and, unless this thread is one of the library's
/// own (a completion callback), awaited (bounded), so that the client
/// itself is dropped here; otherwise by the last call still running.
pub(crate) fn free_client(ptr: *mut wantu_client) -> bool {
    let Some(hosted) = CLIENTS.remove(ptr as usize) else {
        return false;
    };
    if !hosted.in_this_process() {
        // The parent's runtime threads do not exist in a forked child:
        // shutting them down could only wait for nothing. Kept, not
        // dropped, for the child's life (reachable, not leaked).
        static FORKED_AWAY: std::sync::Mutex<Vec<Arc<Hosted>>> = std::sync::Mutex::new(Vec::new());
        FORKED_AWAY
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(hosted);
        return true;
    }
    hosted.ops.shutdown.cancel();
    if may_wait() {
        hosted.ops.wait_idle();
    }
    true
}

thread_local! {
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
    static IN_COMPLETION: Cell<bool> = const { Cell::new(false) };
    static LAST_ERROR: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs a user callback with re-entry into the library refused on this
/// thread: a callback that calls back in gets an error, never a deadlock.
pub(crate) fn in_callback<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_CALLBACK.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(IN_CALLBACK.with(|c| c.replace(true)));
    f()
}

/// Runs a completion callback: blocking calls are refused inside it (it
/// runs on a thread that moves other operations' bytes), non-blocking ones
/// and frees are not.
pub(crate) fn in_completion<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_COMPLETION.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(IN_COMPLETION.with(|c| c.replace(true)));
    f()
}

/// Whether this thread may wait for operations to end: not inside a
/// completion callback, not on a runtime thread.
pub(crate) fn may_wait() -> bool {
    !IN_COMPLETION.with(Cell::get) && tokio::runtime::Handle::try_current().is_err()
}

/// Whether this thread is inside one of the library's callbacks.
pub(crate) fn inside_callback() -> bool {
    IN_CALLBACK.with(Cell::get)
}

pub(crate) fn reentry_error() -> Option<Error> {
    if IN_COMPLETION.with(Cell::get) {
        return Some(Error::invalid(
            "a blocking libwantu call was made from inside a completion callback; use the \
             call's _async form there, or hand the work to a thread of your own",
        ));
    }
    IN_CALLBACK.with(Cell::get).then(|| {
        Error::invalid(
            "libwantu was called from inside one of its own callbacks; \
             return from the callback first (only wantu_cancel_trigger and \
             wantu_string_free may be called there)",
        )
    })
}

pub(crate) fn panic_error(payload: Box<dyn std::any::Any + Send>) -> Error {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Error::Internal(format!(
        "libwantu hit an internal error and recovered: {text}"
    ))
}

/// Runs an operation and answers its JSON document as an owned C string.
/// Never returns NULL and never lets a panic cross into C.
pub(crate) fn json_call(f: impl FnOnce() -> Result<Value>) -> *mut c_char {
    let outcome = match reentry_error() {
        Some(e) => Err(e),
        None => catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(panic_error(p))),
    };
    into_c_string(&result::to_json(outcome))
}

/// Runs a constructor: a handle, or NULL with the reason kept for
/// `wantu_last_error` on this thread.
pub(crate) fn constructor_call<H>(f: impl FnOnce() -> Result<*mut H>) -> *mut H {
    let outcome = match reentry_error() {
        Some(e) => Err(e),
        None => catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(panic_error(p))),
    };
    match outcome {
        Ok(v) => {
            LAST_ERROR.with(|e| e.borrow_mut().take());
            v
        }
        Err(err) => {
            let text = result::error(&err).to_string();
            LAST_ERROR.with(|e| *e.borrow_mut() = Some(text));
            std::ptr::null_mut()
        }
    }
}

/// Keeps `err` for `wantu_last_error` on this thread (calls that answer
/// NULL or a status instead of JSON).
pub(crate) fn set_last_error(err: &Error) {
    let text = result::error(err).to_string();
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(text));
}

pub(crate) fn take_last_error() -> Option<String> {
    LAST_ERROR.with(|e| e.borrow().clone())
}

/// Serialised JSON never holds a raw NUL (serde escapes it as \u0000).
pub(crate) fn into_c_string(value: &Value) -> *mut c_char {
    into_c_text(value.to_string())
}

/// JSON text for C, which must hold no raw NUL.
pub(crate) fn into_c_text(text: String) -> *mut c_char {
    CString::new(text)
        .unwrap_or_else(|_| {
            CString::new(
                r#"{"code":0,"error":"Internal","message":"NUL in result","request_id":""}"#,
            )
            .unwrap()
        })
        .into_raw()
}

/// A required string argument: not NULL, valid UTF-8.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn required_str<'a>(ptr: *const c_char, arg: &str) -> Result<&'a str> {
    // SAFETY: each pointer is NULL or a NUL-terminated string that outlives the call (this
    // function's contract).
    unsafe { optional_str(ptr, arg) }?
        .ok_or_else(|| Error::invalid(format!("`{arg}` is NULL; pass a string")))
}

/// An optional string argument: NULL means absent; otherwise valid UTF-8.
///
/// # Safety
/// As `required_str`.
pub(crate) unsafe fn optional_str<'a>(ptr: *const c_char, arg: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: `ptr` is not NULL here and points to a NUL-terminated string that outlives `'a` (this
    // function's contract).
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map(Some)
        .map_err(|e| {
            Error::invalid(format!(
                "`{arg}` is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            ))
        })
}

/// A byte buffer argument: `(NULL, 0)` is empty, `(NULL, n > 0)` an error.
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes that outlive `'a`.
pub(crate) unsafe fn byte_slice<'a>(ptr: *const u8, len: usize, arg: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Error::invalid(format!(
            "`{arg}` is NULL but its length is {len}; pass the bytes or a length of 0"
        )));
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid(format!(
            "`{arg}` length {len} is impossible"
        )));
    }
    // SAFETY: `ptr` is not NULL here and points to `len` readable bytes that outlive `'a` (this
    // function's contract).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The client behind a handle, held for the duration of one call: a
/// `wantu_client_free` on another thread meanwhile does not drop it.
pub(crate) fn client(ptr: *const wantu_client) -> Result<Arc<Client>> {
    hosted(ptr).map(|h| h.client.clone())
}

/// The client behind a handle with what its operations share.
pub(crate) fn hosted(ptr: *const wantu_client) -> Result<Arc<Hosted>> {
    if ptr.is_null() {
        return Err(Error::invalid(
            "`client` is NULL; create one with wantu_client_new",
        ));
    }
    let hosted = CLIENTS.get(ptr as usize).ok_or_else(|| {
        Error::invalid(
            "`client` is not a live client handle (freed already, or never made by \
             wantu_client_new)",
        )
    })?;
    if !hosted.in_this_process() {
        return Err(Error::invalid(
            "`client` was made before this process was forked; its I/O threads stayed in the \
             parent: make a new client in this process with wantu_client_new",
        ));
    }
    Ok(hosted)
}
