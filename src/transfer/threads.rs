//! The two thread primitives of an upload call, built so that the calling
//! thread never registers a `std::thread::current()` handle.
//!
//! Why: std's `thread::scope` and its blocking channel receive both create
//! that handle, and on a C program's main thread it is never freed (thread
//! locals of the main thread are not destroyed at `exit`), which valgrind
//! reports as a possible leak in every C program that uploads. A mutex and
//! condition variable, and plain `JoinHandle::join`, need no such handle.

use crate::error::{Error, Result};
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A multi-producer, single-consumer queue the consumer can wait on with a
/// timeout.
pub struct Mailbox<T> {
    queue: Mutex<VecDeque<T>>,
    ready: Condvar,
}

impl<T> Mailbox<T> {
    pub fn new() -> Mailbox<T> {
        Mailbox {
            queue: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        }
    }

    pub fn send(&self, item: T) {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(item);
        self.ready.notify_one();
    }

    pub fn try_recv(&self) -> Option<T> {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
    }

    /// The next item, waiting at most `timeout` for one.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<T> {
        let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let (mut queue, _) = self
            .ready
            .wait_timeout_while(queue, timeout, |q| q.is_empty())
            .unwrap_or_else(|p| p.into_inner());
        queue.pop_front()
    }
}

/// Threads that may borrow from the caller's stack; all are joined when
/// the `Joiner` is dropped, including during a panic.
pub struct Joiner {
    handles: Vec<JoinHandle<()>>,
}

impl Joiner {
    pub fn new() -> Joiner {
        Joiner {
            handles: Vec::new(),
        }
    }

    /// Starts `f` on a new thread.
    ///
    /// # Safety
    /// Everything `f` borrows must outlive this `Joiner`, and the `Joiner`
    /// must be dropped, not leaked (`mem::forget`): its drop is what waits
    /// for `f` to finish before the borrows end. Declaring the `Joiner`
    /// after the borrowed values in one function guarantees both.
    pub unsafe fn spawn<'a>(&mut self, name: &str, f: impl FnOnce() + Send + 'a) -> Result<()> {
        let f: Box<dyn FnOnce() + Send + 'a> = Box::new(f);
        // SAFETY: the caller keeps the borrows alive until `drop` joins.
        let f: Box<dyn FnOnce() + Send + 'static> = std::mem::transmute(f);
        let handle = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(f)
            .map_err(|e| Error::Internal(format!("cannot start the {name} thread: {e}")))?;
        self.handles.push(handle);
        Ok(())
    }
}

impl Drop for Joiner {
    fn drop(&mut self) {
        for handle in self.handles.drain(..) {
            // A panic there was already turned into an error answer.
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn mailbox_waits_and_times_out() {
        let m = Mailbox::new();
        assert_eq!(m.recv_timeout(Duration::from_millis(5)), None);
        m.send(1);
        m.send(2);
        assert_eq!(m.try_recv(), Some(1));
        assert_eq!(m.recv_timeout(Duration::from_secs(5)), Some(2));
    }

    #[test]
    fn joiner_waits_for_borrowing_threads() {
        let count = AtomicUsize::new(0);
        let mailbox = Mailbox::new();
        {
            let mut j = Joiner::new();
            for _ in 0..3 {
                // SAFETY: `count` and `mailbox` outlive `j`, which is dropped below.
                unsafe {
                    j.spawn("test", || {
                        count.fetch_add(1, Ordering::SeqCst);
                        mailbox.send(());
                    })
                    .unwrap();
                }
            }
            assert!(mailbox.recv_timeout(Duration::from_secs(10)).is_some());
        }
        assert_eq!(
            count.load(Ordering::SeqCst),
            3,
            "all joined when the Joiner drops"
        );
    }
}
