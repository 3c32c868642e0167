//! The accept loop, per-connection serving and the per-request wrapper
//! (request id, fault injection, draining, request log).
//!
//! hyper is driven directly rather than through `axum::serve` because an
//! injected reset must tear down one connection abruptly, which needs
//! control over the connection task.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::http::{header, Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use super::log;
use crate::http::activity::{InFlight, Registered, Registry, TrackedBody, TrackedIo};
use crate::http::body::SharedBody;
use crate::http::error::ApiError;
use crate::routes;
use crate::state::AppState;

/// How long a graceful stop waits for requests in flight.
const STOP_GRACE: Duration = Duration::from_secs(10);

pub async fn run(
    state: Arc<AppState>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    let registry = Arc::new(Registry::default());
    let cap = connection_cap(state.limits.max_connections);
    tokio::pin!(shutdown);
    'serve: loop {
        // At the cap, accept only when an idle connection can give way;
        // otherwise new connections wait in the listen backlog.
        while registry.len() >= cap && !registry.has_idle() {
            tokio::select! {
                _ = &mut shutdown => break 'serve,
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
        }
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let conn = registry.register();
                    if registry.len() > cap {
                        registry.evict_longest_idle();
                    }
                    conns.spawn(connection(stream, state.clone(), conn, stop_rx.clone()));
                }
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    log::note(&format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let finish = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(STOP_GRACE, finish).await.is_err() {
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
    Ok(())
}

/// Descriptors kept free for content files, the database and the listener.
const FD_RESERVE: u64 = 64;

/// `wanted`, lowered so that every connection (one descriptor each) fits
/// under the process's descriptor limit with [`FD_RESERVE`] to spare.
fn connection_cap(wanted: usize) -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only into the struct it is given.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur
    } else {
        u64::MAX
    };
    let fits = soft.saturating_sub(FD_RESERVE).max(1);
    if (wanted as u64) > fits {
        log::note(&format!(
            "connection cap lowered from {wanted} to {fits}: the descriptor limit is {soft}"
        ));
        return fits as usize;
    }
    wanted.max(1)
}

async fn connection(
    stream: TcpStream,
    state: Arc<AppState>,
    conn: Registered,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    // Kept to set SO_LINGER after the stream moved into hyper; valid as
    // long as `served` (which owns the stream) is alive.
    let raw_fd = stream.as_raw_fd();
    let activity = conn.activity.clone();
    let idle_timeout = state.limits.idle_timeout;
    let header_timeout = state.limits.header_timeout;
    let body_timeout = state.limits.body_timeout;
    let kill = Arc::new(Notify::new());
    let killer = kill.clone();
    let tracked = activity.clone();
    let service = hyper::service::service_fn(move |req| {
        let in_flight = tracked.start_request();
        handle(req, state.clone(), killer.clone(), in_flight, body_timeout)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let served = builder.serve_connection(TokioIo::new(TrackedIo::new(stream, activity)), service);
    tokio::pin!(served);
    let mut stopping = false;
    let tick = (idle_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = served.as_mut() => return,
            _ = kill.notified() => {
                // Linger 0 turns the close into an RST: the client sees a
                // reset connection, not an orderly end.
                // SAFETY: `served` still owns the open socket.
                let fd = unsafe { BorrowedFd::borrow_raw(raw_fd) };
                let _ = socket2::SockRef::from(&fd).set_linger(Some(Duration::ZERO));
                return;
            }
            _ = conn.activity.evict.notified() => {
                // A request that started since the choice is served (the
                // connection then lives on uncounted, a rare overshoot).
                if !conn.activity.busy() {
                    return;
                }
            }
            _ = ticker.tick() => {
                if conn.activity.idle_for().is_some_and(|d| d >= idle_timeout) {
                    return;
                }
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                served.as_mut().graceful_shutdown();
            }
        }
    }
}

fn faultable(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/3.0/") || path.starts_with("/3.1/")
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<AppState>,
    kill: Arc<Notify>,
    in_flight: InFlight,
    body_timeout: Duration,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let rid = uuid::Uuid::new_v4().to_string();
    let method = req.method().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    let expects_continue = req
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let (parts, incoming) = req.into_parts();
    let body = SharedBody::new(Body::new(incoming), body_timeout);
    let req = Request::from_parts(parts, body.body());

    let mut injected = None;
    if faultable(req.uri().path()) {
        let d = state.shared.faults.decide();
        if let Some(delay) = d.delay {
            tokio::time::sleep(delay).await;
        }
        if d.error {
            // Nothing is stored: the body is read and thrown away so that
            // the 503 reliably reaches the client.
            body.drain().await;
            injected = Some(
                ApiError::service_unavailable("injected fault: service temporarily unavailable")
                    .into_response(&rid),
            );
        } else if d.reset {
            body.read_some().await;
            log::request(
                &method,
                &target,
                "RESET",
                body.bytes_read(),
                None,
                started.elapsed(),
            );
            kill.notify_one();
            // The connection task drops this future together with the socket.
            std::future::pending::<()>().await;
        }
    }
    let mut resp = match injected {
        Some(r) => r,
        None => routes::dispatch(&state, req, &rid).await,
    };
    if body.timed_out() {
        // Whatever the handler made of the cut-off body, nothing was
        // stored; say why, and end the connection (the body never ended).
        resp = ApiError::request_timeout(format!(
            "the request body sent nothing for {} ms (the server's body timeout); nothing was stored",
            body_timeout.as_millis()
        ))
        .into_response(&rid);
        resp.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    // A client waiting for "100 Continue" that we never asked for will not
    // send the body, so there is nothing to drain.
    if !expects_continue || body.was_polled() {
        body.drain().await;
    }
    let out = resp
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .or_else(|| resp.body().size_hint().exact());
    log::request(
        &method,
        &target,
        resp.status().as_str(),
        body.bytes_read(),
        out,
        started.elapsed(),
    );
    let (parts, out_body) = resp.into_parts();
    Ok(Response::from_parts(
        parts,
        TrackedBody::wrap(out_body, in_flight),
    ))
}
