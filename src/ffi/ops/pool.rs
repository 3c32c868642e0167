//! The call threads of one client: where operations run whose calls drive
//! their own loop on one thread (progress callbacks, a caller's read
//! callback, the many-files engines). At most `CALL_THREADS` run at once;
//! later ones wait in line. A thread ends as soon as the line is empty, so
//! an idle client holds none.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Call threads of one client at most. Each such call runs its own
/// parallel requests, so a few at once already fill the link; the rest
/// wait without a thread.
pub const CALL_THREADS: usize = 4;

type Task = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Line {
    tasks: VecDeque<Task>,
    running: usize,
    handles: Vec<JoinHandle<()>>,
}

#[derive(Default)]
pub(crate) struct CallThreads {
    line: Arc<Mutex<Line>>,
}

fn lock(line: &Mutex<Line>) -> MutexGuard<'_, Line> {
    line.lock().unwrap_or_else(|e| e.into_inner())
}

impl CallThreads {
    pub fn new() -> CallThreads {
        CallThreads::default()
    }

    /// Queues `task`, starting a thread for it when fewer than
    /// `CALL_THREADS` run. Gives the task back when no thread can be made.
    pub fn submit(&self, task: Task) -> Result<(), Task> {
        let mut l = lock(&self.line);
        l.tasks.push_back(task);
        if l.running >= CALL_THREADS {
            return Ok(());
        }
        // Threads that ended are joined here, so handles do not pile up.
        let (done, alive): (Vec<_>, Vec<_>) = l.handles.drain(..).partition(|h| h.is_finished());
        l.handles = alive;
        let line = self.line.clone();
        let spawned = std::thread::Builder::new()
            .name("wantu-call".into())
            .spawn(move || {
                crate::client::block_sigpipe();
                loop {
                    let next = {
                        let mut l = lock(&line);
                        match l.tasks.pop_front() {
                            Some(t) => t,
                            None => {
                                l.running -= 1;
                                return;
                            }
                        }
                    };
                    next();
                }
            });
        match spawned {
            Ok(h) => {
                l.running += 1;
                l.handles.push(h);
                drop(l);
                for h in done {
                    let _ = h.join();
                }
                Ok(())
            }
            Err(_) if l.running > 0 => Ok(()),
            Err(_) => Err(l.tasks.pop_back().expect("the task just queued")),
        }
    }

    /// Joins every call thread (they end once the line is empty).
    pub fn join(&self) {
        let handles = std::mem::take(&mut lock(&self.line).handles);
        for h in handles {
            let _ = h.join();
        }
    }
}
