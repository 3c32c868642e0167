//! The library's many-files engines as the tool uses them: the progress
//! bars fed from their byte counts, and their result documents turned into
//! one report line per file (their options come from `options.rs`).
//!
//! - `wantu::upload_dir`: a local folder to a remote one (`cp -r` up,
//!   `sync` up);
//! - `wantu::download_dir`: a remote folder to a local one (`cp -r` down,
//!   `sync` down);
//! - `wantu::download_file`: one remote file (`cp` down).
//!
//! Both folder engines compare size, then MD5, with `skip: md5` (`cp -r`,
//! `sync --checksum`), or size and recorded modification time first with
//! `skip: mtime` (`sync`); that is what makes a second `sync` send nothing
//! and a rerun of an interrupted `cp -r` go on where it stopped.

use crate::args::TransferArgs;
use crate::fail::{explain, Fail, Host, Outcome};
use crate::options::{download_options, own_policy, upload_options};
use crate::remote::Remote;
use crate::report::{Action, Report};
use serde_json::{Map, Value};
use std::path::Path;
use wantu::transfer::CancelToken;
use wantu::tree::Skip;
use wantu::Client;

/// Runs a folder engine's call with the bars fed from its byte counts.
pub fn with_progress<T>(
    report: &mut Report,
    what: &str,
    cancel: &CancelToken,
    call: impl FnOnce(&mut dyn FnMut(u64, Option<u64>) -> bool) -> T,
) -> T {
    report.start_progress(None, 0);
    let bars = report.bars();
    if let Some(b) = bars {
        b.set_message(what);
    }
    let mut on_progress = |done: u64, total: Option<u64>| {
        if let Some(b) = bars {
            b.call_progress(done, total);
        }
        !cancel.is_triggered()
    };
    call(&mut on_progress)
}

/// A local folder to `to` with the folder engine (`wantu::upload_dir`):
/// every file to `to` + its relative path; one report line per file.
/// `skip` is the rule for files already there (`cp -r`: size and MD5).
#[allow(clippy::too_many_arguments)]
pub fn upload_folder(
    client: &Client,
    report: &mut Report,
    local: &Path,
    to: &Remote,
    args: &TransferArgs,
    skip: Skip,
    dry_run: bool,
    cancel: &CancelToken,
) -> Outcome {
    let opts = upload_options(args, skip, dry_run)?;
    let policy = own_policy(&to.namespace)?;
    let shown = local.display().to_string();
    let answer = with_progress(report, &shown, cancel, |p| {
        wantu::upload_dir(
            client,
            &policy,
            local,
            &to.dir,
            &opts,
            Some(p),
            Some(cancel),
        )
    })
    .map_err(|e| explain(&e, client, Host::Upload))?;
    report_results(client, report, &parse(&answer)?, Way::Up, local, to)
}

/// A remote folder to `local` with the download engine
/// (`wantu::download_dir`); local files that `skip` finds the same are
/// skipped. One report line per file.
#[allow(clippy::too_many_arguments)]
pub fn download_folder(
    client: &Client,
    report: &mut Report,
    folder: &Remote,
    local: &Path,
    args: &TransferArgs,
    skip: Skip,
    dry_run: bool,
    cancel: &CancelToken,
) -> Outcome {
    let mut opts = download_options(args)?;
    opts.skip = skip;
    opts.dry_run = dry_run;
    let answer = with_progress(report, &folder.to_string(), cancel, |p| {
        wantu::download_dir(
            client,
            &folder.namespace,
            &folder.dir,
            local,
            opts,
            Some(p),
            Some(cancel),
        )
    });
    report_results(client, report, &parse(&answer)?, Way::Down, local, folder)
}

/// An engine's answer as a JSON value, whether it came as a document or
/// as its text.
fn parse(answer: &impl serde::Serialize) -> Outcome<Value> {
    let value = serde_json::to_value(answer)
        .map_err(|e| Fail::Failed(format!("the library's answer is not JSON: {e}")))?;
    match value {
        Value::String(text) => serde_json::from_str(&text)
            .map_err(|e| Fail::Failed(format!("the library's answer is not JSON: {e}"))),
        other => Ok(other),
    }
}

/// Which way files go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Up,
    Down,
}

/// Reports each file of a folder engine's result document: `path` is
/// where it came from, `to` where it went. Answers an error for the whole
/// call (keys refused, nothing could start) after the files.
pub fn report_results(
    client: &Client,
    report: &mut Report,
    doc: &Value,
    way: Way,
    local_root: &Path,
    remote_root: &Remote,
) -> Outcome {
    let Some(results) = doc["results"].as_array() else {
        // Refused before any file: the whole call's error.
        return Err(doc_error(doc, client, way));
    };
    let mut refused = None;
    for r in results {
        let rel = r["path"].as_str().unwrap_or_default();
        let local = local_root.join(rel).display().to_string();
        let remote = format!("{remote_root}{rel}");
        let (from, to) = match way {
            Way::Up => (local, remote),
            Way::Down => (remote, local),
        };
        let action = r[wantu::report::STATUS_KEY]
            .as_str()
            .and_then(Action::parse)
            .unwrap_or(Action::Failed);
        let mut fields = Map::new();
        fields.insert("to".into(), to.into());
        for key in [
            "size",
            "md5",
            "multipart",
            "parts",
            "resumed_parts",
            "reason",
            "id",
            "upload_id",
        ] {
            if let Some(v) = r.get(key) {
                fields.insert(key.into(), v.clone());
            }
        }
        let error = (action == Action::Failed).then(|| {
            if r["code"] == 401 {
                refused.get_or_insert_with(|| r.clone());
            }
            // With the hint that fits (an unreachable endpoint names the
            // flags and variables that set it).
            doc_error(r, client, way).to_string()
        });
        report.file(&from, action, error.as_deref(), Value::Object(fields));
    }
    match refused {
        // The keys failed every file alike: say so once, as a
        // configuration error.
        Some(r) => Err(doc_error(&r, client, way)),
        None => Ok(()),
    }
}

/// A result document's error as the tool reports it (exit code and a
/// message that says how to fix it).
pub fn doc_error(doc: &Value, client: &Client, way: Way) -> Fail {
    let message = doc["message"].as_str().unwrap_or("failed").to_string();
    let code = doc["code"].as_u64().unwrap_or(0) as u16;
    let err = match doc["error"].as_str().unwrap_or_default() {
        _ if code != 0 => wantu::Error::Server {
            status: code,
            code: doc["error"].as_str().unwrap_or_default().to_string(),
            message,
            request_id: doc["request_id"].as_str().unwrap_or_default().to_string(),
        },
        "InvalidArgument" => wantu::Error::InvalidArgument(message),
        "ConnectError" => wantu::Error::Connect(message),
        "Timeout" => wantu::Error::Timeout(message),
        _ => return Fail::Failed(message),
    };
    let host = match way {
        Way::Up => Host::Upload,
        // Downloads start with the manage API (listing, metadata).
        Way::Down => Host::Manage,
    };
    explain(&err, client, host)
}
