//! Where a many-files call's per-file results go, as each file ends:
//!
//! - to the caller's function, when one is given (the `wantu` tool prints
//!   a line per file from it);
//! - to a JSON-lines file, option `results_file`: one line per file, every
//!   file, in the order they ended;
//! - into the answer's `results` array: every file (`"results": "all"`,
//!   the default) or only the failed ones (`"results": "failed"`), at most
//!   `MAX_KEPT_RESULTS` entries either way; past that the answer says
//!   `results_truncated` (or `failed_truncated`) and the counts stay exact.
//!
//! Memory: a kept result is its compact JSON text, about 0.3 KiB; with
//! `"failed"` a call over any number of files keeps only its failures
//! (and at most `MAX_KEPT_RESULTS` of them), so its memory does not grow
//! with the count.

use crate::error::{Error, Result};
use crate::report::{Counts, FileReport, FileStatus};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::io::Write;
use std::path::PathBuf;

/// The most per-file results an answer holds: 100,000 × ~0.3 KiB ≈ 30 MiB
/// at worst.
pub const MAX_KEPT_RESULTS: usize = 100_000;

/// Which files' results the answer's `results` array holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    #[default]
    All,
    Failed,
}

/// The options `results` and `results_file` of the many-files calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultOptions {
    pub keep: Keep,
    pub file: Option<PathBuf>,
}

/// A function given each file's result object as the file ends.
pub type OnFile<'a> = &'a mut dyn FnMut(&Map<String, Value>);

/// How results sort in the answer: a batch job's index, then its path.
pub type SortKey = (usize, String);

/// One call's results, as they come.
pub struct Results<'a> {
    counts: Counts,
    first_failure: Option<(String, Error)>,
    keep: Keep,
    kept: Vec<(SortKey, String)>,
    truncated: bool,
    file: Option<(PathBuf, std::io::BufWriter<std::fs::File>)>,
    file_error: Option<Error>,
    on_file: Option<OnFile<'a>>,
}

