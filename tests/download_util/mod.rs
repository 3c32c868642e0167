//! Helpers of the download tests: a wantu-server whose delivery URLs point
//! at a counting forwarder, so tests see every download request the server
//! received (method, path, `Range`) and can cut connections mid-answer.
#![allow(dead_code)]

use crate::common::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use wantu::transfer::{self, Source, TransferOptions};
use wantu::upload::Target;
use wantu_server::{Config, ServerHandle};

/// One request that went through the forwarder.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// `(first, last)` of a `Range: bytes=a-b` header.
    pub range: Option<(u64, u64)>,
}

#[derive(Default)]
struct Log {
    requests: Vec<Seen>,
    /// Request number (counted since the forwarder started) → close its
    /// connection after this many bytes of the answer.
    cuts: std::collections::HashMap<usize, u64>,
    /// Requests seen since the forwarder started (`clear` keeps counting).
    count: usize,
    /// `(period, bytes)`: every `period`-th request is cut somewhere in
    /// its first `bytes` bytes (head or body), see `cut_every`.
    every: Option<(usize, u64)>,
}

/// The answer being forwarded on one connection (HTTP/1.1: one at a time).
#[derive(Default)]
struct Current {
    cut: Option<u64>,
    sent: u64,
}

/// A TCP forwarder in front of the server's delivery.
pub struct Forwarder {
    pub url: String,
    log: Arc<Mutex<Log>>,
}

impl Forwarder {
    pub fn requests(&self) -> Vec<Seen> {
        self.log.lock().unwrap().requests.clone()
    }

    pub fn clear(&self) {
        self.log.lock().unwrap().requests.clear();
    }

    /// Cuts the connection of the `n`-th request from now (0 = the next
    /// one) after `bytes` bytes of its answer, for each `(n, bytes)`.
    pub fn cut_requests(&self, cuts: &[(usize, u64)]) {
        let mut log = self.log.lock().unwrap();
        let base = log.count;
        log.cuts.extend(cuts.iter().map(|(n, b)| (base + n, *b)));
    }
}

impl Forwarder {
    /// From now on cuts every `period`-th request (1: all of them) at a
    /// point spread over its first `bytes` bytes: some answers lose their
    /// head, others part of the body. `None` stops it.
    pub fn cut_every(&self, every: Option<(usize, u64)>) {
        self.log.lock().unwrap().every = every;
    }
}

/// A server (direct client in `env.client`) whose file URLs go through a
/// forwarder.
pub struct DownloadEnv {
    pub env_data: tempfile::TempDir,
    pub server: ServerHandle,
    pub client: wantu::Client,
    pub fwd: Forwarder,
}

impl DownloadEnv {
    pub fn start() -> DownloadEnv {
        let data = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let fwd_addr = listener.local_addr().unwrap();
        let mut config = Config::new(data.path(), vec![(AK.to_string(), SK.to_string())]);
        config.public_url = Some(format!("http://{fwd_addr}"));
        let server = wantu_server::spawn(config).unwrap();
        let log = Arc::new(Mutex::new(Log::default()));
        let upstream = server.addr();
        let l2 = log.clone();
        std::thread::spawn(move || accept_loop(listener, upstream, l2));
        let client = client_for(&server.base_url(), wantu::ClientOptions::default());
        DownloadEnv {
            env_data: data,
            server,
            client,
            fwd: Forwarder {
                url: format!("http://{fwd_addr}"),
                log,
            },
        }
    }

    /// Stores `data` as `dir/name` (simple or multipart, as the size needs).
    pub fn put(&self, dir: &str, name: &str, data: &[u8]) {
        let policy = wantu::policy::Policy::parse(&policy_json(json!({}))).unwrap();
        let target = Target::new(Some(dir), Some(name), None, None).unwrap();
        let out = transfer::upload(
            &self.client,
            &policy,
            &target,
            Source::Memory(data),
            &TransferOptions::default(),
            None,
            None,
        );
        let v = out.to_json();
        assert_eq!(v["code"], 200, "upload {dir}/{name}: {v}");
    }

