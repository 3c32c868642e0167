//! Operation handles and the start of a non-blocking call: where it runs,
//! how its answer is delivered exactly once, and how it is cancelled.

use super::handle::{wantu_op, SendPtr};
use super::hosted::ClientOps;
use super::job::{refused, Answer, CallCtx, Job, RunningOp, Work};
use super::queue::{self, wantu_queue, Pending, ProgressSource, Queue};
use crate::error::Error;
use crate::ffi::boundary::{in_completion, panic_error, register, set_last_error};
use crate::ffi::handles::Registry;
use crate::transfer::CancelToken;
use futures_util::FutureExt;
use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// Completion callback: `result` is the operation's JSON answer, owned by
/// the callee (free it with `wantu_string_free`); `op` is its handle.
///
/// Runs exactly once per operation, on a library thread, or, when the call
/// is refused before it starts (bad arguments, too many operations), on
/// the calling thread before the start call returns. Keep it short and
/// hand the result off: it runs on one of the few threads that move every
/// operation's bytes. Inside it you may free the operation, cancel any
/// operation, start new operations, take from queues and free strings; a
/// blocking libwantu call made there answers an error.
#[allow(non_camel_case_types)]
pub type wantu_done_fn =
    Option<unsafe extern "C" fn(op: *mut wantu_op, result: *mut c_char, user_data: *mut c_void)>;

/// How a non-blocking call delivers its completion: set exactly one of
/// `queue` and `on_done`.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct wantu_async {
    /// Deliver completions (and progress, see `progress`) as events of this
    /// queue, to be drained by the caller.
    pub queue: *mut wantu_queue,
    /// Or: call this on a library thread (see `wantu_done_fn`).
    pub on_done: wantu_done_fn,
    /// Passed untouched to `on_done`, or in `wantu_event.user_data`.
    pub user_data: *mut c_void,
    /// With a queue: non-zero also posts `WANTU_EVENT_PROGRESS` events for
    /// the calls that report progress, when no progress callback was given.
    pub progress: i32,
}

static OPS: Registry<OpState> = Registry::new();

enum Deliver {
    Queue(Arc<Queue>),
    Callback(unsafe extern "C" fn(*mut wantu_op, *mut c_char, *mut c_void)),
}

#[derive(Default)]
struct Figures {
    sent: u64,
    total: u64,
    queued: bool,
}

/// One operation, shared by its handle and its running work.
pub(crate) struct OpState {
    token: AtomicUsize,
    cancel: CancellationToken,
    /// Cancelled when the operation delivered: ends its cancel watchers.
    over: CancellationToken,
    deliver: Deliver,
    user_data: SendPtr,
    progress_events: bool,
    figures: Mutex<Figures>,
    delivered: AtomicBool,
    runtime: Option<tokio::runtime::Handle>,
    /// For a call waiting in line for a call thread: its client's
    /// operations, so that a cancel can answer it at once. Taken by
    /// whichever comes first, the thread or the cancel.
    waiting: Mutex<Option<Arc<ClientOps>>>,
}

impl OpState {
    fn token(&self) -> usize {
        self.token.load(Ordering::Acquire)
    }

    /// Claims a call waiting for a call thread (see `waiting`).
    fn take_waiting(&self) -> Option<Arc<ClientOps>> {
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Delivers the answer, once; later calls do nothing.
    fn deliver(&self, text: Answer) {
        if self.delivered.swap(true, Ordering::AcqRel) {
            return;
        }
        self.over.cancel();
        let result = CString::new(text).unwrap_or_else(|_| {
            CString::new(crate::result::error(&Error::Internal("NUL in result".into())).to_string())
                .expect("no NUL")
        });
        let op = self.token();
        match &self.deliver {
            Deliver::Queue(q) => q.push(Pending::Done {
                op,
                user_data: self.user_data,
                result,
            }),
            Deliver::Callback(f) => {
                let raw = result.into_raw();
                // SAFETY: the caller promised a valid callback; it owns `raw`.
                let call = || unsafe { f(op as *mut wantu_op, raw, self.user_data.0) };
                // A panic cannot come from C; this only guards our side.
                let _ = catch_unwind(AssertUnwindSafe(|| in_completion(call)));
            }
        }
    }
}

impl RunningOp for OpState {
    fn wants_progress(&self) -> bool {
        self.progress_events && matches!(self.deliver, Deliver::Queue(_))
    }

