//! Downloads to the caller against wantu-server: a file in order through
//! parallel ranges, ranges that are one exact request, retries after cut
//! connections, a damaged stored file, a failing consumer, cancel, and the
//! memory cap.

mod common;
mod download_util;

use common::*;
use download_util::*;
use serde_json::Value;
use wantu::download::stream::{download_to, download_to_memory, ByteRange, Consumer};
use wantu::download::StreamOptions;
use wantu::transfer::CancelToken;
use wantu::Result;

const SMALL_PARTS: &str = r#"{"part_size":102400,"concurrency":4}"#;

/// Collects what it is given, and how many writes it took.
#[derive(Default)]
struct Collect {
    bytes: Vec<u8>,
    writes: usize,
    /// Fails the write that would go past this many bytes.
    fail_after: Option<usize>,
    /// Triggers this cancel after the first write.
    cancel: Option<CancelToken>,
}

impl Consumer for Collect {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        if self
            .fail_after
            .is_some_and(|n| self.bytes.len() + bytes.len() > n)
        {
            return Err(wantu::Error::Io("the pipe is closed".into()));
        }
        self.bytes.extend_from_slice(bytes);
        self.writes += 1;
        if let Some(c) = &self.cancel {
            c.trigger();
        }
        Ok(())
    }
}

fn opts(json: &str) -> StreamOptions {
    StreamOptions::from_json(Some(json)).unwrap()
}

fn stream(env: &DownloadEnv, name: &str, range: ByteRange, o: &str, c: &mut Collect) -> Value {
    download_to(&env.client, NS, "/s", name, range, &opts(o), c, None, None)
}

fn range(offset: u64, length: Option<u64>) -> ByteRange {
    ByteRange { offset, length }
}

#[test]
fn a_file_arrives_in_order_through_parallel_ranges_md5_checked() {
    let env = DownloadEnv::start();
    let data = test_bytes(1_000_000, 7);
    env.put("/s", "big.bin", &data);
    env.fwd.clear();
    let mut c = Collect::default();
    let v = stream(&env, "big.bin", ByteRange::ALL, SMALL_PARTS, &mut c);
    assert_eq!(v["code"], 200, "{v}");
    assert!(c.bytes == data, "the bytes came back in order");
    assert_eq!(v["md5"], md5_hex(&data));
    assert_eq!(v["md5_checked"], true);
    assert_eq!(
        (v["offset"].as_u64(), v["length"].as_u64()),
        (Some(0), Some(1_000_000))
    );
    // 10 ranges of 102400 bytes, each asked for exactly once.
    let mut ranges: Vec<_> = env
        .file_requests()
        .iter()
        .map(|r| r.range.unwrap())
        .collect();
    ranges.sort();
    let want: Vec<_> = (0..10u64)
        .map(|i| (i * 102400, ((i + 1) * 102400).min(1_000_000) - 1))
        .collect();
    assert_eq!(ranges, want);

    // Small files and the defaults: one plain GET.
    env.put("/s", "small.txt", b"hello");
    env.fwd.clear();
    let mut c = Collect::default();
    let v = stream(&env, "small.txt", ByteRange::ALL, "{}", &mut c);
    assert_eq!(
        (v["code"].as_u64(), c.bytes.as_slice()),
        (Some(200), &b"hello"[..])
    );
    let reqs = env.file_requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].range, None);

    // An empty file: nothing fetched, MD5 of nothing checked.
    env.put("/s", "empty", b"");
    let mut c = Collect::default();
    let v = stream(&env, "empty", ByteRange::ALL, "{}", &mut c);
    assert_eq!((v["code"].as_u64(), c.writes), (Some(200), 0), "{v}");
}

#[test]
fn a_range_is_one_exact_request_and_out_of_file_ranges_are_refused() {
    let env = DownloadEnv::start();
    let data = test_bytes(3_000_000, 8);
    env.put("/s", "r.bin", &data);
    env.fwd.clear();
    let mut c = Collect::default();
    let v = stream(&env, "r.bin", range(1_000_000, Some(1 << 20)), "{}", &mut c);
    assert_eq!(v["code"], 200, "{v}");
    assert!(c.bytes == data[1_000_000..1_000_000 + (1 << 20)]);
    assert_eq!(v["md5_checked"], false);
    let reqs = env.file_requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].range, Some((1_000_000, 1_000_000 + (1 << 20) - 1)));

    // To the end; and a range covering the whole file is MD5-checked.
    let mut c = Collect::default();
    let v = stream(&env, "r.bin", range(2_999_990, None), "{}", &mut c);
    assert_eq!(
        (v["code"].as_u64(), c.bytes.as_slice()),
        (Some(200), &data[2_999_990..])
    );
    let mut c = Collect::default();
    let v = stream(&env, "r.bin", range(0, Some(3_000_000)), "{}", &mut c);
    assert_eq!(v["md5_checked"], true, "{v}");

    // Into memory: the same bytes.
    let (v, bytes) = download_to_memory(
        &env.client,
        NS,
        "/s",
        "r.bin",
        range(5, Some(10)),
        &opts("{}"),
        None,
        None,
    );
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(bytes.unwrap(), &data[5..15]);

    env.fwd.clear();
    for bad in [
        range(3_000_001, None),
        range(2_999_999, Some(2)),
        range(u64::MAX, Some(1)),
        range(1, Some(u64::MAX)),
    ] {
        let mut c = Collect::default();
        let v = stream(&env, "r.bin", bad, "{}", &mut c);
        assert_error(&v, 0, "InvalidArgument", "holds 3000000 bytes");
    }
    assert!(
        env.file_requests().is_empty(),
        "nothing fetched for a bad range"
    );
    let mut c = Collect::default();
    let v = stream(&env, "nope.bin", ByteRange::ALL, "{}", &mut c);
    assert_eq!(v["code"], 404, "{v}");
}

