//! Completion queues: where operations started with a queue deliver their
//! completions (and progress), for the caller to drain from its own loop:
//! wait with a timeout, take without blocking, or watch a descriptor that
//! is readable while events wait (poll, epoll, libuv, asyncio).

use super::handle::{wantu_op, SendPtr};
use crate::ffi::boundary::{constructor_call, register};
use crate::ffi::handles::Registry;
use std::collections::VecDeque;
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// `wantu_event.kind` of an operation's completion: `result` holds its
/// JSON answer, which the caller now owns (free it with
/// `wantu_string_free`). The last event of every operation.
pub const WANTU_EVENT_DONE: c_int = 1;
/// `wantu_event.kind` of progress: `sent` bytes of `total` (`total` is
/// `WANTU_SIZE_UNKNOWN` while unknown); `result` is NULL. At most one
/// progress event per operation waits in a queue at a time: it carries the
/// newest figures when taken.
pub const WANTU_EVENT_PROGRESS: c_int = 2;

/// A completion queue. Create with `wantu_queue_new`, release with
/// `wantu_queue_free`; any thread may use it.
#[allow(non_camel_case_types)]
pub struct wantu_queue {
    _opaque: [u8; 0],
}

/// One event taken from a queue.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct wantu_event {
    /// `WANTU_EVENT_DONE` or `WANTU_EVENT_PROGRESS`.
    pub kind: c_int,
    /// The operation (its handle stays valid until `wantu_op_free`).
    pub op: *mut wantu_op,
    /// The `user_data` given when the operation started.
    pub user_data: *mut c_void,
    /// DONE: the answer's JSON, owned by the caller. PROGRESS: NULL.
    pub result: *mut c_char,
    /// PROGRESS: bytes done so far.
    pub sent: u64,
    /// PROGRESS: bytes in all, or `WANTU_SIZE_UNKNOWN`.
    pub total: u64,
}

/// What a progress event reads from its operation as the event is taken
/// (op.rs implements it): the newest figures, not those of when it was
/// posted.
pub(crate) trait ProgressSource: Send + Sync {
    /// The operation's handle, as C knows it.
    fn token(&self) -> usize;
    fn user_data(&self) -> *mut c_void;
    /// The newest figures; the next progress posts a new event.
    fn take_progress(&self) -> (u64, u64);
}

pub(crate) enum Pending {
    Done {
        op: usize,
        user_data: SendPtr,
        result: CString,
    },
    Progress(Arc<dyn ProgressSource>),
}

#[derive(Default)]
struct Events {
    list: VecDeque<Pending>,
    closed: bool,
}

pub(crate) struct Queue {
    events: Mutex<Events>,
    ready: Condvar,
    signal: Signal,
}

static QUEUES: Registry<Queue> = Registry::new();

/// The queue behind a handle.
pub(crate) fn queue(ptr: *const wantu_queue) -> Option<Arc<Queue>> {
    QUEUES.get(ptr as usize)
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Events> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds an event; a freed queue drops it (its memory with it).
    pub fn push(&self, event: Pending) {
        let mut e = self.lock();
        if e.closed {
            return;
        }
        if e.list.is_empty() {
            self.signal.raise();
        }
        e.list.push_back(event);
        drop(e);
        self.ready.notify_one();
    }

    /// The next event, waiting up to `timeout` (None: until one comes or
    /// the queue is freed).
    fn take(&self, timeout: Option<Duration>) -> Option<Pending> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut e = self.lock();
        loop {
            if e.closed {
                return None;
            }
            if let Some(ev) = e.list.pop_front() {
                if e.list.is_empty() {
                    self.signal.clear();
                }
                return Some(ev);
            }
            e = match deadline {
                None => self.ready.wait(e).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    self.ready
                        .wait_timeout(e, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
    }

    fn close(&self) {
        let dropped = {
            let mut e = self.lock();
            e.closed = true;
            std::mem::take(&mut e.list)
        };
        self.signal.clear();
        self.ready.notify_all();
        drop(dropped);
    }
}

/// Creates a completion queue. Answers NULL only when the system refuses
/// its descriptor (`wantu_last_error` says why). Release with
/// `wantu_queue_free`.
#[no_mangle]
pub extern "C" fn wantu_queue_new() -> *mut wantu_queue {
    constructor_call(|| {
        let signal = Signal::new()?;
        register(
            &QUEUES,
            Queue {
                events: Mutex::new(Events::default()),
                ready: Condvar::new(),
                signal,
            },
        )
    })
}

/// Frees a queue. Completions waiting in it are freed with it (their JSON
/// too); operations still running that deliver to it complete into
/// nothing, so free the queue after its operations are done (or accept
/// that their answers are lost). A thread blocked in `wantu_queue_wait`
/// on it returns -1. NULL, a freed or unknown handle do nothing.
#[no_mangle]
pub extern "C" fn wantu_queue_free(queue: *mut wantu_queue) {
    if let Some(q) = QUEUES.remove(queue as usize) {
        q.close();
    }
}

/// A descriptor that is readable while events wait in the queue, for
/// poll/epoll/select, libuv or asyncio. Never read from it or close it
/// yourself; when it is readable, take events with `wantu_queue_take`
/// until it answers 0. On Windows there is none: answers -1 (use
/// `wantu_queue_wait` on a thread of your own, or `wantu_queue_take` from
/// a timer). Answers -1 for NULL or an unknown queue too.
#[no_mangle]
pub extern "C" fn wantu_queue_fd(queue: *const wantu_queue) -> c_int {
    queue_of(queue).map_or(-1, |q| q.signal.fd())
}

fn queue_of(queue: *const wantu_queue) -> Option<Arc<Queue>> {
    if queue.is_null() {
        return None;
    }
    self::queue(queue)
}

/// Waits up to `timeout_ms` milliseconds (negative: without limit) for an
/// event and moves it into `*event`. Answers 1 when an event was taken, 0
/// when the time ran out, and -1 when `queue` or `event` is NULL or not
/// live, or the queue was freed while waiting. Do not wait with a
/// non-zero timeout from inside a completion or progress callback: the
/// library thread running it would wait for itself; there it answers -1 at
/// once.
///
/// # Safety
/// `event` is NULL or points to a writable `wantu_event`.
#[no_mangle]
pub unsafe extern "C" fn wantu_queue_wait(
    queue: *const wantu_queue,
    timeout_ms: c_int,
    event: *mut wantu_event,
) -> c_int {
    let Some(q) = queue_of(queue) else { return -1 };
    if event.is_null() {
        return -1;
    }
    if timeout_ms != 0 && tokio::runtime::Handle::try_current().is_ok() {
        tracing::warn!("wantu_queue_wait with a timeout from a library thread; refused");
        return -1;
    }
    let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
    let taken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| q.take(timeout)));
    match taken {
        Ok(Some(p)) => {
            // SAFETY: `event` is writable, as the caller promised.
            unsafe { event.write(into_event(p)) };
            1
        }
        Ok(None) => 0,
        Err(_) => -1,
    }
}

