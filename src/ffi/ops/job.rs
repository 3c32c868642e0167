//! A call's work once its arguments are checked and owned, and the two ways
//! to run it: here and now (`blocking`), or as an operation (op.rs).

use super::handle::SendPtr;
use super::hosted::{ClientOps, Hosted};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ffi::boundary::{in_callback, panic_error, reentry_error};
use crate::transfer::{self, CancelToken};
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::ffi::{c_char, c_int, c_void};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A call's JSON answer, as text.
pub(crate) type Answer = String;

/// The shaped answer of a call that ends in a `Result<Value>`.
pub(crate) fn answer(outcome: Result<Value>) -> Answer {
    crate::result::to_json(outcome).to_string()
}

/// What runs a call once it has started.
pub(crate) enum Work {
    /// A future of the client's runtime: needs no thread while it waits.
    Task(BoxFuture<'static, Answer>),
    /// A call that drives its own loop on the thread that runs it (progress
    /// callbacks, a caller's read callback, the many-files engines).
    Thread(Box<dyn FnOnce(&CallCtx) -> Answer + Send>),
}

/// A call ready to run: the client it runs on, its operations, its work.
pub(crate) struct Job {
    pub client: Arc<Client>,
    pub ops: Arc<ClientOps>,
    pub work: Work,
}

impl Job {
    /// A call that is one future on the client's runtime.
    pub fn task(host: &Hosted, fut: impl Future<Output = Result<Value>> + Send + 'static) -> Job {
        Job {
            client: host.client.clone(),
            ops: host.ops.clone(),
            work: Work::Task(Box::pin(async move { answer(fut.await) })),
        }
    }

    /// A call that runs on a thread of its own until it ends.
    pub fn thread(host: &Hosted, f: impl FnOnce(&CallCtx) -> Answer + Send + 'static) -> Job {
        Job {
            client: host.client.clone(),
            ops: host.ops.clone(),
            work: Work::Thread(Box::new(f)),
        }
    }
}

/// Which form of a call is being made (see `network_call!`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// Runs to its end before the C call returns.
    Blocking,
    /// Returns at once; the job outlives the caller's arguments.
    Async,
}

/// What a call running as an operation needs of it (op.rs implements it),
/// so that the work does not depend on how operations are delivered.
pub(crate) trait RunningOp: Send + Sync {
    /// A cancel token that fires with the operation's cancel (or the
    /// client's shutdown) and with the caller's own `cancel` handle.
    fn cancel_with(&self, given: Option<CancelToken>) -> CancelToken;
    /// Whether the caller asked for progress events.
    fn wants_progress(&self) -> bool;
    /// Records progress and posts an event for it.
    fn progress(self: Arc<Self>, sent: u64, total: u64);
}

/// Where a running call is: on the caller's thread, or an operation.
pub(crate) enum CallCtx {
    Here,
    Op(Arc<dyn RunningOp>),
}

impl CallCtx {
    /// The cancel token the call obeys: the caller's own (`cancel`
    /// argument), and for an operation also `wantu_op_cancel` and the
    /// client being freed.
    pub fn cancel(&self, given: Option<CancelToken>) -> Option<CancelToken> {
        match self {
            CallCtx::Here => given,
            CallCtx::Op(op) => Some(op.cancel_with(given)),
        }
    }

    /// How the call reports progress: the C callback when one was given,
    /// else an operation's progress events when its caller asked for them.
    pub fn reporting(
        &self,
        progress: Option<unsafe extern "C" fn(u64, u64, *mut c_void) -> c_int>,
        user_data: *mut c_void,
    ) -> Reporting {
        match (progress, self) {
            (Some(f), _) => Reporting::C(f, SendPtr(user_data)),
            (None, CallCtx::Op(op)) if op.wants_progress() => Reporting::Events(op.clone()),
            (None, _) => Reporting::None,
        }
    }
}

/// A call's progress sink.
pub(crate) enum Reporting {
    None,
    C(
        unsafe extern "C" fn(u64, u64, *mut c_void) -> c_int,
        SendPtr,
    ),
    Events(Arc<dyn RunningOp>),
}

// SAFETY: the function pointer is plain code; the data pointer is SendPtr's
// promise.
unsafe impl Send for Reporting {}

/// The `total` a progress callback receives while a length is unknown.
const SIZE_UNKNOWN: u64 = u64::MAX;

impl Reporting {
    /// Runs `f` with the progress callback the engines take (`None` when
    /// nothing listens). The C callback runs under the re-entry guard.
    pub fn with<R>(self, f: impl FnOnce(Option<transfer::Callback<'_>>) -> R) -> R {
        match self {
            Reporting::None => f(None),
            Reporting::C(cb, data) => {
                let mut report = |sent: u64, total: Option<u64>| -> bool {
                    let total = total.unwrap_or(SIZE_UNKNOWN);
                    // SAFETY: the caller promised a valid callback for the call.
                    in_callback(|| unsafe { cb(sent, total, data.0) }) == 0
                };
                f(Some(&mut report))
            }
            Reporting::Events(op) => {
                let mut report = |sent: u64, total: Option<u64>| -> bool {
                    op.clone().progress(sent, total.unwrap_or(SIZE_UNKNOWN));
                    true
                };
                f(Some(&mut report))
            }
        }
    }
}

impl Job {
    /// Runs the job to its end on this thread (the blocking forms).
    fn run_here(self) -> Answer {
        match self.work {
            Work::Task(fut) => match self.client.run(fut) {
                Ok(text) => text,
                Err(e) => answer(Err(e)),
            },
            Work::Thread(f) => f(&CallCtx::Here),
        }
    }
}

/// The blocking form of a call: checks, runs and answers on this thread;
/// never NULL, never a panic into C.
pub(crate) fn blocking(prepare: impl FnOnce() -> Result<Job>) -> *mut c_char {
    let text = match reentry_error() {
        Some(e) => answer(Err(e)),
        None => catch_unwind(AssertUnwindSafe(|| match prepare() {
            Ok(job) => job.run_here(),
            Err(e) => answer(Err(e)),
        }))
        .unwrap_or_else(|p| answer(Err(panic_error(p)))),
    };
    crate::ffi::boundary::into_c_text(text)
}

/// An error answer for a call that could not start.
pub(crate) fn refused(e: Error) -> Answer {
    answer(Err(e))
}
