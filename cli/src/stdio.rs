//! Bytes through pipes: `-` as the standard input of an upload or the
//! standard output of a download, and `cat`. Standard output then carries
//! only the bytes: every message and the progress go to stderr.
//!
//! A closed standard output (the reader of the pipe went away: `wantu cat
//! … | head`) stops the download quietly and the exit status is 1, as a
//! shell pipeline expects from a writer whose reader left.

use crate::args::{CatArgs, TransferArgs};
use crate::engines::{self, Way};
use crate::fail::{explain, Fail, Host, Outcome};
use crate::manage::remote;
use crate::remote::Remote;
use crate::report::{details, Action, Report};
use std::io::Write;
use wantu::download::stream::{self, ByteRange, Consumer, StreamOptions};
use wantu::transfer::{CancelToken, Source, TransferOptions};
use wantu::upload::Target;
use wantu::Client;

/// The argument that means standard input or output.
pub const DASH: &str = "-";

/// `wantu cat wantu://NS/dir/name…`: the files, one after the other.
pub fn cat(client: &Client, report: &mut Report, args: &CatArgs, cancel: &CancelToken) -> Outcome {
    let range = match &args.range {
        Some(text) if args.paths.len() > 1 => {
            return Err(Fail::Usage(format!(
                "--range {text} is for one file; `cat` was given {}",
                args.paths.len()
            )))
        }
        Some(text) => parse_range(text)?,
        None => ByteRange::ALL,
    };
    let remotes = files(&args.paths)?;
    let opts = StreamOptions::default();
    for r in &remotes {
        to_stdout(client, report, r, range, &opts, cancel)?;
    }
    Ok(())
}

/// `wantu cp wantu://NS/dir/name… -`: the same as `cat`.
pub fn cp_to_stdout(
    client: &Client,
    report: &mut Report,
    srcs: &[String],
    transfer: &TransferArgs,
    cancel: &CancelToken,
) -> Outcome {
    let remotes = files(srcs)?;
    let opts = stream_options(transfer)?;
    for r in &remotes {
        to_stdout(client, report, r, ByteRange::ALL, &opts, cancel)?;
    }
    Ok(())
}

/// `wantu cp - wantu://NS/dir/name`: standard input, read to its end, as
/// one stored file. A failure or Ctrl-C leaves nothing stored (the
/// multipart upload is cancelled on the server).
pub fn cp_from_stdin(
    client: &Client,
    report: &mut Report,
    dst: &Remote,
    opts: &TransferOptions,
    cancel: &CancelToken,
) -> Outcome {
    if dst.is_folder() || dst.name.is_none() {
        return Err(Fail::Usage(format!(
            "standard input has no file name: name the file to store, e.g. {}",
            dst.as_folder().file("NAME")
        )));
    }
    let policy = crate::options::own_policy(&dst.namespace)?;
    let target = Target {
        dir: Some(dst.dir.clone()),
        name: dst.name.clone(),
        ..Target::default()
    };
    report.start_progress(Some(1), 0);
    let bars = report.bars();
    if let Some(b) = bars {
        b.file_start("(stdin)", 0);
    }
    let mut on_progress = |sent: u64, _total: Option<u64>| {
        if let Some(b) = bars {
            b.file_progress(0, sent);
        }
        !cancel.is_triggered()
    };
    let mut stdin = std::io::stdin().lock();
    let mut opts = opts.clone();
    opts.checkpoint_path = None; // a pipe cannot be read twice
    let outcome = wantu::transfer::upload(
        client,
        &policy,
        &target,
        Source::Reader(&mut stdin),
        &opts,
        Some(&mut on_progress),
        Some(cancel),
    );
    let json = outcome.to_json();
    // The service answers the size as text ("700000"); a number is taken too.
    let size = match &json["file_size"] {
        serde_json::Value::String(s) => s.parse().ok(),
        v => v.as_u64(),
    };
    let mut fields = details(&dst.to_string(), size.unwrap_or(0));
    for key in ["md5", "multipart", "parts"] {
        if let Some(v) = json.get(key) {
            fields[key] = v.clone();
        }
    }
    match &outcome.result {
        Ok(_) => report.file(DASH, Action::Uploaded, None, fields),
        Err(e) => match explain(e, client, Host::Upload) {
            Fail::Config(m) => return Err(Fail::Config(m)),
            other => report.file(DASH, Action::Failed, Some(&other.to_string()), fields),
        },
    }
    report.summary();
    match report.failed() {
        0 => Ok(()),
        _ => Err(Fail::Reported),
    }
}

