//! Downloads: one stored file, or a remote folder tree, to local disk
//! (user guide in docs/downloads.md); or one file's bytes, in order, to the
//! caller (docs/streams.md).
//!
//! - `options`: the options JSON.
//! - `remote`: a stored file's `url`, `size` and `md5` from the manage API.
//! - `fetch`: one range GET, streamed to its offset, checked and retried.
//! - `partial`: the temporary file beside the target and its resume sidecar.
//! - `file`: one file's ranges in parallel, MD5 check, rename.
//! - `lister`: the remote tree listed as a stream, a page at a time.
//! - `plan`: which remote names may become local paths.
//! - `dir`: the folder download's scheduler and result document.
//! - `stream`: a file or a range of it, in order, to a write callback or
//!   into memory (docs/streams.md).
//!
//! Threads of one call: the calling thread drives the call's future and
//! runs the progress callback between polls; the work itself (requests,
//! writes) runs in tasks on the client's runtime workers, and MD5s of
//! multi-range files on its blocking pool. Nothing outlives the call.

mod dir;
mod fetch;
mod file;
mod lister;
pub mod options;
pub mod partial;
pub mod plan;
pub mod stream;

pub use crate::remote_file::RemoteFile;
pub use options::{DownloadOptions, Skip};
pub use stream::{download_to, download_to_memory, ByteRange, Consumer, StreamOptions};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::results::OnFile;
use crate::transfer::progress::{Callback, Progress, Reporter};
use crate::transfer::CancelToken;
use file::{FileStats, Job, Shared};
use serde_json::{Map, Value};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

/// Downloads `ns:dir/name` to `local_path`: its metadata from the manage
/// API, then the URL the service gives, in parallel ranges when larger
/// than one part, into a temporary file beside `local_path`, MD5 checked,
/// then renamed. Answers the result JSON (see docs/downloads.md).
#[allow(clippy::too_many_arguments)]
pub fn download_file(
    client: &Client,
    ns: &str,
    dir: &str,
    name: &str,
    local_path: &Path,
    opts: DownloadOptions,
    progress: Option<Callback<'_>>,
    cancel: Option<&CancelToken>,
) -> Value {
    let refused = opts
        .validate()
        .and_then(|()| opts.check_single_file())
        .and_then(|()| crate::manage::file_rid(ns, dir, name).map(|_| ()))
        .and_then(|()| check_local_path(local_path));
    if let Err(e) = refused {
        return crate::result::error(&e);
    }
    let call = Call::new(client, opts);
    let shared = call.shared.clone();
    let internal = call.internal.clone();
    let local = local_path.to_path_buf();
    let outcome = call.drive(client, progress, cancel, async move {
        let meta = tokio::select! {
            _ = internal.cancelled() => Err(Error::Cancelled("the download was cancelled".into())),
            m = client.file_get(ns, dir, name) => m,
        }?;
        let source = format!(
            "{ns}:{}",
            crate::manage::normalize_dir(&format!("{dir}/{name}"))
        );
        let remote = RemoteFile::from_object(&meta, &source)?;
        shared.progress.set_total(remote.size);
        let job = Job {
            remote,
            source,
            local,
        };
        // The transfer runs on a worker, so a slow progress callback on the
        // calling thread does not hold the bytes up.
        let task = client.handle().spawn(async move {
            let mut stats = FileStats::default();
            let r = file::download(&shared, &job, &internal, &mut stats).await;
            (r, stats, job)
        });
        let (r, stats, job) = task
            .await
            .map_err(|e| Error::Internal(format!("the download task failed: {e}")))?;
        let mut m = Map::new();
        m.insert("path".into(), job.local.display().to_string().into());
        m.insert("size".into(), job.remote.size.into());
        m.insert("md5".into(), job.remote.md5.clone().into());
        m.insert("url".into(), job.remote.url.clone().into());
        stats.add_to(&mut m);
        Ok(match r {
            Ok(()) => crate::result::local_success(m),
            Err(e) => {
                let mut v = crate::result::error(&e);
                if let Value::Object(err) = &mut v {
                    err.extend(m);
                }
                v
            }
        })
    });
    crate::result::to_json(outcome)
}

