//! A request body shared between the handler and the connection wrapper.
//!
//! The handler consumes it as a normal stream; afterwards the wrapper can
//! drain what the handler left unread (so an early error answer reaches
//! the client instead of being lost in a reset) and knows how many bytes
//! came in, for the log.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

/// Unread bodies beyond this are not drained: the connection is closed.
const DRAIN_MAX_BYTES: u64 = 256 << 20;
const DRAIN_MAX_TIME: Duration = Duration::from_secs(30);

struct State {
    stream: BodyDataStream,
    /// No byte for this long ends the body with an error.
    timeout: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    timed_out: bool,
    bytes: u64,
    polled: bool,
    done: bool,
}

#[derive(Clone)]
pub struct SharedBody(Arc<Mutex<State>>);

struct SharedStream(Arc<Mutex<State>>);

impl Stream for SharedStream {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if s.done {
            return Poll::Ready(None);
        }
        s.polled = true;
        let r = s.stream.poll_next_unpin(cx);
        match &r {
            Poll::Ready(Some(Ok(b))) => {
                s.bytes += b.len() as u64;
                s.deadline = None;
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => s.done = true,
            Poll::Pending => {
                let timeout = s.timeout;
                let deadline = s
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if deadline.as_mut().poll(cx).is_ready() {
                    s.done = true;
                    s.timed_out = true;
                    return Poll::Ready(Some(Err(axum::Error::new(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the request body stalled past the body timeout",
                    )))));
                }
            }
        }
        r
    }
}

impl SharedBody {
    pub fn new(body: Body, timeout: Duration) -> Self {
        SharedBody(Arc::new(Mutex::new(State {
            stream: body.into_data_stream(),
            timeout,
            deadline: None,
            timed_out: false,
            bytes: 0,
            polled: false,
            done: false,
        })))
    }

    /// A body for the handler reading from the shared stream.
    pub fn body(&self) -> Body {
        Body::from_stream(SharedStream(self.0.clone()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn bytes_read(&self) -> u64 {
        self.lock().bytes
    }

    /// The body stalled past its timeout (and was abandoned).
    pub fn timed_out(&self) -> bool {
        self.lock().timed_out
    }

    pub fn was_polled(&self) -> bool {
        self.lock().polled
    }

    /// Reads and discards the rest of the body, within limits.
    pub async fn drain(&self) {
        let start = self.bytes_read();
        let mut stream = SharedStream(self.0.clone());
        let work = async {
            while let Some(Ok(_)) = stream.next().await {
                if self.bytes_read() - start > DRAIN_MAX_BYTES {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_MAX_TIME, work).await;
    }

    /// Reads at most one chunk (waiting briefly), so that an injected reset
    /// happens mid-body like a real network failure.
    pub async fn read_some(&self) {
        let mut stream = SharedStream(self.0.clone());
        let _ = tokio::time::timeout(Duration::from_millis(500), stream.next()).await;
    }
}
