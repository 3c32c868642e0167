//! The accept loop, per-connection serving and the per-request wrapper
//! (request id, fault injection, draining, request log).
//!
//! hyper is driven directly rather than through `axum::serve` because an
//! injected reset must tear down one connection abruptly, which needs
//! control over the connection task.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::http::{header, Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use crate::body::SharedBody;
use crate::error::ApiError;
use crate::state::AppState;
use crate::{log, routes};

/// How long a graceful stop waits for requests in flight.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How often abandoned multipart uploads are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

pub async fn run(
    state: Arc<AppState>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let sweeper = tokio::spawn(sweep_loop(state.clone()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(connection(stream, state.clone(), stop_rx.clone()));
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
    sweeper.abort();
    Ok(())
}

async fn sweep_loop(state: Arc<AppState>) {
    loop {
        tokio::time::sleep(SWEEP_EVERY).await;
        crate::multipart::expire_abandoned(&state).await;
    }
}

async fn connection(stream: TcpStream, state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    // A second descriptor for the same socket, so that SO_LINGER can be set
    // after the stream moved into hyper (socket options are per socket).
    let dup = stream.as_fd().try_clone_to_owned().ok();
    let kill = Arc::new(Notify::new());
    let killer = kill.clone();
    let service = hyper::service::service_fn(move |req| handle(req, state.clone(), killer.clone()));
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = kill.notified() => {
                // Linger 0 turns the close into an RST: the client sees a
                // reset connection, not an orderly end.
                if let Some(fd) = &dup {
                    let _ = socket2::SockRef::from(fd).set_linger(Some(Duration::ZERO));
                }
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
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
    let body = SharedBody::new(Body::new(incoming));
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
    let resp = match injected {
        Some(r) => r,
        None => routes::dispatch(&state, req, &rid).await,
    };
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
    Ok(resp)
}