    fn cancel_with(&self, given: Option<CancelToken>) -> CancelToken {
        let Some(given) = given else {
            return CancelToken::from_token(self.cancel.child_token());
        };
        let both = CancellationToken::new();
        let (op, over, fire) = (self.cancel.clone(), self.over.clone(), both.clone());
        let user = given.token().clone();
        let Some(runtime) = &self.runtime else {
            return given;
        };
        runtime.spawn(async move {
            tokio::select! {
                _ = op.cancelled() => fire.cancel(),
                _ = user.cancelled() => fire.cancel(),
                _ = over.cancelled() => {}
            }
        });
        CancelToken::from_token(both)
    }

    /// Posts one event for the figures if none waits yet.
    fn progress(self: Arc<Self>, sent: u64, total: u64) {
        let Deliver::Queue(q) = &self.deliver else {
            return;
        };
        let mut f = self.figures.lock().unwrap_or_else(|e| e.into_inner());
        f.sent = sent;
        f.total = total;
        if !f.queued {
            f.queued = true;
            drop(f);
            let q = q.clone();
            q.push(Pending::Progress(self));
        }
    }
}

impl ProgressSource for OpState {
    fn token(&self) -> usize {
        OpState::token(self)
    }

    fn user_data(&self) -> *mut c_void {
        self.user_data.0
    }

    fn take_progress(&self) -> (u64, u64) {
        let mut f = self.figures.lock().unwrap_or_else(|e| e.into_inner());
        f.queued = false;
        (f.sent, f.total)
    }
}

/// Reads `how`: exactly one of a live queue and a callback.
///
/// # Safety
/// `how` is NULL or points to a readable `wantu_async`.
unsafe fn delivery(how: *const wantu_async) -> crate::Result<(Deliver, SendPtr, bool)> {
    if how.is_null() {
        return Err(Error::invalid(
            "`how` is NULL; pass a wantu_async naming a queue or an on_done callback",
        ));
    }
    // SAFETY: readable, as the caller promised.
    let how = unsafe { &*how };
    let deliver = match (how.queue.is_null(), how.on_done) {
        (false, None) => Deliver::Queue(queue::queue(how.queue).ok_or_else(|| {
            Error::invalid(
                "`how.queue` is not a live queue (freed already?); make one with wantu_queue_new",
            )
        })?),
        (true, Some(f)) => Deliver::Callback(f),
        (false, Some(_)) => {
            return Err(Error::invalid(
                "`how` names both a queue and an on_done callback; set exactly one",
            ))
        }
        (true, None) => {
            return Err(Error::invalid(
                "`how` names neither a queue nor an on_done callback; set exactly one",
            ))
        }
    };
    Ok((deliver, SendPtr(how.user_data), how.progress != 0))
}

/// Starts a non-blocking call: answers its operation handle at once (NULL
/// only when `how` is unusable, with `wantu_last_error` saying why); the
/// answer comes exactly once through `how`.
///
/// # Safety
/// `how` is NULL or points to a readable `wantu_async`.
pub(crate) unsafe fn start(
    how: *const wantu_async,
    prepare: impl FnOnce() -> crate::Result<Job>,
) -> *mut wantu_op {
    // SAFETY: passed on from the caller.
    let (deliver, user_data, progress_events) = match unsafe { delivery(how) } {
        Ok(d) => d,
        Err(e) => {
            set_last_error(&e);
            return std::ptr::null_mut();
        }
    };
    let prepared = catch_unwind(AssertUnwindSafe(prepare)).unwrap_or_else(|p| Err(panic_error(p)));
    let ops = prepared.as_ref().ok().map(|job| job.ops.clone());
    let cancel = ops
        .as_ref()
        .map_or_else(CancellationToken::new, |o| o.shutdown.child_token());
    let state = OpState {
        token: AtomicUsize::new(0),
        cancel,
        over: CancellationToken::new(),
        deliver,
        user_data,
        progress_events,
        figures: Mutex::new(Figures::default()),
        delivered: AtomicBool::new(false),
        runtime: prepared
            .as_ref()
            .ok()
            .map(|job| job.client.handle().clone()),
        waiting: Mutex::new(None),
    };
    let handle: *mut wantu_op = match register(&OPS, state) {
        Ok(h) => h,
        Err(e) => {
            set_last_error(&e);
            return std::ptr::null_mut();
        }
    };
    let state = OPS.get(handle as usize).expect("just registered");
    state.token.store(handle as usize, Ordering::Release);
    match prepared {
        Err(e) => state.deliver(refused(e)),
        Ok(job) => {
            if job.ops.admit() {
                run(state, job);
            } else {
                state.deliver(refused(Error::TooManyOperations(format!(
                    "{} operations of this client are already pending; wait for some to \
                     complete (backpressure) before starting more",
                    super::hosted::MAX_PENDING_OPERATIONS
                ))));
            }
        }
    }
    handle
}

/// The answer of an operation cancelled before its work could answer.
fn cancelled(ops: &ClientOps) -> Answer {
    refused(Error::Cancelled(if ops.shutdown.is_cancelled() {
        "the operation was cancelled: its client was freed before it ended".into()
    } else {
        "the operation was cancelled (wantu_op_cancel)".into()
    }))
}

/// Runs an admitted job; delivers its answer, then counts it finished.
fn run(state: Arc<OpState>, job: Job) {
    let Job { client, ops, work } = job;
    match work {
        Work::Task(fut) => {
            let runtime = client.handle().clone();
            runtime.spawn(async move {
                let cancel = state.cancel.clone();
                let permits = ops.running.clone();
                let answer = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => cancelled(&ops),
                    permit = permits.acquire_owned() => {
                        let _permit = permit;
                        let work = AssertUnwindSafe(fut).catch_unwind();
                        tokio::select! {
                            biased;
                            _ = cancel.cancelled() => cancelled(&ops),
                            r = work => r.unwrap_or_else(|p| refused(panic_error(p))),
                        }
                    }
                };
                // The client goes before the answer, so that a free after
                // the last completion finds no reference left here.
                drop(client);
                state.deliver(answer);
                ops.finished();
            });
        }
        Work::Thread(f) => {
            *state.waiting.lock().unwrap_or_else(|e| e.into_inner()) = Some(ops.clone());
            let (st, o) = (state.clone(), ops.clone());
            let task = Box::new(move || {
                if st.take_waiting().is_none() {
                    return; // a cancel answered it while it waited
                }
                let answer = if st.cancel.is_cancelled() {
                    cancelled(&o)
                } else {
                    let ctx = CallCtx::Op(st.clone());
                    catch_unwind(AssertUnwindSafe(|| f(&ctx)))
                        .unwrap_or_else(|p| refused(panic_error(p)))
                };
                drop(client);
                st.deliver(answer);
                o.finished();
            });
            if ops.threads.submit(task).is_err() && state.take_waiting().is_some() {
                state.deliver(refused(Error::Internal(
                    "cannot start a thread for the call; the system is out of threads".into(),
                )));
                ops.finished();
            }
        }
    }
}