/// Remote file paths; a folder is refused.
fn files(paths: &[String]) -> Outcome<Vec<Remote>> {
    let remotes = paths
        .iter()
        .map(|p| remote(p))
        .collect::<Outcome<Vec<_>>>()?;
    for r in &remotes {
        if r.is_folder() || r.name.is_none() {
            return Err(Fail::Usage(format!(
                "{r} is a folder; standard output takes files (wantu://NAMESPACE/dir/name)"
            )));
        }
    }
    Ok(remotes)
}

fn stream_options(args: &TransferArgs) -> Outcome<StreamOptions> {
    let mut opts = StreamOptions::default();
    if let Some(c) = args.concurrency {
        opts.concurrency = c;
    }
    if let Some(ps) = &args.part_size {
        opts.part_size = Some(crate::options::parse_size(ps)?);
    }
    opts.validate()
        .map_err(|e| Fail::Usage(crate::options::flag_names(e.message())))?;
    Ok(opts)
}

/// `A-B` (inclusive, as `curl -r`) or `A-` (to the end).
pub fn parse_range(text: &str) -> Outcome<ByteRange> {
    let bad = |why: &str| {
        Fail::Usage(format!(
            "--range {text:?} {why}: give FIRST-LAST (bytes, inclusive, e.g. 0-1023) or FIRST- \
             (to the end)"
        ))
    };
    let (a, b) = text.split_once('-').ok_or_else(|| bad("has no '-'"))?;
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let first = number(a.trim()).ok_or_else(|| bad("does not start with a byte offset"))?;
    let length = match b.trim() {
        "" => None,
        last => {
            let last = number(last).ok_or_else(|| bad("does not end with a byte offset"))?;
            if last < first {
                return Err(bad("ends before it starts"));
            }
            Some(last - first + 1)
        }
    };
    Ok(ByteRange {
        offset: first,
        length,
    })
}

/// Standard output as the consumer of a download.
struct Stdout {
    out: std::io::StdoutLock<'static>,
    /// The reader of the pipe went away.
    closed: bool,
}

impl Consumer for Stdout {
    fn write(&mut self, bytes: &[u8]) -> wantu::Result<()> {
        self.out.write_all(bytes).map_err(|e| {
            self.closed = e.kind() == std::io::ErrorKind::BrokenPipe;
            wantu::Error::Io(format!("cannot write to standard output: {e}"))
        })
    }
}

/// One stored file (or range) to standard output; its MD5 is checked when
/// it is the whole file.
fn to_stdout(
    client: &Client,
    report: &mut Report,
    r: &Remote,
    range: ByteRange,
    opts: &StreamOptions,
    cancel: &CancelToken,
) -> Outcome {
    let shown = r.to_string();
    report.start_progress(Some(1), 0);
    let bars = report.bars();
    if let Some(b) = bars {
        b.file_start(&shown, 0);
    }
    let mut on_progress = |done: u64, total: Option<u64>| {
        if let Some(b) = bars {
            b.file_sized(0, total);
            b.file_progress(0, done);
        }
        !cancel.is_triggered()
    };
    let mut out = Stdout {
        out: std::io::stdout().lock(),
        closed: false,
    };
    let name = r.name.as_deref().unwrap_or_default();
    let doc = stream::download_to(
        client,
        &r.namespace,
        &r.dir,
        name,
        range,
        opts,
        &mut out,
        Some(&mut on_progress),
        Some(cancel),
    );
    let flushed = out.out.flush();
    if out.closed
        || flushed
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    {
        return Err(Fail::Reported);
    }
    if doc["code"] != 200 {
        return Err(match engines::doc_error(&doc, client, Way::Down) {
            Fail::Failed(m) => Fail::Failed(format!("{shown}: {m}")),
            other => other,
        });
    }
    flushed.map_err(|e| Fail::Failed(format!("cannot write to standard output: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_inclusive_like_curl() {
        let r = |t| parse_range(t).map(|b| (b.offset, b.length));
        assert_eq!(r("0-0").ok(), Some((0, Some(1))));
        assert_eq!(r("10-19").ok(), Some((10, Some(10))));
        assert_eq!(r("5-").ok(), Some((5, None)));
        for bad in [
            "",
            "-5",
            "5",
            "a-b",
            "9-3",
            "1-2-3",
            "+1-2",
            "99999999999999999999-",
        ] {
            assert!(matches!(r(bad), Err(Fail::Usage(_))), "{bad}");
        }
    }
}
