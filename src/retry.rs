//! Retries with exponential backoff and full jitter, bounded per request
//! (`max_attempts`) and per operation (`budget_ms`, the total time spent
//! waiting between attempts). Shared by the one-call uploader and the
//! management calls.
//!
//! Only answers that may change on a second try are retried: connection
//! errors, timeouts, 429 and 5xx (`Error::is_transient`), plus, for part
//! uploads with integrity on, a digest mismatch (the bytes were damaged on
//! the way; they are re-sent from the same buffer). Other 4xx are final.

use crate::error::Error;
use rand::Rng;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How hard to try: attempts per request, the backoff curve, and the total
/// time one operation may spend waiting between attempts.
#[derive(Debug, Clone, Copy)]
pub struct RetryLimits {
    pub max_attempts: u32,
    pub base_ms: u64,
    pub max_ms: u64,
    pub budget_ms: u64,
}

/// The most attempts per request an option may ask for.
pub const MAX_ATTEMPTS_LIMIT: u32 = 100;

impl RetryLimits {
    /// Refuses values that cannot work, naming the option (the same keys
    /// in every options JSON that has them) and its range.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::invalid(m));
        if !(1..=MAX_ATTEMPTS_LIMIT).contains(&self.max_attempts) {
            return bad(format!(
                "option `max_attempts` must be from 1 to {MAX_ATTEMPTS_LIMIT}, not {}",
                self.max_attempts
            ));
        }
        if self.base_ms == 0 || self.base_ms > 600_000 {
            return bad(format!(
                "option `backoff_base_ms` must be from 1 to 600000, not {}",
                self.base_ms
            ));
        }
        if self.max_ms < self.base_ms || self.max_ms > 3_600_000 {
            return bad(format!(
                "option `backoff_max_ms` must be from `backoff_base_ms` ({}) to 3600000, not {}",
                self.base_ms, self.max_ms
            ));
        }
        if self.budget_ms > 86_400_000 {
            return bad(format!(
                "option `retry_budget_ms` must be at most 86400000 (a day), not {}",
                self.budget_ms
            ));
        }
        Ok(())
    }
}

pub struct Retrier {
    max_attempts: u32,
    base_ms: u64,
    max_ms: u64,
    budget_ms: u64,
    budget_left_ms: AtomicU64,
    /// Requests made, retries included.
    attempts: AtomicU64,
    /// Requests that were repeats of a failed one.
    retries: AtomicU64,
}