    /// `/files/` requests seen, with their ranges.
    pub fn file_requests(&self) -> Vec<Seen> {
        self.fwd
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/files/"))
            .collect()
    }
}

fn accept_loop(listener: TcpListener, upstream: SocketAddr, log: Arc<Mutex<Log>>) {
    for conn in listener.incoming() {
        let Ok(client) = conn else { continue };
        let Ok(server) = TcpStream::connect(upstream) else {
            continue;
        };
        let current = Arc::new(Mutex::new(Current::default()));
        let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let (l2, cur2) = (log.clone(), current.clone());
        std::thread::spawn(move || requests_up(client, server, l2, cur2));
        std::thread::spawn(move || answers_down(s2, c2, current));
    }
}

/// Client → server: copies and records each request head (download
/// requests carry no body).
fn requests_up(
    mut from: TcpStream,
    mut to: TcpStream,
    log: Arc<Mutex<Log>>,
    current: Arc<Mutex<Current>>,
) {
    let mut buf = [0u8; 16384];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            pending.drain(..end + 4);
            let mut lines = head.split("\r\n");
            let mut first = lines.next().unwrap_or("").split(' ');
            let method = first.next().unwrap_or("").to_string();
            let path = first.next().unwrap_or("").to_string();
            let range = lines
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("range"))
                .and_then(|(_, v)| v.trim().strip_prefix("bytes=").map(str::to_string))
                .and_then(|v| {
                    let (a, b) = v.split_once('-')?;
                    Some((a.parse().ok()?, b.parse().ok()?))
                });
            let mut log = log.lock().unwrap();
            let n = log.count;
            log.count += 1;
            let every = log
                .every
                .filter(|(period, _)| n.is_multiple_of(*period))
                .map(|(_, bytes)| 1 + (n as u64 * 7919) % bytes);
            let cut = log.cuts.remove(&n).or(every);
            log.requests.push(Seen {
                method,
                path,
                range,
            });
            *current.lock().unwrap() = Current { cut, sent: 0 };
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Server → client: copies, closing both sides when the answer being
/// forwarded is to be cut.
fn answers_down(mut from: TcpStream, mut to: TcpStream, current: Arc<Mutex<Current>>) {
    let mut buf = [0u8; 16384];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut cur = current.lock().unwrap();
        if let Some(c) = cur.cut.filter(|c| cur.sent + n as u64 >= *c) {
            let _ = to.write_all(&buf[..(c - cur.sent) as usize]);
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
            return;
        }
        cur.sent += n as u64;
        drop(cur);
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Every regular file below `root`, as relative path → bytes.
pub fn read_tree(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

/// Runs a download of one file through the core API, recording progress.
pub fn download_file(
    env: &DownloadEnv,
    dir: &str,
    name: &str,
    local: &Path,
    opts: Value,
    mut stop_at: impl FnMut(u64, Option<u64>) -> bool,
) -> (Value, Vec<(u64, Option<u64>)>) {
    let mut calls = Vec::new();
    let mut cb = |done: u64, total: Option<u64>| {
        calls.push((done, total));
        !stop_at(done, total)
    };
    let opts = wantu::download::DownloadOptions::from_json(Some(&opts.to_string())).unwrap();
    let v = wantu::download::download_file(
        &env.client,
        NS,
        dir,
        name,
        local,
        opts,
        Some(&mut cb),
        None,
    );
    (v, calls)
}

pub fn download_dir(env: &DownloadEnv, remote: &str, local: &Path, opts: Value) -> Value {
    let opts = wantu::download::DownloadOptions::from_json(Some(&opts.to_string())).unwrap();
    wantu::download::download_dir(&env.client, NS, remote, local, opts, None, None, None)
}
