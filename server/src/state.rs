//! Shared server state.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::http::error::{ApiError, ApiResult};
use crate::http::faults::Faults;
use crate::storage::Store;
use crate::upload::multipart::locks::UploadLocks;
use crate::{Config, Limits, RecordedRequest};

/// The part of the state that the [`crate::ServerHandle`] also holds. It
/// deliberately excludes the store, so that stopping the server closes the
/// database even while a handle is alive.
pub struct Shared {
    pub journal: Mutex<Vec<RecordedRequest>>,
    pub faults: Faults,
    /// How blockComplete built files, for tests and diagnostics.
    pub completed_in_place: AtomicU64,
    pub completed_by_copy: AtomicU64,
    /// [`crate::FaultConfig::disk_full`], shared with the store.
    pub disk_full: Arc<AtomicBool>,
}

impl Shared {
    pub fn new(config: &Config) -> Self {
        Shared {
            journal: Mutex::new(Vec::new()),
            faults: Faults::new(&config.faults),
            completed_in_place: AtomicU64::new(0),
            completed_by_copy: AtomicU64::new(0),
            disk_full: Arc::new(AtomicBool::new(config.faults.disk_full)),
        }
    }

    pub fn record(&self, r: RecordedRequest) {
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(r);
    }
}

pub struct AppState {
    pub keys: HashMap<String, String>,
    pub store: Arc<Store>,
    /// Base of delivery URLs, without a trailing slash.
    pub base_url: String,
    pub shared: Arc<Shared>,
    /// For upload callbacks.
    pub http: reqwest::Client,
    pub uploads: UploadLocks,
    pub limits: Limits,
}

/// `addr` with an unspecified IP (0.0.0.0, ::) replaced by loopback.
pub fn connectable(mut addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    addr
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl AppState {
    pub fn new(config: &Config, addr: SocketAddr, shared: Arc<Shared>) -> io::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let store =
            Store::open(&config.data_dir, now_ms())?.simulate_disk_full(shared.disk_full.clone());
        let base_url = match &config.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", connectable(addr)),
        };
        let http = reqwest::Client::builder()
            // Callbacks go to loopback only; a redirect or an environment
            // proxy must not take them elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(io::Error::other)?;
        Ok(AppState {
            keys: config.keys.iter().cloned().collect(),
            store: Arc::new(store),
            base_url,
            shared,
            http,
            uploads: UploadLocks::default(),
            limits: config.limits.clone(),
        })
    }

    /// Runs database or file-system work off the async workers.
    pub async fn blocking<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> ApiResult<T> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| ApiError::internal(format!("storage task failed: {e}")))?
    }

    /// Removes objects that nothing references any more.
    pub async fn remove_blobs(&self, blobs: Vec<String>) {
        if blobs.is_empty() {
            return;
        }
        let _ = self
            .blocking(move |s| {
                blobs.iter().for_each(|b| s.remove_blob(b));
                Ok(())
            })
            .await;
    }
}
