//! `network_call!`: the one description of a network call of the C
//! surface, from which both of its C forms are made:
//!
//! - `wantu_X(args…) -> char *`: blocks until the answer is there;
//! - `wantu_X_async(args…, const wantu_async *how) -> wantu_op *`: returns
//!   at once; the same answer comes exactly once through `how`.
//!
//! `|form|` before the body names a `Form` the body may look at, for the
//! rare argument that the blocking form can borrow but the non-blocking
//! form must copy (a large buffer).
//!
//! The body checks and copies the arguments (it runs before either form
//! returns or blocks) and answers a `Job` that owns everything it needs.
//! cbindgen does not expand macros, so build.rs reads these descriptions
//! to write both prototypes into the header, with the doc comment given
//! here; keep the layout: doc lines, `fn NAME / ASYNC_NAME(`, one
//! `arg: type,` per line, `) {`.

macro_rules! network_call {
    (
        $(#[doc = $doc:literal])*
        fn $name:ident / $async_name:ident ( $($arg:ident : $ty:ty),* $(,)? )
        $(| $form:ident |)? $body:block
    ) => {
        $(#[doc = $doc])*
        #[no_mangle]
        #[allow(unused_unsafe, clippy::too_many_arguments)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> *mut std::ffi::c_char {
            $crate::ffi::ops::blocking(|| -> $crate::Result<$crate::ffi::ops::Job> {
                $(let $form = $crate::ffi::ops::Form::Blocking;)?
                // SAFETY: the caller's promises for this call, as documented.
                unsafe { $body }
            })
        }

        #[doc = concat!(
            "Non-blocking form of `", stringify!($name), "`: the same arguments and answer, ",
            "plus `how` (see docs/async.md)."
        )]
        ///
        /// # Safety
        /// As the blocking form; `how` is NULL or points to a readable
        /// `wantu_async`. Every argument is read before this returns.
        #[no_mangle]
        #[allow(unused_unsafe, clippy::too_many_arguments)]
        pub unsafe extern "C" fn $async_name(
            $($arg: $ty,)*
            how: *const $crate::ffi::ops::wantu_async,
        ) -> *mut $crate::ffi::ops::wantu_op {
            // SAFETY: `how` is as the caller promised; the body's arguments too.
            unsafe {
                $crate::ffi::ops::start(how, || -> $crate::Result<$crate::ffi::ops::Job> {
                    $(let $form = $crate::ffi::ops::Form::Async;)?
                    unsafe { $body }
                })
            }
        }
    };
}