/// Takes one waiting event without blocking: `wantu_queue_wait` with a
/// timeout of 0 (1 taken, 0 none waiting, -1 bad arguments). May be called
/// from anywhere, callbacks included.
///
/// # Safety
/// As `wantu_queue_wait`.
#[no_mangle]
pub unsafe extern "C" fn wantu_queue_take(
    queue: *const wantu_queue,
    event: *mut wantu_event,
) -> c_int {
    // SAFETY: the same promises, passed on.
    unsafe { wantu_queue_wait(queue, 0, event) }
}

fn into_event(p: Pending) -> wantu_event {
    match p {
        Pending::Done {
            op,
            user_data,
            result,
        } => wantu_event {
            kind: WANTU_EVENT_DONE,
            op: op as *mut wantu_op,
            user_data: user_data.0,
            result: result.into_raw(),
            sent: 0,
            total: 0,
        },
        Pending::Progress(op) => {
            let (sent, total) = op.take_progress();
            wantu_event {
                kind: WANTU_EVENT_PROGRESS,
                op: op.token() as *mut wantu_op,
                user_data: op.user_data(),
                result: std::ptr::null_mut(),
                sent,
                total,
            }
        }
    }
}

/// The queue's readiness descriptor: a non-blocking pipe holding one byte
/// while events wait (level-triggered for every poller).
#[cfg(unix)]
struct Signal {
    read: c_int,
    write: c_int,
}

#[cfg(unix)]
impl Signal {
    fn new() -> crate::Result<Signal> {
        let mut fds = [0 as c_int; 2];
        // SAFETY: `fds` has room for the two descriptors pipe writes.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(crate::Error::Io(format!(
                "cannot make the completion queue's descriptor: {}",
                std::io::Error::last_os_error()
            )));
        }
        for fd in fds {
            // SAFETY: plain fcntl calls on descriptors we own.
            unsafe {
                libc::fcntl(
                    fd,
                    libc::F_SETFL,
                    libc::fcntl(fd, libc::F_GETFL) | libc::O_NONBLOCK,
                );
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        Ok(Signal {
            read: fds[0],
            write: fds[1],
        })
    }

    fn fd(&self) -> c_int {
        self.read
    }

    fn raise(&self) {
        let byte = 1u8;
        // SAFETY: writes one byte from a live local; a full pipe (EAGAIN)
        // already signals.
        unsafe { libc::write(self.write, (&byte as *const u8).cast(), 1) };
    }

    fn clear(&self) {
        let mut buf = [0u8; 64];
        // SAFETY: reads into a live local buffer until the pipe is empty.
        while unsafe { libc::read(self.read, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    }
}

#[cfg(unix)]
impl Drop for Signal {
    fn drop(&mut self) {
        // SAFETY: both descriptors are ours and closed once.
        unsafe {
            libc::close(self.read);
            libc::close(self.write);
        }
    }
}

/// Windows has no pollable descriptor for this; waiting is done with
/// `wantu_queue_wait`.
#[cfg(not(unix))]
struct Signal;

#[cfg(not(unix))]
impl Signal {
    fn new() -> crate::Result<Signal> {
        Ok(Signal)
    }
    fn fd(&self) -> c_int {
        -1
    }
    fn raise(&self) {}
    fn clear(&self) {}
}
