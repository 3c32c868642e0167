//! The raw things an operation is known by across the C boundary: the
//! opaque handle type C holds, and the caller's data pointer carried to
//! the library thread that gives it back.

use std::ffi::c_void;

/// An operation started by a `wantu_…_async` call. Cancel it with
/// `wantu_op_cancel`; release it with `wantu_op_free` (before or after it
/// completed: freeing does not cancel it, and its completion still comes).
#[allow(non_camel_case_types)]
pub struct wantu_op {
    _opaque: [u8; 0],
}

/// A raw pointer the caller handed us with a promise: usable from the
/// library thread that runs its call (the async forms' documented rule).
#[derive(Clone, Copy)]
pub(crate) struct SendPtr(pub *mut c_void);
impl SendPtr {
    /// The pointer. (A method, so that a closure takes the whole `SendPtr`,
    /// not just its field.)
    pub fn get(self) -> *mut c_void {
        self.0
    }
}

// SAFETY: the pointer is only passed back to the caller's own callbacks,
// which the caller promised may run on a library thread.
unsafe impl Send for SendPtr {}
// SAFETY: as above; the library never dereferences it.
unsafe impl Sync for SendPtr {}
