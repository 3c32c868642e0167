//! Fault injection for clients' retry tests: 503 answers, connection
//! resets and delays, drawn from a seedable RNG so runs repeat.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::FaultConfig;

/// What to do to one request.
#[derive(Debug, Default, Clone, Copy)]
pub struct Decision {
    pub delay: Option<Duration>,
    pub error: bool,
    pub reset: bool,
}

pub struct Faults {
    inner: Mutex<(FaultConfig, StdRng)>,
}

fn rng_for(cfg: &FaultConfig) -> StdRng {
    match cfg.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_entropy(),
    }
}

impl Faults {
    pub fn new(cfg: &FaultConfig) -> Self {
        Faults {
            inner: Mutex::new((cfg.clone(), rng_for(cfg))),
        }
    }

    /// Replaces the configuration; a seed restarts the random sequence.
    pub fn set(&self, cfg: FaultConfig) {
        let rng = rng_for(&cfg);
        *self.inner.lock().unwrap_or_else(|p| p.into_inner()) = (cfg, rng);
    }

    /// Draws the faults for one request. Three numbers are drawn every time
    /// so that a seeded sequence does not depend on the rates.
    pub fn decide(&self) -> Decision {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (cfg, rng) = &mut *guard;
        if cfg.error_rate <= 0.0 && cfg.reset_rate <= 0.0 && cfg.delay_rate <= 0.0 {
            return Decision::default();
        }
        let (d, e, r): (f64, f64, f64) = (rng.gen(), rng.gen(), rng.gen());
        Decision {
            delay: (d < cfg.delay_rate && cfg.delay_ms > 0)
                .then(|| Duration::from_millis(cfg.delay_ms)),
            error: e < cfg.error_rate,
            reset: r < cfg.reset_rate,
        }
    }
}

impl FaultConfig {
    /// Parses `error=0.2,reset=0.05,delay=0.1:200,disk-full` (rates in
    /// 0..=1, the delay in milliseconds after the colon, 100 ms when
    /// omitted; `disk-full` simulates a full disk).
    pub fn parse(spec: &str) -> Result<FaultConfig, String> {
        let mut cfg = FaultConfig::default();
        let rate = |key: &str, v: &str| -> Result<f64, String> {
            let r: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("fault rate for '{key}' is not a number: '{v}'"))?;
            if !(0.0..=1.0).contains(&r) {
                return Err(format!(
                    "fault rate for '{key}' must be within 0..1, got {r}"
                ));
            }
            Ok(r)
        };
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "disk-full" {
                cfg.disk_full = true;
                continue;
            }
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| format!("fault '{item}' must look like name=rate"))?;
            match key.trim() {
                "error" => cfg.error_rate = rate(key, value)?,
                "reset" => cfg.reset_rate = rate(key, value)?,
                "delay" => {
                    let (r, ms) = value.split_once(':').unwrap_or((value, "100"));
                    cfg.delay_rate = rate(key, r)?;
                    cfg.delay_ms = ms
                        .trim()
                        .parse()
                        .map_err(|_| format!("delay milliseconds must be an integer: '{ms}'"))?;
                }
                other => {
                    return Err(format!(
                        "unknown fault '{other}': expected error, reset, delay or disk-full"
                    ))
                }
            }
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_spec() {
        let c = FaultConfig::parse("error=0.2,reset=0.05,delay=0.1:200").unwrap();
        assert_eq!(
            (c.error_rate, c.reset_rate, c.delay_rate, c.delay_ms),
            (0.2, 0.05, 0.1, 200)
        );
        assert!(FaultConfig::parse("error=2").is_err());
        assert!(FaultConfig::parse("boom=0.1").is_err());
        assert_eq!(FaultConfig::parse("delay=1").unwrap().delay_ms, 100);
        assert!(FaultConfig::parse("error=0.1,disk-full").unwrap().disk_full);
    }

    #[test]
    fn seeded_sequences_repeat() {
        let cfg = FaultConfig {
            error_rate: 0.5,
            seed: Some(7),
            ..Default::default()
        };
        let a: Vec<bool> = {
            let f = Faults::new(&cfg);
            (0..64).map(|_| f.decide().error).collect()
        };
        let f = Faults::new(&cfg);
        let b: Vec<bool> = (0..64).map(|_| f.decide().error).collect();
        assert_eq!(a, b);
        assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x));
    }
}
