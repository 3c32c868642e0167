//! A client as the C surface holds it: the client, plus what its
//! operations share (the shutdown signal, the count in flight, the cap
//! on running tasks, and the call threads).

use super::pool::CallThreads;
use crate::client::Client;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Operations of one client that may be pending (started, not yet
/// delivered) at once. Past it a start is answered at once with a
/// `TooManyOperations` error. A pending operation holds its owned
/// arguments (for an upload from memory, its bytes) and about 1 KiB more.
pub const MAX_PENDING_OPERATIONS: usize = 100_000;

/// How long `wantu_client_free` waits for the operations it cancelled to
/// deliver their completions before it lets them finish on their own.
const FREE_WAIT: Duration = Duration::from_secs(10);

/// The process that made the handle: a client's runtime threads do not
/// survive `fork`, so a child must make its own client.
fn this_process() -> u32 {
    std::process::id()
}

pub(crate) struct Hosted {
    pub client: Arc<Client>,
    pub ops: Arc<ClientOps>,
    pid: u32,
}

impl Hosted {
    pub fn new(client: Client) -> Hosted {
        // The client option `max_running_operations` bounds the requests,
        // connections and descriptors a burst of operations can open.
        let running = client.config().options.max_running_operations;
        Hosted {
            client: Arc::new(client),
            ops: Arc::new(ClientOps::new(running)),
            pid: this_process(),
        }
    }

    /// Whether this handle was made in this process (not before a fork).
    pub fn in_this_process(&self) -> bool {
        self.pid == this_process()
    }
}

pub(crate) struct ClientOps {
    /// Cancelled when the client handle is freed: every operation's own
    /// token is a child of it.
    pub shutdown: CancellationToken,
    pending: Mutex<usize>,
    idle: Condvar,
    /// Permits for running tasks (the client option `max_running_operations`).
    pub running: Arc<Semaphore>,
    pub threads: CallThreads,
}

impl ClientOps {
    fn new(running: usize) -> ClientOps {
        ClientOps {
            shutdown: CancellationToken::new(),
            pending: Mutex::new(0),
            idle: Condvar::new(),
            running: Arc::new(Semaphore::new(running.max(1))),
            threads: CallThreads::new(),
        }
    }

    fn count(&self) -> std::sync::MutexGuard<'_, usize> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a new pending operation; false when the cap is reached.
    pub fn admit(&self) -> bool {
        let mut n = self.count();
        if *n >= MAX_PENDING_OPERATIONS {
            return false;
        }
        *n += 1;
        true
    }

    /// An operation delivered its completion.
    pub fn finished(&self) {
        let mut n = self.count();
        *n = n.saturating_sub(1);
        if *n == 0 {
            self.idle.notify_all();
        }
    }

    /// Waits (bounded) until no operation is pending, then for the call
    /// threads to end. Answers whether everything ended in time.
    pub fn wait_idle(&self) -> bool {
        let deadline = Instant::now() + FREE_WAIT;
        let mut n = self.count();
        while *n > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            n = self
                .idle
                .wait_timeout(n, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        drop(n);
        self.threads.join();
        true
    }
}