/// Cancels an operation: it ends soon and completes as cancelled
/// (`{"code":0,"error":"Cancelled",…}`), unless it already completed, in
/// which case nothing happens. Any thread, any number of times, callbacks
/// included. NULL, a freed or unknown handle do nothing.
#[no_mangle]
pub extern "C" fn wantu_op_cancel(op: *mut wantu_op) {
    if let Some(state) = OPS.get(op as usize) {
        if !state.delivered.load(Ordering::Acquire) {
            state.cancel.cancel();
            // Still in line for a call thread: answered now, not after the
            // calls ahead of it.
            if let Some(ops) = state.take_waiting() {
                state.deliver(cancelled(&ops));
                ops.finished();
            }
        }
    }
}

/// Releases an operation handle, before or after its completion: freeing
/// does not cancel it (its completion still comes, with this now-dead
/// handle in `wantu_event.op`). Free every handle once; NULL, a freed or
/// unknown handle do nothing. May be called inside the operation's own
/// completion callback.
#[no_mangle]
pub extern "C" fn wantu_op_free(op: *mut wantu_op) {
    drop(OPS.remove(op as usize));
}

/// Whether an operation is still running: 1 running, 0 completed (its
/// answer delivered or on its way), -1 NULL or not a live handle.
#[no_mangle]
pub extern "C" fn wantu_op_running(op: *const wantu_op) -> i32 {
    match OPS.get(op as usize) {
        Some(s) => i32::from(!s.delivered.load(Ordering::Acquire)),
        None => -1,
    }
}
