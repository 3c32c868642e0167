//! The wantu-server binary: flags, the "listening on" line, serving.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use reqwest::StatusCode;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_wantu-server");

/// Kills the child on drop so a failing test leaves no server behind.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_announces_its_port_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Child(
        Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--data"])
            .arg(dir.path())
            .args(["--key", &format!("{AK}:{SK}"), "--key", "k2:s2"])
            .args(["--public-url", "http://media.example/base/"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line was {line:?}"))
        .to_string();
    let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
    assert!(base.starts_with("http://127.0.0.1:") && port != 0, "{base}");

    let client = reqwest::Client::new();
    let form = reqwest::multipart::Form::new().part(
        "content",
        reqwest::multipart::Part::bytes(b"cli".to_vec()).file_name("c"),
    );
    let resp = client
        .post(format!("{base}/api/proxy/upload"))
        .header("Authorization", token("ns", json!({"name": "c b"})))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(resp).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["url"], "http://media.example/base/files/ns/c%20b");
    let got = client
        .get(format!("{base}/files/ns/c%20b"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.bytes().await.unwrap(), &b"cli"[..]);
}

#[test]
fn help_documents_every_flag() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--data",
        "--key",
        "--public-url",
        "--faults",
        "--seed",
        "--help",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn bad_arguments_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [&[&str]; 3] = [
        &["--key", "no-colon"],
        &["--key", "a:b", "--faults", "error=7"],
        &["--key", "a:b", "--faults", "explode=0.1"],
    ];
    for args in cases {
        let out = Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--data"])
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("wantu-server:"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "no 'listening' line on failure");
    }
    // An unusable data directory is reported before "listening".
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--key", "a:b", "--data"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot serve"));
    // --key is required.
    let out = Command::new(BIN).args(["--data", "x"]).output().unwrap();
    assert!(!out.status.success());
}