impl Retrier {
    pub fn new(limits: RetryLimits) -> Retrier {
        Retrier {
            max_attempts: limits.max_attempts,
            base_ms: limits.base_ms,
            max_ms: limits.max_ms,
            budget_ms: limits.budget_ms,
            budget_left_ms: AtomicU64::new(limits.budget_ms),
            attempts: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        }
    }

    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Full jitter: uniform in [0, min(max, base × 2^(attempt-1))].
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_ms
            .saturating_mul(1u64 << (attempt.saturating_sub(1)).min(32))
            .min(self.max_ms);
        Duration::from_millis(rand::thread_rng().gen_range(0..=ceiling))
    }

    /// Takes `wait` out of the upload's budget; false when too little is left.
    fn reserve(&self, wait: Duration) -> bool {
        let ms = wait.as_millis() as u64;
        self.budget_left_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(ms)
            })
            .is_ok()
    }

    /// Runs `op` (given the 1-based attempt number) until it succeeds, fails
    /// for good, or the attempts or budget run out. `extra` marks further
    /// errors as worth repeating.
    pub async fn run<T, F, Fut>(
        &self,
        what: &str,
        extra: fn(&Error) -> bool,
        mut op: F,
    ) -> crate::Result<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = crate::Result<T>>,
    {
        let mut attempt = 1;
        loop {
            self.attempts.fetch_add(1, Ordering::Relaxed);
            // The request's log line reports the attempts before this one.
            let err = match crate::log::attempt(attempt - 1, op(attempt)).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if !(err.is_transient() || extra(&err)) {
                return Err(err);
            }
            if self.max_attempts == 1 {
                // Nothing was retried, so there is nothing to add.
                return Err(err);
            }
            if attempt >= self.max_attempts {
                let note =
                    format!("gave up on {what} after {attempt} attempts (the attempt limit)");
                return Err(annotate(err, &note));
            }
            let wait = self.backoff(attempt);
            if !self.reserve(wait) {
                let note = format!(
                    "gave up on {what} after {attempt} attempts: the retry budget of {} ms \
                     is spent",
                    self.budget_ms
                );
                return Err(annotate(err, &note));
            }
            tracing::debug!(target: "wantu", what, attempt, wait_ms = wait.as_millis() as u64,
                error = %err, "retrying");
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// Adds a note to an error's message, keeping its kind and code.
pub fn annotate(err: Error, note: &str) -> Error {
    let join = |m: String| format!("{m}; {note}");
    match err {
        Error::InvalidArgument(m) => Error::InvalidArgument(join(m)),
        Error::Io(m) => Error::Io(join(m)),
        Error::FileChanged(m) => Error::FileChanged(join(m)),
        Error::Connect(m) => Error::Connect(join(m)),
        Error::Timeout(m) => Error::Timeout(join(m)),
        Error::Cancelled(m) => Error::Cancelled(join(m)),
        Error::InvalidResponse(m) => Error::InvalidResponse(join(m)),
        Error::Internal(m) => Error::Internal(join(m)),
        Error::TooManyOperations(m) => Error::TooManyOperations(join(m)),
        Error::Server {
            status,
            code,
            message,
            request_id,
        } => Error::Server {
            status,
            code,
            message: join(message),
            request_id,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    fn retrier(max_attempts: u32, budget: u64) -> Retrier {
        Retrier::new(RetryLimits {
            max_attempts,
            budget_ms: budget,
            base_ms: 1,
            max_ms: 4,
        })
    }

    fn server(status: u16) -> Error {
        Error::Server {
            status,
            code: "X".into(),
            message: "m".into(),
            request_id: String::new(),
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let r = Retrier::new(RetryLimits {
            max_attempts: 10,
            base_ms: 100,
            max_ms: 10_000,
            budget_ms: 120_000,
        });
        for attempt in 1..40 {
            let ceiling = (100u64 << (attempt - 1).min(32)).min(10_000);
            assert!(r.backoff(attempt).as_millis() as u64 <= ceiling);
        }
        let draws: std::collections::HashSet<_> = (0..50).map(|_| r.backoff(8)).collect();
        assert!(draws.len() > 10, "jitter spreads the waits");
    }

    #[test]
    fn retries_transient_errors_only() {
        let r = retrier(5, 10_000);
        let calls = AtomicU32::new(0);
        let out = block_on(r.run(
            "t",
            |_| false,
            |n| {
                calls.fetch_add(1, Ordering::Relaxed);
                async move {
                    if n < 3 {
                        Err(server(503))
                    } else {
                        Ok(n)
                    }
                }
            },
        ));
        assert_eq!(out.unwrap(), 3);
        assert_eq!((r.attempts(), r.retries()), (3, 2));

        for status in [400, 401, 403, 404, 409, 413, 501, 507] {
            let r = retrier(5, 10_000);
            let e = block_on(r.run("t", |_| false, |_| async { Err::<(), _>(server(status)) }));
            assert_eq!(e.unwrap_err().code(), status);
            assert_eq!(r.attempts(), 1, "{status} is final");
        }
        let r = retrier(5, 10_000);
        let _ = block_on(r.run("t", |_| false, |_| async { Err::<(), _>(server(429)) }));
        assert_eq!(r.attempts(), 5);
    }

    #[test]
    fn attempts_and_budget_bound_the_retries() {
        let r = retrier(3, 10_000);
        let e = block_on(r.run(
            "part 2",
            |_| false,
            |_| async { Err::<(), _>(Error::Connect("reset".into())) },
        ))
        .unwrap_err();
        assert!(e.message().contains("after 3 attempts"), "{e}");
        assert_eq!(e.name(), "ConnectError");

        let r = Retrier::new(RetryLimits {
            max_attempts: 10,
            budget_ms: 0,
            base_ms: 50,
            max_ms: 50,
        });
        // A zero wait may be drawn and fit; a budget of 0 allows nothing else.
        let e =
            block_on(r.run("t", |_| false, |_| async { Err::<(), _>(server(500)) })).unwrap_err();
        assert!(e.message().contains("retry budget") || e.message().contains("max_attempts"));
    }
}
