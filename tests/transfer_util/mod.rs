//! Helpers shared by the transfer test files.
#![allow(dead_code)]

use crate::common::*;
use serde_json::{json, Value};
use std::io::Read;
use wantu::transfer::{self, CancelToken, Outcome, Source, TransferOptions};
use wantu::upload::Target;

pub const MIB: usize = 1 << 20;

pub fn opts(json: Value) -> TransferOptions {
    TransferOptions::from_json(Some(&json.to_string())).expect("options")
}

pub fn target(name: &str) -> Target {
    Target::new(Some("/big"), Some(name), None, None).unwrap()
}

/// Runs an upload, recording every progress call.
pub fn upload(
    env: &TestEnv,
    name: &str,
    source: Source<'_>,
    o: &TransferOptions,
    cancel: Option<&CancelToken>,
) -> (Outcome, Vec<(u64, Option<u64>)>) {
    let mut calls = Vec::new();
    let mut cb = |sent: u64, total: Option<u64>| {
        calls.push((sent, total));
        true
    };
    let policy = env.policy(json!({}));
    let out = transfer::upload(
        &env.client,
        &policy,
        &target(name),
        source,
        o,
        Some(&mut cb),
        cancel,
    );
    (out, calls)
}

/// Progress never goes backwards, never passes the total, and ends on it.
pub fn check_progress(calls: &[(u64, Option<u64>)], total: u64) {
    assert!(!calls.is_empty(), "progress was reported");
    for w in calls.windows(2) {
        assert!(w[1].0 >= w[0].0, "progress went backwards: {w:?}");
    }
    for (sent, t) in calls {
        if let Some(t) = t {
            assert_eq!(*t, total);
            assert!(*sent <= total, "{sent} > {total}");
        }
    }
    assert_eq!(
        calls.last().unwrap(),
        &(total, Some(total)),
        "progress ends on the total"
    );
}

pub fn ok(out: &Outcome) -> Value {
    let v = out.to_json();
    assert_eq!(v["code"], 200, "{v}");
    v
}

pub fn write_temp(data: &[u8]) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), data).unwrap();
    f
}

/// Whether the server delivers a file (status of GET /files/…).
pub fn stored(env: &TestEnv, dir: &str, name: &str) -> bool {
    let url = format!("{}/files/{NS}{}", env.base_url(), encode_path(dir, name));
    let status = env
        .client
        .run(async {
            env.client
                .http()
                .get(&url)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
        .unwrap();
    status == 200
}

/// Hands out its bytes in odd-sized pieces, like a pipe.
pub struct Dribble {
    pub data: Vec<u8>,
    pub at: usize,
    pub step: usize,
}

impl Read for Dribble {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.step = self.step % 70_001 + 9_973;
        let n = buf.len().min(self.step).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
