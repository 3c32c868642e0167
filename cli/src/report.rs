//! What the user sees: one line (or, with `--json`, one JSON object) per
//! file on stdout, errors on stderr, a summary at the end, and live
//! progress bars on stderr only when it is a terminal.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Map, Value};
use std::io::{IsTerminal, Write};

/// What happened to one file: the library's vocabulary, so that the
/// tool's lines and the library's results say the same words.
pub use wantu::report::FileStatus as Action;
use wantu::report::{Counts, STATUS_KEY};

/// Output mode chosen by `--json` and `-q`.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    pub json: bool,
    pub quiet: bool,
}

pub struct Report {
    mode: Mode,
    counts: Counts,
    bytes: u64,
    bars: Option<Bars>,
}

impl Report {
    pub fn new(mode: Mode) -> Report {
        Report {
            mode,
            counts: Counts::default(),
            bytes: 0,
            bars: None,
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Starts progress bars for `files` files (`None`: not known yet, as
    /// when a folder engine walks as it goes) of `bytes` bytes in all, if
    /// stderr is a terminal and neither `-q` nor `--json` was given.
    pub fn start_progress(&mut self, files: Option<u64>, bytes: u64) {
        if self.mode.quiet || self.mode.json || !std::io::stderr().is_terminal() {
            return;
        }
        if let Some(b) = self.bars.take() {
            b.finish();
        }
        self.bars = Some(Bars::new(files, bytes));
    }

    pub fn bars(&self) -> Option<&Bars> {
        self.bars.as_ref()
    }

    /// Records one file's outcome. `path` is the source (the remote path
    /// for deletions); `fields` adds details such as `to` and `size`.
    pub fn file(&mut self, path: &str, action: Action, error: Option<&str>, fields: Value) {
        self.counts.add(action);
        if matches!(action, Action::Uploaded | Action::Downloaded) {
            self.bytes += fields.get("size").and_then(Value::as_u64).unwrap_or(0);
        }
        if let Some(b) = &self.bars {
            b.file_done();
        }
        if self.mode.json {
            let mut obj = Map::new();
            obj.insert("path".into(), path.into());
            obj.insert(STATUS_KEY.into(), action.as_str().into());
            if let Some(e) = error {
                obj.insert("error".into(), e.into());
            }
            if let Value::Object(more) = fields {
                obj.extend(more);
            }
            self.stdout(&Value::Object(obj).to_string());
            return;
        }
        match (action, error) {
            (Action::Failed, e) => self.stderr(&format!(
                "wantu: failed: {path}: {}",
                e.unwrap_or("unknown error")
            )),
            _ if self.mode.quiet => {}
            (_, _) => {
                let to = fields.get("to").and_then(Value::as_str);
                let line = match to {
                    Some(to) => format!("{:<10} {path} -> {to}", action.as_str()),
                    None => format!("{:<10} {path}", action.as_str()),
                };
                self.stdout(&line);
            }
        }
    }

    pub fn failed(&self) -> u64 {
        self.counts.get(Action::Failed)
    }

    /// The final line: `{"summary":true,…counts}` with `--json`, a short
    /// sentence on stderr otherwise (none with `-q`).
    pub fn summary(&mut self) {
        if let Some(b) = self.bars.take() {
            b.finish();
        }
        let mut obj = Map::new();
        obj.insert("summary".into(), true.into());
        self.counts.write(&Action::ALL, &mut obj);
        obj.insert("bytes".into(), self.bytes.into());
        if self.mode.json {
            self.stdout(&Value::Object(obj).to_string());
        } else if !self.mode.quiet {
            let parts: Vec<String> = Action::ALL
                .iter()
                .filter(|a| self.counts.get(**a) > 0 || **a == Action::Failed)
                .map(|a| format!("{} {}", self.counts.get(*a), a.as_str()))
                .collect();
            eprintln!("{}", parts.join(", "));
        }
    }

    /// A line of command output (listings, URLs, tokens).
    pub fn stdout(&self, line: &str) {
        match &self.bars {
            // Printing through the bars keeps them from being torn.
            Some(b) => b.multi.suspend(|| println_flush(line)),
            None => println_flush(line),
        }
    }

    /// A message on stderr (never under `--json`'s stdout).
    pub fn stderr(&self, line: &str) {
        match &self.bars {
            Some(b) => b.multi.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// A JSON document on stdout.
    pub fn json(&self, value: &Value) {
        self.stdout(&value.to_string());
    }
}

fn println_flush(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`wantu ls | head`) is not an error worth a panic.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The bars: bytes of all files (rate, ETA, files done) and the file in
/// flight.
pub struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    current: ProgressBar,
    files: Option<u64>,
    done: std::cell::Cell<u64>,
}

impl Bars {
    fn new(files: Option<u64>, bytes: u64) -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = multi.add(ProgressBar::new(bytes));
        total.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        total.set_prefix(files_label(0, files));
        let current = multi.add(ProgressBar::new(0));
        current.set_style(
            ProgressStyle::with_template("  {wide_msg} {bytes}/{total_bytes}")
                .expect("a valid template"),
        );
        Bars {
            multi,
            total,
            current,
            files,
            done: std::cell::Cell::new(0),
        }
    }

    /// A new file starts: `name` of `size` bytes.
    pub fn file_start(&self, name: &str, size: u64) {
        self.current.set_length(size);
        self.current.set_position(0);
        self.current.set_message(name.to_string());
    }

    /// Bytes of the file in flight so far; `base` is what earlier files sent.
    pub fn file_progress(&self, base: u64, sent: u64) {
        self.current.set_position(sent);
        self.total.set_position(base + sent);
    }

    /// The file in flight turned out to have `size` bytes: the overall bar
    /// grows to hold it after the `base` bytes of earlier files.
    pub fn file_sized(&self, base: u64, size: Option<u64>) {
        if let Some(size) = size {
            self.current.set_length(size);
            let end = base + size;
            if self.total.length().unwrap_or(0) < end {
                self.total.set_length(end);
            }
        }
    }

    /// Bytes of a whole folder engine's call: `total` once it is known.
    pub fn call_progress(&self, done: u64, total: Option<u64>) {
        if let Some(t) = total {
            self.total.set_length(t);
        }
        self.total.set_position(done);
    }

    /// What the file bar shows during a folder engine's call.
    pub fn set_message(&self, text: &str) {
        self.current.set_message(text.to_string());
    }

    fn file_done(&self) {
        self.done.set(self.done.get() + 1);
        let done = self.done.get();
        self.total.set_prefix(files_label(done, self.files));
    }

    fn finish(self) {
        self.current.finish_and_clear();
        self.total.finish();
    }
}

/// `files 3/10`, or `files 3` while the number is not known.
fn files_label(done: u64, files: Option<u64>) -> String {
    match files {
        Some(n) => format!("files {done}/{n}"),
        None => format!("files {done}"),
    }
}

/// `{"to": …, "size": …}`-style detail objects.
pub fn details(to: &str, size: u64) -> Value {
    json!({ "to": to, "size": size })
}