#[test]
fn cut_connections_are_retried_and_the_bytes_stay_exact() {
    let env = DownloadEnv::start();
    let data = test_bytes(900_000, 9);
    env.put("/s", "cut.bin", &data);
    env.fwd.cut_every(Some((2, 150_000)));
    let mut c = Collect::default();
    let o = r#"{"part_size":102400,"concurrency":4,"backoff_base_ms":1,"backoff_max_ms":5}"#;
    let v = stream(&env, "cut.bin", ByteRange::ALL, o, &mut c);
    env.fwd.cut_every(None);
    assert_eq!(v["code"], 200, "{v}");
    assert!(v["retries"].as_u64().unwrap() > 0, "{v}");
    assert!(c.bytes == data);
}

/// The stored content object holding exactly `data`, in the server's data
/// folder.
fn stored_object(root: &std::path::Path, data: &[u8]) -> std::path::PathBuf {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::metadata(&p).unwrap().len() == data.len() as u64
                && std::fs::read(&p).unwrap() == data
            {
                return p;
            }
        }
    }
    panic!("no stored object holds the data");
}

#[test]
fn a_damaged_stored_file_ends_the_call_with_an_error() {
    let env = DownloadEnv::start();
    let data = test_bytes(500_000, 10);
    env.put("/s", "bad.bin", &data);
    let object = stored_object(env.env_data.path(), &data);
    let mut damaged = data.clone();
    damaged[400_000] ^= 0xff;
    std::fs::write(&object, &damaged).unwrap();
    for o in ["{}", SMALL_PARTS] {
        let mut c = Collect::default();
        let v = stream(&env, "bad.bin", ByteRange::ALL, o, &mut c);
        assert_error(&v, 0, "InvalidResponse", "have MD5");
        assert_eq!(
            c.bytes.len(),
            data.len(),
            "the bytes went through unverified"
        );
        let (v, bytes) = download_to_memory(
            &env.client,
            NS,
            "/s",
            "bad.bin",
            ByteRange::ALL,
            &opts(o),
            None,
            None,
        );
        assert_error(&v, 0, "InvalidResponse", "have MD5");
        assert!(bytes.is_none(), "no bytes for a failed memory download");
    }
    // A range is not MD5-checkable: it comes back as stored.
    let mut c = Collect::default();
    let v = stream(&env, "bad.bin", range(399_990, Some(20)), "{}", &mut c);
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(c.bytes, &damaged[399_990..400_010]);
}

#[test]
fn a_failing_consumer_or_a_cancel_stops_the_requests() {
    let env = DownloadEnv::start();
    let data = test_bytes(2_000_000, 11);
    env.put("/s", "stop.bin", &data);
    env.fwd.clear();
    let mut c = Collect {
        fail_after: Some(300_000),
        ..Default::default()
    };
    let o = r#"{"part_size":102400,"concurrency":2}"#;
    let v = stream(&env, "stop.bin", ByteRange::ALL, o, &mut c);
    assert_error(&v, 0, "IoError", "the pipe is closed");
    assert_eq!(c.bytes, &data[..204_800]);
    // The window (2 ranges) bounds what was fetched beyond the failure.
    let fetched = env.file_requests().len();
    assert!(fetched <= 6, "{fetched} ranges fetched for 3 delivered");

    let cancel = CancelToken::new();
    let mut c = Collect {
        cancel: Some(cancel.clone()),
        ..Default::default()
    };
    let v = download_to(
        &env.client,
        NS,
        "/s",
        "stop.bin",
        ByteRange::ALL,
        &opts(o),
        &mut c,
        None,
        Some(&cancel),
    );
    assert_error(&v, 0, "Cancelled", "cancelled");
    assert!(c.writes <= 2, "{} writes after a cancel", c.writes);
}

#[test]
fn memory_downloads_are_capped() {
    let env = DownloadEnv::start();
    let data = test_bytes(300_000, 12);
    env.put("/s", "cap.bin", &data);
    env.fwd.clear();
    let mem =
        |o: &str, r| download_to_memory(&env.client, NS, "/s", "cap.bin", r, &opts(o), None, None);
    let (v, bytes) = mem(r#"{"max_bytes":299999}"#, ByteRange::ALL);
    assert_error(&v, 0, "InvalidArgument", "`max_bytes`");
    assert!(bytes.is_none());
    assert!(env.file_requests().is_empty(), "refused before any fetch");
    let (v, bytes) = mem(r#"{"max_bytes":1000}"#, range(1000, Some(1000)));
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(bytes.unwrap(), &data[1000..2000]);
    let (v, bytes) = mem("{}", ByteRange::ALL);
    assert_eq!(v["code"], 200, "{v}");
    assert!(bytes.unwrap() == data);
}
