//! Cancel handles: what C holds is a token of the `CANCELS` registry (see
//! handles.rs), never an address, so a freed or invented handle is
//! recognised as such. Every entry point that takes a cancel handle reads
//! it with `optional_cancel`.

use super::boundary::{constructor_call, inside_callback, register};
use super::handles::Registry;
use crate::error::{Error, Result};
use crate::transfer::CancelToken;
use std::ffi::c_int;
use std::sync::Arc;

/// A cancel handle: trigger it from any thread, any number of times, to
/// cancel the uploads it was given to. Create with `wantu_cancel_new`,
/// release with `wantu_cancel_free`.
// Never dereferenced: the pointer C holds is a token of `CANCELS` (see
// handles.rs), so a freed or invented handle is recognised as such.
#[allow(non_camel_case_types)]
pub struct wantu_cancel {
    _opaque: [u8; 0],
}

static CANCELS: Registry<CancelToken> = Registry::new();

fn cancel_token(ptr: *const wantu_cancel) -> Option<Arc<CancelToken>> {
    CANCELS.get(ptr as usize)
}

/// A `cancel` argument: NULL is None; a live handle gives its token (a
/// clone the operation keeps, so a `wantu_cancel_free` meanwhile does not
/// disturb it); anything else is an `InvalidArgument` error naming `cancel`.
pub(crate) fn optional_cancel(ptr: *const wantu_cancel) -> Result<Option<CancelToken>> {
    if ptr.is_null() {
        return Ok(None);
    }
    match cancel_token(ptr) {
        Some(c) => Ok(Some(CancelToken::clone(&c))),
        None => Err(Error::invalid(
            "`cancel` is not a live cancel handle (already freed?); pass NULL or a handle \
             from wantu_cancel_new",
        )),
    }
}

/// Creates a cancel handle (never triggered yet). Returns NULL only if
/// memory is exhausted. Release it with `wantu_cancel_free`.
#[no_mangle]
pub extern "C" fn wantu_cancel_new() -> *mut wantu_cancel {
    constructor_call(|| register(&CANCELS, CancelToken::new()))
}

/// Cancels every upload running with this handle, and any later upload
/// given it: a triggered handle stays triggered (use a new handle for the
/// next upload). Uploads stop their parts within a second, cancel the
/// upload on the server, and answer `{"code":0,"error":"Cancelled",…}`.
///
/// Thread-safe: any thread may call it, any number of times, including
/// from inside a progress callback. NULL, a freed handle and any other
/// value that is not a live handle do nothing.
///
/// # Safety
/// None beyond the C types: `cancel` is only looked up, never dereferenced.
#[no_mangle]
pub unsafe extern "C" fn wantu_cancel_trigger(cancel: *const wantu_cancel) {
    if let Some(c) = cancel_token(cancel) {
        c.trigger();
    }
}

/// 1 when the handle has been triggered, 0 when not (or when `cancel` is
/// not a live handle).
///
/// # Safety
/// As `wantu_cancel_trigger`.
#[no_mangle]
pub unsafe extern "C" fn wantu_cancel_is_triggered(cancel: *const wantu_cancel) -> c_int {
    cancel_token(cancel).is_some_and(|c| c.is_triggered()) as c_int
}

/// Releases a cancel handle; later calls given it treat it as not a
/// handle. An upload still running with it keeps its own reference, so
/// freeing does not disturb it (but it can then no longer be cancelled
/// through this handle). NULL, a handle freed already and any other value
/// that is not a live handle are ignored. Refused (nothing freed, a warning
/// logged) when called from inside a libwantu callback.
///
/// # Safety
/// As `wantu_cancel_trigger`.
#[no_mangle]
pub unsafe extern "C" fn wantu_cancel_free(cancel: *mut wantu_cancel) {
    if cancel.is_null() {
        return;
    }
    if inside_callback() {
        tracing::warn!(
            "wantu_cancel_free was called from inside a libwantu callback; refused: \
             free it after the call returns"
        );
        return;
    }
    drop(CANCELS.remove(cancel as usize));
}
