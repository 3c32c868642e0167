//! The library's many-files engines as the tool uses them: the progress
//! bars fed from their byte counts, and each file's result turned into one
//! report line as the file ends (their options come from `options.rs`).
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
use wantu::results::{Keep, OnFile, ResultOptions};
use wantu::transfer::CancelToken;
use wantu::tree::Skip;
use wantu::Client;

/// Runs a folder engine's call with the bars fed from its byte counts and
/// each file's line printed as the file ends, not from the answer: the
/// engines are told to keep only the failures, so a call over any number
/// of files holds no per-file state here or in the library. Answers the
/// engine's answer as JSON, or the whole call's error.
fn run_engine(
    mut lines: FileLines,
    what: &str,
    cancel: &CancelToken,
    host: Host,
    call: impl FnOnce(&mut dyn FnMut(u64, Option<u64>) -> bool, OnFile) -> wantu::Result<Value>,
) -> Outcome {
    lines.start(what);
    let (client, way) = (lines.client, lines.way);
    let lines = std::cell::RefCell::new(lines);
    let answer = {
        let mut on_file = |r: &Map<String, Value>| lines.borrow_mut().line(r);
        let mut on_progress = |done: u64, total: Option<u64>| {
            lines.borrow().progress(done, total);
            !cancel.is_triggered()
        };
        call(&mut on_progress, &mut on_file)
    }
    .map_err(|e| explain(&e, client, host))?;
    let doc = parse(&answer)?;
    if doc["results"].as_array().is_none() {
        // Refused before any file: the whole call's error.
        return Err(doc_error(&doc, client, way));
    }
    lines.into_inner().finish()
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
    let opts = wantu::batch::BatchOptions {
        results: ResultOptions {
            keep: Keep::Failed,
            ..opts.results
        },
        ..opts
    };
    let lines = FileLines::new(client, report, Way::Up, local, to);
    let shown = local.display().to_string();
    run_engine(lines, &shown, cancel, Host::Upload, |progress, on_file| {
        wantu::upload_dir(
            client,
            &policy,
            local,
            &to.dir,
            &opts,
            Some(progress),
            Some(on_file),
            Some(cancel),
        )
        .map(Value::String)
    })
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
    opts.results = Keep::Failed;
    let lines = FileLines::new(client, report, Way::Down, local, folder);
    // Downloads start with the manage API (listing, metadata).
    run_engine(
        lines,
        &folder.to_string(),
        cancel,
        Host::Manage,
        |progress, on_file| {
            Ok(wantu::download_dir(
                client,
                &folder.namespace,
                &folder.dir,
                local,
                opts,
                Some(progress),
                Some(on_file),
                Some(cancel),
            ))
        },
    )
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

/// Turns a folder engine's per-file results into the tool's report
/// lines, one at a time, as they come.
pub struct FileLines<'a> {
    client: &'a Client,
    report: &'a mut Report,
    way: Way,
    local_root: &'a Path,
    remote_root: &'a Remote,
    /// The first file the keys were refused for.
    refused: Option<Value>,
}

impl<'a> FileLines<'a> {
    pub fn new(
        client: &'a Client,
        report: &'a mut Report,
        way: Way,
        local_root: &'a Path,
        remote_root: &'a Remote,
    ) -> FileLines<'a> {
        FileLines {
            client,
            report,
            way,
            local_root,
            remote_root,
            refused: None,
        }
    }

    /// Shows the bars, titled `what`.
    fn start(&mut self, what: &str) {
        self.report.start_progress(None, 0);
        if let Some(b) = self.report.bars() {
            b.set_message(what);
        }
    }

    /// The engine's byte counts, to the bars.
    fn progress(&self, done: u64, total: Option<u64>) {
        if let Some(b) = self.report.bars() {
            b.call_progress(done, total);
        }
    }

    /// One file's result object, as one report line.
    pub fn line(&mut self, r: &Map<String, Value>) {
        let rel = r.get("path").and_then(Value::as_str).unwrap_or_default();
        let local = self.local_root.join(rel).display().to_string();
        let remote = format!("{}{rel}", self.remote_root);
        let (from, to) = match self.way {
            Way::Up => (local, remote),
            Way::Down => (remote, local),
        };
        let action = r
            .get(wantu::report::STATUS_KEY)
            .and_then(Value::as_str)
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
            let doc = Value::Object(r.clone());
            // With the hint that fits (an unreachable endpoint names the
            // flags and variables that set it).
            let text = doc_error(&doc, self.client, self.way).to_string();
            if r.get("code").and_then(Value::as_u64) == Some(401) {
                self.refused.get_or_insert(doc);
            }
            text
        });
        self.report
            .file(&from, action, error.as_deref(), Value::Object(fields));
    }

    /// The keys failed every file alike: say so once, as a configuration
    /// error.
    pub fn finish(self) -> Outcome {
        match self.refused {
            Some(r) => Err(doc_error(&r, self.client, self.way)),
            None => Ok(()),
        }
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
