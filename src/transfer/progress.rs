//! Byte-level progress.
//!
//! Request bodies are streamed in chunks; each chunk is counted as the HTTP
//! connection takes it (`upload::Meter`). Semantics of the `sent` figure:
//!
//! - it counts each byte of the upload once: a retried attempt of a part
//!   adds only what goes beyond the furthest any earlier attempt of that part
//!   got, so `sent` never goes backwards and never exceeds `total`;
//! - parts skipped thanks to a checkpoint count as sent from the start;
//! - it reaches `total` exactly when the upload succeeds.
//!
//! Callbacks run on the calling thread (the `Reporter`), never on the I/O
//! threads: the engine only bumps atomics and nudges the caller each MiB.

use crate::upload::Meter;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `total` while a stream's length is not known yet.
pub const UNKNOWN: u64 = u64::MAX;
/// The callback is called at least this often…
pub const INTERVAL: Duration = Duration::from_millis(100);
/// …and whenever this many more bytes went out.
pub const STEP: u64 = 1 << 20;

pub struct Progress {
    sent: AtomicU64,
    total: AtomicU64,
    nudge_pending: AtomicBool,
    nudge: Box<dyn Fn() + Send + Sync>,
}

impl Progress {
    /// `nudge` wakes the calling thread; it is called at most once until
    /// the calling thread takes it (`nudge_taken`).
    pub fn new(total: Option<u64>, nudge: impl Fn() + Send + Sync + 'static) -> Progress {
        Progress {
            sent: AtomicU64::new(0),
            total: AtomicU64::new(total.unwrap_or(UNKNOWN)),
            nudge_pending: AtomicBool::new(false),
            nudge: Box::new(nudge),
        }
    }

    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn total(&self) -> Option<u64> {
        Some(self.total.load(Ordering::Relaxed)).filter(|t| *t != UNKNOWN)
    }

    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }

    pub fn add(&self, n: u64) {
        let before = self.sent.fetch_add(n, Ordering::Relaxed);
        if before / STEP != (before + n) / STEP && !self.nudge_pending.swap(true, Ordering::AcqRel)
        {
            (self.nudge)();
        }
    }

    pub fn nudge_taken(&self) {
        self.nudge_pending.store(false, Ordering::Release);
    }
}

/// One part's bytes over all its attempts.
pub struct PartMeter {
    progress: Arc<Progress>,
    furthest: AtomicU64,
}

impl PartMeter {
    pub fn new(progress: Arc<Progress>) -> Arc<PartMeter> {
        Arc::new(PartMeter {
            progress,
            furthest: AtomicU64::new(0),
        })
    }

    /// A meter for one attempt: it counts from 0 but adds to the progress
    /// only past the furthest point of earlier attempts.
    pub fn attempt(self: &Arc<Self>) -> Meter {
        let part = self.clone();
        let here = AtomicU64::new(0);
        Meter(Arc::new(move |n| {
            let now = here.fetch_add(n, Ordering::Relaxed) + n;
            let before = part.furthest.fetch_max(now, Ordering::Relaxed);
            if now > before {
                part.progress.add(now - before);
            }
        }))
    }

    /// Counts the part as wholly sent (a part known from the checkpoint).
    pub fn finished(&self, len: u64) {
        let before = self.furthest.fetch_max(len, Ordering::Relaxed);
        if len > before {
            self.progress.add(len - before);
        }
    }
}

/// The caller's callback: `(sent, total)`, `total` None while unknown;
/// answering false asks to cancel.
pub type Callback<'a> = &'a mut dyn FnMut(u64, Option<u64>) -> bool;

/// Calls the callback on the calling thread when due.
pub struct Reporter<'a> {
    callback: Option<Callback<'a>>,
    last_at: Instant,
    last_sent: Option<u64>,
    last_total: Option<u64>,
}

impl<'a> Reporter<'a> {
    pub fn new(callback: Option<Callback<'a>>) -> Reporter<'a> {
        Reporter {
            callback,
            last_at: Instant::now(),
            last_sent: None,
            last_total: None,
        }
    }

    /// How long the calling thread may wait before the next call is due.
    pub fn due_in(&self) -> Duration {
        if self.callback.is_none() {
            return INTERVAL;
        }
        INTERVAL.saturating_sub(self.last_at.elapsed())
    }

    /// Calls the callback if 100 ms passed or 1 MiB went out since the last
    /// call. Answers false when the callback asked to cancel; after that it
    /// is not called again.
    pub fn maybe(&mut self, progress: &Progress) -> bool {
        let sent = progress.sent();
        let due = match self.last_sent {
            None => true,
            Some(last) => sent >= last.saturating_add(STEP) || self.last_at.elapsed() >= INTERVAL,
        };
        if !due {
            return true;
        }
        self.call(sent, progress.total())
    }

    /// The last call of a successful upload: everything sent.
    pub fn finish(&mut self, total: u64) {
        if self.last_sent != Some(total) || self.last_total != Some(total) {
            self.call(total, Some(total));
        }
    }

    fn call(&mut self, sent: u64, total: Option<u64>) -> bool {
        let Some(cb) = self.callback.as_mut() else {
            return true;
        };
        self.last_at = Instant::now();
        self.last_sent = Some(sent);
        self.last_total = total;
        let keep_going = cb(sent, total);
        if !keep_going {
            self.callback = None;
        }
        keep_going
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn retried_attempts_never_count_twice() {
        let nudges = Arc::new(AtomicUsize::new(0));
        let n2 = nudges.clone();
        let p = Arc::new(Progress::new(Some(3 * STEP), move || {
            n2.fetch_add(1, Ordering::Relaxed);
        }));
        let part = PartMeter::new(p.clone());
        let first = part.attempt();
        (first.0)(STEP / 2);
        (first.0)(STEP / 2);
        assert_eq!(p.sent(), STEP);
        let second = part.attempt();
        (second.0)(STEP / 2);
        assert_eq!(p.sent(), STEP, "a retry below the old mark adds nothing");
        (second.0)(STEP);
        assert_eq!(p.sent(), STEP * 3 / 2);
        part.finished(STEP * 3 / 2);
        assert_eq!(p.sent(), STEP * 3 / 2);
        assert_eq!(nudges.load(Ordering::Relaxed), 1, "one nudge until taken");
        p.nudge_taken();
        PartMeter::new(p.clone()).finished(STEP);
        assert_eq!(nudges.load(Ordering::Relaxed), 2);
        assert_eq!(p.total(), Some(3 * STEP));
    }

    #[test]
    fn reporter_calls_when_due_and_stops_on_cancel() {
        let p = Progress::new(None, || {});
        let mut seen = Vec::new();
        let mut cb = |s: u64, t: Option<u64>| {
            seen.push((s, t));
            s < 2 * STEP
        };
        {
            let mut r = Reporter::new(Some(&mut cb));
            assert!(r.maybe(&p), "first call is always due");
            assert!(r.maybe(&p), "not due yet: no call");
            p.add(STEP);
            assert!(r.maybe(&p));
            p.add(STEP);
            p.set_total(2 * STEP);
            assert!(!r.maybe(&p), "the callback asked to cancel");
            p.add(STEP);
            assert!(r.maybe(&p), "no calls after a cancel");
        }
        assert_eq!(
            seen,
            vec![(0, None), (STEP, None), (2 * STEP, Some(2 * STEP))]
        );
    }
}
