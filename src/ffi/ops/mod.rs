//! Operations: what every network call of the C surface becomes, in its
//! blocking form (`wantu_X`) and its non-blocking form (`wantu_X_async`).
//!
//! A call's checked, owned arguments are a `Job`, made once by the call's
//! single description (`network_call!` in define.rs):
//! - `blocking` runs the job on the calling thread and answers its JSON;
//! - `start` registers an operation, runs the job on the client's runtime
//!   (or, for the calls that drive their own loop, on one of the client's
//!   few call threads) and delivers its JSON exactly once, to a completion
//!   queue (queue.rs) or a completion callback (op.rs).
//!
//! The rules a C caller relies on are written in docs/async.md and in the
//! header beside `wantu_async`.

#[macro_use]
mod define;
mod handle;
mod hosted;
mod job;
mod op;
mod pool;
mod queue;

pub use handle::wantu_op;
pub(crate) use handle::SendPtr;
pub(crate) use hosted::Hosted;
pub(crate) use job::{blocking, Form, Job};
pub(crate) use op::start;
pub use op::{wantu_async, wantu_done_fn, wantu_op_cancel, wantu_op_free};
pub use queue::{
    wantu_event, wantu_queue, wantu_queue_fd, wantu_queue_free, wantu_queue_new, wantu_queue_take,
    wantu_queue_wait, WANTU_EVENT_DONE, WANTU_EVENT_PROGRESS,
};
