//! What the accept loop knows about each open connection, so that it can
//! cap their number and close idle ones: bytes moving (any read or write)
//! and whether a request is in flight (from its head to the end of its
//! answer's body).

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// One connection's activity.
pub struct Activity {
    opened: Instant,
    /// Milliseconds since `opened` of the last byte read or written.
    last_io_ms: AtomicU64,
    in_flight: AtomicUsize,
    /// Asks the connection to close (it is the longest idle at the cap).
    pub evict: Notify,
}

impl Activity {
    fn new() -> Self {
        Activity {
            opened: Instant::now(),
            last_io_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            evict: Notify::new(),
        }
    }

    fn touch(&self) {
        let ms = self.opened.elapsed().as_millis() as u64;
        self.last_io_ms.store(ms, Relaxed);
    }

    fn last_io(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_io_ms.load(Relaxed))
    }

    pub fn busy(&self) -> bool {
        self.in_flight.load(Relaxed) > 0
    }

    /// How long the connection has had no request and moved no byte;
    /// `None` while a request is in flight.
    pub fn idle_for(&self) -> Option<Duration> {
        (!self.busy()).then(|| self.last_io().elapsed())
    }

    /// Marks a request in flight until the guard is dropped.
    pub fn start_request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(self.clone())
    }
}

/// A request in flight; dropped when its answer's body is finished or
/// abandoned.
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

/// The open connections.
#[derive(Default)]
pub struct Registry {
    conns: Mutex<HashMap<u64, Arc<Activity>>>,
    next: AtomicU64,
}

/// A registered connection; unregisters when dropped.
pub struct Registered {
    registry: Arc<Registry>,
    id: u64,
    pub activity: Arc<Activity>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.map().remove(&self.id);
    }
}

impl Registry {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Activity>>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn register(self: &Arc<Self>) -> Registered {
        let id = self.next.fetch_add(1, Relaxed);
        let activity = Arc::new(Activity::new());
        self.map().insert(id, activity.clone());
        Registered {
            registry: self.clone(),
            id,
            activity,
        }
    }

    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether some connection could give way to a new one.
    pub fn has_idle(&self) -> bool {
        self.map().values().any(|a| !a.busy())
    }

    /// Asks the connection idle the longest to close and stops counting
    /// it; false if none is idle.
    pub fn evict_longest_idle(&self) -> bool {
        let mut map = self.map();
        let victim = map
            .iter()
            .filter_map(|(id, a)| a.idle_for().map(|d| (d, *id)))
            .max_by_key(|(d, _)| *d);
        match victim.and_then(|(_, id)| map.remove(&id)) {
            Some(a) => {
                a.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// A connection's socket, noting every byte that moves.
pub struct TrackedIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> TrackedIo<T> {
    pub fn new(inner: T, activity: Arc<Activity>) -> Self {
        TrackedIo { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TrackedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TrackedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// An answer's body that keeps its request in flight until it is sent.
pub struct TrackedBody {
    inner: Body,
    _in_flight: InFlight,
}

impl TrackedBody {
    pub fn wrap(inner: Body, in_flight: InFlight) -> Body {
        Body::new(TrackedBody {
            inner,
            _in_flight: in_flight,
        })
    }
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
