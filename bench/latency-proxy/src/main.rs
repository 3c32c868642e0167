//! latency-proxy: forwards TCP connections to one upstream and delays every
//! byte by half a round trip in each direction, so that a benchmark on
//! loopback sees the latency of a long link.
//!
//!     latency-proxy --listen 127.0.0.1:0 --upstream 127.0.0.1:8080 --rtt-ms 40
//!
//! It prints `listening on ADDR` on stdout once it accepts connections.
//!
//! How faithful it is (see bench/README.md):
//! - Each chunk read from one side is written to the other side `rtt/2`
//!   after it was read, in order, so a request/response exchange costs one
//!   full RTT, as on a real link.
//! - A new connection costs one extra RTT before its first bytes arrive,
//!   like the TCP handshake on a real link (the client's `connect()` to the
//!   proxy itself returns at once).
//! - Bandwidth is not limited and there is no loss: only delay is modelled.
//!   In-flight data per direction is bounded (`MAX_IN_FLIGHT` chunks of up
//!   to `CHUNK` bytes), which caps throughput per connection at about
//!   MAX_IN_FLIGHT × CHUNK / (rtt/2), far above what the benchmarks need.
//!   TCP slow start and congestion control of a real long link are not
//!   modelled, so bulk transfers look better here than across a real WAN.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

const CHUNK: usize = 64 * 1024;
const MAX_IN_FLIGHT: usize = 256;

struct Args {
    listen: String,
    upstream: SocketAddr,
    rtt: Duration,
}

fn usage(why: &str) -> ! {
    eprintln!("latency-proxy: {why}");
    eprintln!("usage: latency-proxy --listen ADDR --upstream HOST:PORT --rtt-ms N");
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut listen = "127.0.0.1:0".to_string();
    let mut upstream = None;
    let mut rtt_ms = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--listen" => listen = value,
            "--upstream" => {
                upstream = Some(value.parse().unwrap_or_else(|_| {
                    usage(&format!("--upstream {value:?} is not an IP:PORT address"))
                }))
            }
            "--rtt-ms" => {
                rtt_ms = Some(value.parse::<u64>().unwrap_or_else(|_| {
                    usage(&format!(
                        "--rtt-ms {value:?} is not a number of milliseconds"
                    ))
                }))
            }
            other => usage(&format!("unknown flag {other}")),
        }
    }
    Args {
        listen,
        upstream: upstream.unwrap_or_else(|| usage("--upstream is required")),
        rtt: Duration::from_millis(rtt_ms.unwrap_or_else(|| usage("--rtt-ms is required"))),
    }
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let listener = TcpListener::bind(&args.listen)
        .await
        .unwrap_or_else(|e| usage(&format!("cannot listen on {}: {e}", args.listen)));
    let local = listener.local_addr().expect("bound address");
    println!("listening on {local}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let (upstream, rtt) = (args.upstream, args.rtt);
        tokio::spawn(async move {
            // The handshake of a real link: nothing arrives before one RTT.
            let open_at = Instant::now() + rtt;
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            let half = rtt / 2;
            tokio::join!(
                delayed_pipe(client_read, server_write, half, open_at),
                delayed_pipe(server_read, client_write, half, open_at),
            );
        });
    }
}

/// Copies `from` to `to`, delivering each chunk `delay` after it was read
/// (and not before `open_at`). EOF is passed on as a shutdown, after the
/// data before it.
async fn delayed_pipe(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    delay: Duration,
    open_at: Instant,
) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(MAX_IN_FLIGHT);
    let reader = async move {
        loop {
            let mut buf = vec![0u8; CHUNK];
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => 0,
                Ok(n) => n,
            };
            buf.truncate(n);
            let due = (Instant::now() + delay).max(open_at + delay);
            // An empty chunk marks the end of the stream.
            if tx.send((due, buf)).await.is_err() || n == 0 {
                return;
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if chunk.is_empty() || to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