impl<'a> Results<'a> {
    /// Opens (creating or emptying) the results file, if any: a file that
    /// cannot be written refuses the call before anything is sent.
    pub fn new(opts: &ResultOptions, on_file: Option<OnFile<'a>>) -> Result<Results<'a>> {
        let file = match &opts.file {
            Some(path) => {
                let f = std::fs::File::create(path).map_err(|e| {
                    Error::Io(format!(
                        "option `results_file` {}: cannot create it: {e}",
                        path.display()
                    ))
                })?;
                Some((path.clone(), std::io::BufWriter::new(f)))
            }
            None => None,
        };
        Ok(Results {
            counts: Counts::default(),
            first_failure: None,
            keep: opts.keep,
            kept: Vec::new(),
            truncated: false,
            file,
            file_error: None,
            on_file,
        })
    }

    /// One file ended.
    pub fn add(&mut self, key: SortKey, report: FileReport) {
        let status = report.status();
        self.counts.add(status);
        if let (None, Some(e)) = (&self.first_failure, report.error()) {
            self.first_failure = Some((key.1.clone(), e.clone()));
        }
        let obj = report.into_json();
        if let Some(f) = self.on_file.as_mut() {
            f(&obj);
        }
        let keep = self.keep == Keep::All || status == FileStatus::Failed;
        if !keep && self.file.is_none() {
            return;
        }
        let text = Value::Object(obj).to_string();
        self.write_line(&text);
        if keep {
            if self.kept.len() < MAX_KEPT_RESULTS {
                self.kept.push((key, text));
            } else {
                self.truncated = true;
            }
        }
    }

    fn write_line(&mut self, text: &str) {
        if self.file_error.is_some() {
            return;
        }
        if let Some((path, w)) = self.file.as_mut() {
            if let Err(e) = writeln!(w, "{text}") {
                self.file_error = Some(write_error(path, &e));
                self.file = None;
            }
        }
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The first failed file's path and error.
    pub fn first_failure(&self) -> Option<&(String, Error)> {
        self.first_failure.as_ref()
    }

    /// Flushes the results file; an error writing it is the call's error
    /// (the file is incomplete: the caller must not trust it).
    pub fn finish_file(&mut self) -> Result<()> {
        if let Some((path, mut w)) = self.file.take() {
            if let Err(e) = w.flush() {
                self.file_error = Some(write_error(&path, &e));
            }
        }
        match &self.file_error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Adds the truncation flag (when set) to the answer's head, and
    /// answers the kept results as JSON texts in path order.
    pub fn into_kept(mut self, head: &mut Map<String, Value>) -> Vec<String> {
        if self.truncated {
            let flag = match self.keep {
                Keep::All => "results_truncated",
                Keep::Failed => "failed_truncated",
            };
            head.insert(flag.into(), true.into());
        }
        self.kept.sort_by(|a, b| a.0.cmp(&b.0));
        self.kept.into_iter().map(|(_, t)| t).collect()
    }

    /// The answer as JSON text: `head`, then `results` last.
    pub fn answer_text(self, mut head: Map<String, Value>) -> String {
        let kept = self.into_kept(&mut head);
        let head = Value::Object(head).to_string();
        let body: usize = kept.iter().map(|r| r.len() + 1).sum();
        let mut text = String::with_capacity(head.len() + body + 16);
        text.push_str(&head[..head.len() - 1]);
        if head.len() > 2 {
            text.push(',');
        }
        text.push_str("\"results\":[");
        text.push_str(&kept.join(","));
        text.push_str("]}");
        text
    }
}

fn write_error(path: &std::path::Path, e: &std::io::Error) -> Error {
    Error::Io(format!(
        "option `results_file` {}: cannot write it: {e}; the file is incomplete",
        path.display()
    ))
}

/// Takes `results` and `results_file` out of an options object.
pub fn take_options(map: &mut Map<String, Value>) -> Result<ResultOptions> {
    let keep = match map.remove("results") {
        None | Some(Value::Null) => Keep::All,
        Some(v) => serde_json::from_value(v).map_err(|e| {
            Error::invalid(format!(
                "option `results` must be \"all\" or \"failed\": {e}"
            ))
        })?,
    };
    let file = match map.remove("results_file") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(PathBuf::from(s)),
        Some(other) => {
            return Err(Error::invalid(format!(
                "option `results_file` must be a file path, not {other}"
            )))
        }
    };
    Ok(ResultOptions { keep, file })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(path: &str, status: FileStatus) -> FileReport {
        let mut r = FileReport::new(path, status);
        if status == FileStatus::Failed {
            r.fail(Error::Io(format!("{path} broke")));
        }
        r
    }

    #[test]
    fn failed_keeps_only_failures_and_the_file_has_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let opts = ResultOptions {
            keep: Keep::Failed,
            file: Some(path.clone()),
        };
        let mut seen = Vec::new();
        let mut on = |m: &Map<String, Value>| seen.push(m["path"].to_string());
        let mut r = Results::new(&opts, Some(&mut on)).unwrap();
        r.add((0, "b".into()), report("b", FileStatus::Uploaded));
        r.add((0, "c".into()), report("c", FileStatus::Failed));
        r.add((0, "a".into()), report("a", FileStatus::Failed));
        r.finish_file().unwrap();
        assert_eq!(r.counts().total(), 3);
        assert_eq!(r.first_failure().unwrap().0, "c");
        let text = r.answer_text(json!({"code": 0}).as_object().unwrap().clone());
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["results"].as_array().unwrap().len(), 2);
        assert_eq!(v["results"][0]["path"], "a");
        assert_eq!(v.get("failed_truncated"), None);
        assert_eq!(seen, ["\"b\"", "\"c\"", "\"a\""]);
        let lines = std::fs::read_to_string(&path).unwrap();
        assert_eq!(lines.lines().count(), 3, "{lines}");
    }

    #[test]
    fn options_are_checked() {
        let mut m = json!({"results": "failed", "results_file": "/tmp/x"})
            .as_object()
            .unwrap()
            .clone();
        let o = take_options(&mut m).unwrap();
        assert_eq!(o.keep, Keep::Failed);
        assert!(m.is_empty());
        for bad in [json!({"results": "some"}), json!({"results_file": 3})] {
            let mut m = bad.as_object().unwrap().clone();
            let e = take_options(&mut m).unwrap_err();
            assert_eq!(e.name(), "InvalidArgument", "{e}");
        }
        let opts = ResultOptions {
            keep: Keep::All,
            file: Some("/no/such/folder/r.jsonl".into()),
        };
        let e = Results::new(&opts, None).err().unwrap();
        assert!(e.message().contains("results_file"), "{e}");
    }
}
