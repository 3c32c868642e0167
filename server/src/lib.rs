//! wantu-server: a protocol-faithful local Wantu media-storage service.
//!
//! One port serves the upload host (`/api/proxy/*`), the manage host
//! (`/3.0/*`, `/3.1/*`) and file delivery (`/files/*`). Metadata lives in
//! SQLite, content in files under the data directory. See docs/protocol.md
//! for the wire contract, docs/design.md for the layers and docs/server.md
//! for running it, its limits and what it does not do.
//!
//! Where a request goes: `http` reads it (accept loop, limits, timeouts)
//! and hands it to `routes`, which picks the upload host (`upload`),
//! the manage host (`manage`) or file delivery (`delivery`); they check
//! it (`auth`, `paths`), store it (`storage`) and answer it
//! (`http::error`, `upload::answer`).
//!
//! Tests start it in-process with `spawn`; the binary uses `serve`.

mod auth;
mod delivery;
#[doc(hidden)]
pub mod fuzz;
mod http;
mod manage;
mod paths;
mod routes;
mod state;
mod storage;
mod upload;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use state::{AppState, Shared};

/// Server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Data directory (created if missing). One server per directory.
    pub data_dir: PathBuf,
    /// Accepted keys as (AK, SK).
    pub keys: Vec<(String, String)>,
    /// Base for result `url`s; default `http://HOST:PORT` of the listener.
    pub public_url: Option<String>,
    /// Fault injection; the default injects nothing.
    pub faults: FaultConfig,
    /// Connection and request limits (see docs/server.md).
    pub limits: Limits,
}

/// What one peer can make the server spend. The defaults suit a
/// development server that strangers may reach; tests lower them.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Open connections at most. When the cap is reached the longest-idle
    /// connection with no request in flight is closed to make room (slow
    /// or silent peers give way to new ones); when every connection has a
    /// request in flight, new ones wait in the listen backlog. Clamped to
    /// the descriptor limit minus a reserve for files and the database.
    pub max_connections: usize,
    /// A request head must be complete this long after the connection was
    /// opened or its previous answer was sent.
    pub header_timeout: Duration,
    /// A connection with no request in flight that receives nothing for
    /// this long is closed.
    pub idle_timeout: Duration,
    /// A request body that delivers no byte for this long is abandoned:
    /// 408 `RequestTimeout`, nothing stored, connection closed.
    pub body_timeout: Duration,
    /// The largest file stored, whatever the policy says (simple upload
    /// content and the sum of a multipart upload's parts).
    pub max_object_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(60),
            max_object_size: 5 << 30,
        }
    }
}

impl Config {
    /// Listens on 127.0.0.1 with a free port, no faults.
    pub fn new(data_dir: impl Into<PathBuf>, keys: Vec<(String, String)>) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            keys,
            public_url: None,
            faults: FaultConfig::default(),
            limits: Limits::default(),
        }
    }
}

/// Fault injection rates (0..=1) for upload- and manage-host requests.
/// `/files/` delivery is never faulted.
#[derive(Clone, Debug, Default)]
pub struct FaultConfig {
    /// Answer 503 `ServiceUnavailable` without storing anything.
    pub error_rate: f64,
    /// Drop the connection abruptly (RST) after reading part of the body.
    pub reset_rate: f64,
    /// Delay the request by `delay_ms` before handling it.
    pub delay_rate: f64,
    pub delay_ms: u64,
    /// Seed for a repeatable fault sequence; random when `None`.
    pub seed: Option<u64>,
    /// Simulates a full disk: content writes fail with ENOSPC and database
    /// commits are rolled back, as SQLite does when it cannot write. Unlike
    /// the rates above it applies to every request while set.
    pub disk_full: bool,
}

/// A processing or scanning request that passed signature verification and
/// validation (and was then answered 501).
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Request target as sent, including the query.
    pub path: String,
    /// The decoded urlencoded body, in order.
    pub fields: Vec<(String, String)>,
    pub access_key: String,
}

/// How blockComplete built the files it committed since the server started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MultipartStats {
    /// The staging object became the file: no part data was copied (except
    /// re-uploaded parts patched into their ranges).
    pub completed_in_place: u64,
    /// Parts were copied into a new file (parts larger than part 1, or
    /// uneven part sizes).
    pub completed_by_copy: u64,
}

/// A server running on its own thread; stops when stopped or dropped.
pub struct ServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl ServerHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (an unspecified listen address such as
    /// 0.0.0.0 is given as loopback, so the URL is always connectable).
    pub fn base_url(&self) -> String {
        format!("http://{}", state::connectable(self.addr))
    }

    /// The processing journal, oldest first.
    pub fn processing_requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn multipart_stats(&self) -> MultipartStats {
        use std::sync::atomic::Ordering::Relaxed;
        MultipartStats {
            completed_in_place: self.shared.completed_in_place.load(Relaxed),
            completed_by_copy: self.shared.completed_by_copy.load(Relaxed),
        }
    }

    /// Changes fault injection for requests from now on.
    pub fn set_faults(&self, faults: FaultConfig) {
        use std::sync::atomic::Ordering::Relaxed;
        self.shared.disk_full.store(faults.disk_full, Relaxed);
        self.shared.faults.set(faults);
    }

    /// Stops gracefully (requests in flight get up to 10 s) and waits for
    /// the server thread, which closes the database.
    pub fn stop(mut self) {
        self.shutdown_and_join();
    }

    fn shutdown_and_join(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown_and_join();
    }
}

/// Runs the server on its own thread with its own tokio runtime; returns
/// once it is listening.
pub fn spawn(config: Config) -> io::Result<ServerHandle> {
    let listener = std::net::TcpListener::bind(config.listen)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared::new(&config));
    let state = Arc::new(AppState::new(&config, addr, shared.clone())?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("wantu-server")
        .enable_all()
        .build()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("wantu-server".into())
        .spawn(move || {
            let result = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                run(state, listener, async {
                    let _ = rx.await;
                })
                .await
            });
            // Waits for blocking storage tasks, so the database is closed
            // when the thread ends.
            runtime.shutdown_timeout(Duration::from_secs(10));
            result
        })?;
    Ok(ServerHandle {
        addr,
        shared,
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

/// Serves on `listener` until `shutdown` resolves, then stops gracefully.
/// Prints nothing but the request log (stderr).
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared::new(&config));
    let state = Arc::new(AppState::new(&config, addr, shared)?);
    run(state, listener, shutdown).await
}

/// Serves with the background expiry of abandoned multipart uploads.
async fn run(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let sweeper = tokio::spawn(upload::multipart::sweep_loop(state.clone()));
    let served = http::accept::run(state, listener, shutdown).await;
    sweeper.abort();
    served
}
