//! Opt-in request logging: `WANTU_LOG=info|debug|trace` prints one line per
//! request on stderr. Off by default; never logs keys or token signatures
//! (tokens travel in headers, which are not logged).

use std::sync::Once;

static INIT: Once = Once::new();

pub fn init() {
    INIT.call_once(|| {
        let Ok(level) = std::env::var("WANTU_LOG") else {
            return;
        };
        // `info` is accepted as the everyday "show me requests" level.
        let level = match level.trim().to_ascii_lowercase().as_str() {
            "info" | "debug" => "wantu=debug",
            "trace" => "wantu=trace",
            _ => return,
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(level))
            .with_writer(std::io::stderr)
            .with_target(false)
            .try_init();
    });
}
