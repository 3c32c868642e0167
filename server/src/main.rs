//! The wantu-server command line.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use std::time::Duration;

use wantu_server::{Config, FaultConfig, Limits};

/// A local Wantu media-storage service: upload host, manage host and file
/// delivery on one port, with durable storage under --data.
#[derive(Parser, Debug)]
#[command(name = "wantu-server", version)]
struct Cli {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// Data directory for the metadata database and file contents (created
    /// if missing; one server per directory).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,

    /// An accepted access key and its secret; repeat for more keys.
    #[arg(long = "key", value_name = "AK:SK", required = true)]
    keys: Vec<String>,

    /// Base URL put in result `url`s (default: http://HOST:PORT of --listen).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,

    /// Inject faults on upload and manage requests, e.g.
    /// `error=0.2,reset=0.05,delay=0.1:200`: 503 answers, connection resets,
    /// and delays (rate:milliseconds); `disk-full` behaves as if the disk
    /// were full. File delivery is never faulted.
    #[arg(long, value_name = "SPEC")]
    faults: Option<String>,

    /// Seed for the fault sequence, for repeatable runs.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// Open connections at most; at the cap the longest-idle connection
    /// gives way to a new one.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections)]
    max_connections: usize,

    /// Seconds a request head may take, from connect or the previous answer.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().header_timeout.as_secs())]
    header_timeout: u64,

    /// Seconds a connection without a request may stay silent.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().idle_timeout.as_secs())]
    idle_timeout: u64,

    /// Seconds a request body may send nothing before it is abandoned (408).
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().body_timeout.as_secs())]
    body_timeout: u64,

    /// The largest file stored, in bytes or with a K, M, G or T suffix
    /// (powers of 1024).
    #[arg(long, value_name = "SIZE", default_value = "5G", value_parser = parse_size)]
    max_object_size: u64,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("unknown size suffix in '{s}': use K, M, G or T")),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size such as 1048576, 512M or 5G"))?;
    n.checked_mul(1 << shift)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("size '{s}' is out of range"))
}

fn parse_key(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((ak, sk)) if !ak.is_empty() && !sk.is_empty() => Ok((ak.into(), sk.into())),
        _ => Err(format!("--key must look like AK:SK, got '{s}'")),
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn run(cli: Cli) -> Result<(), String> {
    let keys = cli
        .keys
        .iter()
        .map(|k| parse_key(k))
        .collect::<Result<Vec<_>, _>>()?;
    let mut faults = match &cli.faults {
        Some(spec) => FaultConfig::parse(spec).map_err(|e| format!("--faults: {e}"))?,
        None => FaultConfig::default(),
    };
    faults.seed = cli.seed;
    let mut config = Config::new(cli.data, keys);
    config.listen = cli.listen;
    config.public_url = cli.public_url;
    config.faults = faults;
    let secs = |name: &str, n: u64| {
        (n > 0)
            .then(|| Duration::from_secs(n))
            .ok_or_else(|| format!("--{name} must be at least 1 second"))
    };
    config.limits = Limits {
        max_connections: cli.max_connections.max(1),
        header_timeout: secs("header-timeout", cli.header_timeout)?,
        idle_timeout: secs("idle-timeout", cli.idle_timeout)?,
        body_timeout: secs("body-timeout", cli.body_timeout)?,
        max_object_size: cli.max_object_size,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?;
        let data = config.data_dir.display().to_string();
        let serving = wantu_server::serve(config, listener, shutdown_signal());
        // The store is opened inside `serve`; announce only once it is up,
        // so "listening" means requests will be answered.
        let mut serving = Box::pin(serving);
        tokio::select! {
            biased;
            r = &mut serving => return r.map_err(|e| format!("cannot serve from {data}: {e}")),
            _ = std::future::ready(()) => {}
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
        drop(out);
        serving
            .await
            .map_err(|e| format!("server failed ({data}): {e}"))
    })
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wantu-server: {e}");
            ExitCode::FAILURE
        }
    }
}
