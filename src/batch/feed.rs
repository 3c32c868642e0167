//! What a many-files upload works through: the items (a file, bytes, or
//! what the walk could not upload) and where they come from (the folder
//! walk, a step at a time, or the jobs of a batch).

use super::walk::Found;
use crate::error::Error;
use crate::tree::remote_dir;
use crate::upload::Target;
use bytes::Bytes;
use std::path::PathBuf;
use tokio::task::JoinHandle;

/// One file for the scheduler.
pub(super) struct Item {
    /// `path` of the result: the relative path (folder) or the job's path.
    pub(super) shown: String,
    /// The size when the item was fed, for the progress total.
    pub(super) size_hint: u64,
    pub(super) index: Option<usize>,
    pub(super) what: What,
    pub(super) target: Target,
}

pub(super) enum What {
    File(PathBuf),
    Memory(Bytes),
    Skipped(String),
    Problem(Error),
}

/// Entries the walk produces per step on the blocking pool.
pub(super) const WALK_STEP: usize = 64;

/// The folder walk as items, `WALK_STEP` at a time.
pub(super) type Walker = Box<dyn Iterator<Item = Item> + Send>;

/// Where the items come from.
pub(super) enum Feed {
    /// The folder walk runs one step at a time on the runtime's blocking
    /// pool, only when the scheduler wants more, so it never holds a pool
    /// thread while it waits (a walk blocked on a full queue could starve
    /// the bounded pool that the files' MD5s need).
    Walk {
        walker: Option<Walker>,
        step: Option<JoinHandle<(Walker, Vec<Item>)>>,
        ready: std::collections::VecDeque<Item>,
    },
    Jobs(std::vec::IntoIter<Item>),
}

impl Feed {
    pub(super) fn walk(walker: Walker) -> Feed {
        Feed::Walk {
            walker: Some(walker),
            step: None,
            ready: Default::default(),
        }
    }

    /// Waits for a walk step in flight, if any, and drops the walk.
    pub(super) async fn settle(&mut self) {
        if let Feed::Walk { walker, step, .. } = self {
            if let Some(s) = step.take() {
                let _ = s.await;
            }
            walker.take();
        }
    }

    /// The next item, None at the end. Cancel-safe: a step in progress is
    /// kept in `step` and awaited again by the next call.
    pub(super) async fn next(&mut self) -> Option<Item> {
        let (walker, step, ready) = match self {
            Feed::Jobs(it) => return it.next(),
            Feed::Walk {
                walker,
                step,
                ready,
            } => (walker, step, ready),
        };
        loop {
            if let Some(item) = ready.pop_front() {
                return Some(item);
            }
            if step.is_none() {
                let mut w = walker.take()?;
                *step = Some(tokio::task::spawn_blocking(move || {
                    let items: Vec<Item> = w.by_ref().take(WALK_STEP).collect();
                    (w, items)
                }));
            }
            let done = step.as_mut().expect("just set").await;
            *step = None;
            match done {
                Ok((w, items)) => {
                    if items.len() == WALK_STEP {
                        *walker = Some(w);
                    }
                    ready.extend(items);
                }
                Err(e) => {
                    let error = Error::Internal(format!("the folder walk failed: {e}"));
                    return Some(Item {
                        shown: String::new(),
                        size_hint: 0,
                        index: None,
                        what: What::Problem(error),
                        target: Target::default(),
                    });
                }
            }
        }
    }
}

pub(super) fn item_of(found: Found, remote_root: &str) -> Item {
    let bare = |rel: &str| {
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        Target {
            dir: Some(remote_dir(remote_root, parent)),
            name: Some(name.to_string()),
            ..Target::default()
        }
    };
    match found {
        Found::File {
            rel,
            rel_parent,
            name,
            path,
        } => Item {
            target: Target {
                dir: Some(remote_dir(remote_root, &rel_parent)),
                name: Some(name),
                ..Target::default()
            },
            shown: rel,
            size_hint: 0,
            index: None,
            what: What::File(path),
        },
        Found::Skipped { rel, reason } => Item {
            target: bare(&rel),
            shown: rel,
            size_hint: 0,
            index: None,
            what: What::Skipped(reason),
        },
        Found::Problem { rel, error } => Item {
            target: bare(&rel),
            shown: rel,
            size_hint: 0,
            index: None,
            what: What::Problem(error),
        },
    }
}
