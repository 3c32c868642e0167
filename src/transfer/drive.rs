//! The calling thread's loop around a call's future: progress callbacks
//! when due, the stream reader when a buffer is free, and the engine's
//! answer. Everything here runs on the thread that called libwantu, which
//! is why callbacks never run on I/O threads.

use super::engine::Event;
use super::progress::{Progress, Reporter};
use super::source::Producer;
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

/// Polls `work` to its end while calling the progress callback when due
/// (a false answer cancels `cancel`) and feeding a stream's producer.
pub async fn drive<T>(
    work: impl Future<Output = T>,
    inbox: &mut UnboundedReceiver<Event>,
    progress: &Progress,
    reporter: &mut Reporter<'_>,
    producer: &mut Option<Producer<'_>>,
    cancel: &CancellationToken,
    stop: &CancellationToken,
) -> T {
    tokio::pin!(work);
    loop {
        if !reporter.maybe(progress) {
            cancel.cancel();
        }
        let read_now = producer.as_ref().is_some_and(|p| p.ready());
        let due = reporter.due_in().max(Duration::from_millis(1));
        tokio::select! {
            biased;
            r = &mut work => return r,
            Some(ev) = inbox.recv() => match ev {
                Event::Nudge => progress.nudge_taken(),
                Event::SlotFree => {
                    if let Some(p) = producer.as_mut() {
                        p.slots += 1;
                    }
                }
            },
            // Reads one part (blocking this thread), then polls the engine
            // again before the next, so parts go out as they are read.
            _ = std::future::ready(()), if read_now => {
                if let Some(p) = producer.as_mut() {
                    p.step(stop, &mut || {
                        if !reporter.maybe(progress) {
                            cancel.cancel();
                        }
                    });
                    if let Some(total) = p.total() {
                        progress.set_total(total);
                    }
                }
            }
            _ = tokio::time::sleep(due) => {}
        }
    }
}
