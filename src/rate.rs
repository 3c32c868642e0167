//! One bandwidth budget for every transfer of a client: the
//! `limit_rate_bytes_per_sec` option. Upload bodies take from it as the
//! connection asks for each chunk, downloads as each chunk arrives (which
//! slows the reads, and TCP then slows the sender), both directions from
//! the same budget.
//!
//! It is a token bucket kept as one instant (the "virtual time" form, GCRA):
//! each chunk of `n` bytes moves the instant `n / rate` on, and a taker
//! waits while the instant is more than a short burst ahead of now. Written
//! out rather than taken from a crate: the rate-limiting crates count cells
//! of a fixed size and refuse a take larger than the burst, while chunks here
//! vary from a few bytes to 128 KiB.

use crate::error::{Error, Result};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How far ahead of the budget a transfer may run: enough that many
/// concurrent transfers do not wake for every small chunk, short enough that
/// no second goes much above the rate.
const BURST: Duration = Duration::from_millis(50);

#[derive(Debug)]
pub struct RateLimit {
    bytes_per_sec: u64,
    /// When the bytes taken so far will have been paid for at the rate.
    paid_until: Mutex<Instant>,
}

impl RateLimit {
    /// A budget of `bytes_per_sec`; 0 is refused (leave the option out for
    /// no limit).
    pub fn new(bytes_per_sec: u64) -> Result<RateLimit> {
        if bytes_per_sec == 0 {
            return Err(Error::invalid(
                "option `limit_rate_bytes_per_sec` must be at least 1 byte per second \
                 (leave it out, or null, for no limit)",
            ));
        }
        Ok(RateLimit {
            bytes_per_sec,
            paid_until: Mutex::new(Instant::now()),
        })
    }

    pub fn bytes_per_sec(&self) -> u64 {
        self.bytes_per_sec
    }

    /// Takes `n` bytes from the budget and answers how long to wait before
    /// they may go.
    fn reserve(&self, n: u64) -> Duration {
        let now = Instant::now();
        let mut paid = self.paid_until.lock().unwrap_or_else(|e| e.into_inner());
        // An idle budget does not save up more than the burst.
        let start = (*paid).max(now);
        *paid = start + Duration::from_secs_f64(n as f64 / self.bytes_per_sec as f64);
        paid.saturating_duration_since(now + BURST)
    }

    /// Waits until `n` more bytes fit the budget.
    pub async fn take(&self, n: u64) {
        let wait = self.reserve(n);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_refused() {
        let e = RateLimit::new(0).unwrap_err();
        assert!(e.message().contains("limit_rate_bytes_per_sec"), "{e:?}");
    }

    #[test]
    fn the_waits_add_up_to_the_rate() {
        let limit = RateLimit::new(1000).unwrap();
        // The first 50 bytes fit the burst; every byte after costs 1 ms.
        assert_eq!(limit.reserve(50), Duration::ZERO);
        let wait = limit.reserve(1000);
        assert!(
            wait > Duration::from_millis(990) && wait <= Duration::from_millis(1000),
            "{wait:?}"
        );
        let wait = limit.reserve(500);
        assert!(wait > Duration::from_millis(1490), "{wait:?}");
    }

    #[test]
    fn concurrent_takers_share_one_budget() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        let limit = std::sync::Arc::new(RateLimit::new(100_000).unwrap());
        let started = Instant::now();
        rt.block_on(async {
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    let l = limit.clone();
                    tokio::spawn(async move {
                        for _ in 0..10 {
                            l.take(1000).await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        // 40,000 bytes at 100,000 a second: 0.4 s, less the burst.
        assert!(started.elapsed() >= Duration::from_millis(300));
    }
}