/// Downloads every file under `ns:remote_dir` into `local_dir`, keeping
/// the folder structure. Answers one result document (docs/downloads.md);
/// `on_file` is given each file's result as the file ends, on the calling
/// thread.
#[allow(clippy::too_many_arguments)]
pub fn download_dir(
    client: &Client,
    ns: &str,
    remote_dir: &str,
    local_dir: &Path,
    opts: DownloadOptions,
    progress: Option<Callback<'_>>,
    on_file: Option<OnFile<'_>>,
    cancel: Option<&CancelToken>,
) -> Value {
    if let Err(e) = opts.validate() {
        return crate::result::error(&e);
    }
    let call = Call::new(client, opts);
    let shared = call.shared.clone();
    let internal = call.internal.clone();
    let user = cancel.cloned();
    let outcome = call.drive(client, progress, cancel, async move {
        let user_cancelled = || user.as_ref().is_some_and(CancelToken::is_triggered);
        dir::run(
            client,
            shared,
            ns,
            remote_dir,
            local_dir,
            on_file,
            &internal,
            user_cancelled,
        )
        .await
    });
    crate::result::to_json(outcome)
}

/// Refuses a `local_path` that cannot take a file before anything is sent.
fn check_local_path(path: &Path) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Err(Error::invalid("`local_path` is empty; pass a file path"));
    }
    if path.is_dir() {
        return Err(Error::invalid(format!(
            "`local_path` {} is a folder; pass the path of the file to write",
            path.display()
        )));
    }
    partial::temp_paths(path)?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(Error::Io(format!(
            "`local_path` {}: the folder {} does not exist",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

/// What one call sets up: the shared state and its cancel token.
struct Call {
    shared: Arc<Shared>,
    notify: Arc<Notify>,
    internal: CancellationToken,
}

impl Call {
    fn new(client: &Client, opts: DownloadOptions) -> Call {
        let notify = Arc::new(Notify::new());
        let nudge = notify.clone();
        let shared = Arc::new(Shared {
            http: client.http().clone(),
            requests: Semaphore::new(opts.concurrency as usize),
            progress: Arc::new(Progress::new(None, move || nudge.notify_one())),
            opts,
            rate: client.rate_limit().cloned(),
        });
        Call {
            shared,
            notify,
            internal: CancellationToken::new(),
        }
    }

    /// Runs the call's future on the calling thread, reporting progress
    /// between polls (every 100 ms and each MiB) and turning the user's
    /// cancel or a callback's "stop" into the internal cancel within 50 ms.
    fn drive(
        self,
        client: &Client,
        progress: Option<Callback<'_>>,
        user: Option<&CancelToken>,
        work: impl Future<Output = Result<Value>>,
    ) -> Result<Value> {
        let mut reporter = Reporter::new(progress);
        let counter = self.shared.progress.clone();
        let internal = self.internal.clone();
        let notify = self.notify.clone();
        let result = client.run(async {
            tokio::pin!(work);
            loop {
                // Checked before each poll, the first one included: a
                // triggered token or a callback's first "stop" ends the
                // call before anything is fetched.
                counter.nudge_taken();
                if user.is_some_and(CancelToken::is_triggered) {
                    internal.cancel();
                }
                if !reporter.maybe(&counter) {
                    internal.cancel();
                }
                let tick = reporter.due_in().min(Duration::from_millis(50));
                tokio::select! {
                    r = &mut work => break r,
                    _ = notify.notified() => {}
                    _ = tokio::time::sleep(tick.max(Duration::from_millis(1))) => {}
                }
            }
        });
        // Whatever happened, nothing may keep running after the call.
        self.internal.cancel();
        let result = result?;
        if let Ok(v) = &result {
            if v["code"] == 200 && !self.shared.opts.dry_run {
                reporter.finish(counter.total().unwrap_or_else(|| counter.sent()));
            }
        }
        result
    }
}
