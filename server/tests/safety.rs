//! Path-escape attempts, single-instance data directories, fault injection.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use wantu_server::{Config, FaultConfig};

/// Sends a raw request target, bypassing client-side URL normalisation.
fn raw_get(base: &str, target: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test]
async fn path_escapes_create_nothing_outside_the_data_dir() {
    let s = TestServer::start();
    let t = token("ns", json!({}));
    let refused = [
        ("..", "x"),
        ("/a/../../b", "x"),
        ("/ok", ".."),
        ("/ok", "."),
        ("/ok", "../../escape"),
        ("/ok", "/etc/passwd"),
        ("/ok", "nul\0byte"),
        ("/nul\0dir", "x"),
    ];
    for (dir, name) in refused {
        let (st, v) = s.upload(&t, &[("dir", dir), ("name", name)], b"evil").await;
        assert_eq!(
            (st, code(&v)),
            (StatusCode::BAD_REQUEST, "InvalidArgument"),
            "{dir:?} {name:?}: {v}"
        );
    }
    let policy_escape = token("ns", json!({"dir": "/../..", "name": "evil"}));
    let (st, _) = s.upload(&policy_escape, &[], b"evil").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = s
        .upload(&token("..", json!({"name": "x"})), &[], b"evil")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = s
        .upload(&token("a/b", json!({"name": "x"})), &[], b"evil")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // Harmless as database values: stored and served under their own names.
    let stored = [
        ("%2e%2e", "%2e%2e"),
        ("/..\\..\\", "..\\evil"),
        ("/a", "C:\\Windows\\evil"),
    ];
    for (dir, name) in stored {
        let (st, v) = s.upload(&t, &[("dir", dir), ("name", name)], b"odd").await;
        assert_eq!(st, StatusCode::OK, "{dir:?} {name:?}: {v}");
        let (st, got) = s.download(v["url"].as_str().unwrap(), None).await;
        assert_eq!((st, got.as_slice()), (StatusCode::OK, &b"odd"[..]));
    }
    let ids = [
        file_rid("ns", "/../x", "f"),
        file_rid("ns", "/", ".."),
        file_rid("ns", "/", "a/b"),
        folder_rid("ns", "/x/.."),
    ];
    for rid in ids {
        let (st, _) = s
            .manage(Method::GET, &format!("/3.0/files/{rid}"), "")
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        let (st, _) = s
            .manage(Method::POST, &format!("/3.0/folders/{rid}"), "")
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
    }

    // Delivery never reads outside the store.
    for target in [
        "/files/../data/meta.db",
        "/files/ns/../../meta.db",
        "/files/%2e%2e/%2e%2e/meta.db",
        "/files/ns/..%2f..%2fmeta.db",
        "/files/ns/%2Fetc%2Fpasswd",
        "/files/ns/..%5c..%5cmeta.db",
        "/files/ns/a%00b",
    ] {
        let answer = raw_get(&s.base, target);
        let status = answer.split(' ').nth(1).unwrap_or("");
        assert!(status == "404" || status == "400", "{target}: {answer}");
        assert!(!answer.contains("SQLite"), "{target}");
    }

    // Everything on disk is inside the data directory, with generated names.
    for path in s.all_files() {
        let rel = path
            .strip_prefix(s.dir.path().join("data"))
            .unwrap_or_else(|_| panic!("outside: {path:?}"));
        let rel = rel.to_string_lossy();
        let ok = rel.starts_with("meta.db")
            || rel
                .strip_prefix("objects/")
                .is_some_and(|n| n.len() == 32 && n.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(ok, "unexpected file {rel}");
    }
}

#[tokio::test]
async fn one_server_per_data_directory() {
    let s = TestServer::start();
    let second = wantu_server::spawn(Config::new(s.dir.path().join("data"), keys()));
    assert!(
        second.is_err(),
        "a second server must not share the data directory"
    );
    // The first one is unaffected.
    let (st, _) = s
        .upload(&token("ns", json!({"name": "x"})), &[], b"x")
        .await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn faults_at_rate_one_and_zero() {
    let s = TestServer::start();
    let t = token("ns", json!({"name": "f"}));
    assert_eq!(s.upload(&t, &[], b"before").await.0, StatusCode::OK);
    let url = s.url("/files/ns/f");

    s.handle().set_faults(FaultConfig {
        error_rate: 1.0,
        ..Default::default()
    });
    for _ in 0..5 {
        let (st, v) = s.upload(&t, &[], b"during").await;
        assert_eq!(
            (st, code(&v)),
            (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
        );
        assert!(v["requestId"].is_string() && v["message"].is_string());
    }
    let (st, v) = s.manage(Method::GET, "/3.0/files?namespace=ns", "").await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
    );
    // Delivery is never faulted, and nothing was stored.
    assert_eq!(
        s.download(&url, None).await,
        (StatusCode::OK, b"before".to_vec())
    );
    assert_eq!(s.object_count(), 1);

    s.handle().set_faults(FaultConfig {
        reset_rate: 1.0,
        ..Default::default()
    });
    for _ in 0..3 {
        let form = reqwest::multipart::Form::new().part(
            "content",
            reqwest::multipart::Part::bytes(data(200_000, 1)).file_name("f"),
        );
        let err = s
            .client
            .post(s.url("/api/proxy/upload"))
            .header("Authorization", &t)
            .multipart(form)
            .send()
            .await
            .expect_err("the connection must be dropped");
        assert!(
            err.is_request() || err.is_connect() || err.is_body(),
            "{err:?}"
        );
    }
    assert_eq!(
        s.download(&url, None).await,
        (StatusCode::OK, b"before".to_vec())
    );

    // A long delay, so that "delivery is not delayed" holds on a busy machine.
    s.handle().set_faults(FaultConfig {
        delay_rate: 1.0,
        delay_ms: 1500,
        ..Default::default()
    });
    let started = Instant::now();
    assert_eq!(s.upload(&t, &[], b"slow").await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let started = Instant::now();
    s.download(&url, None).await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "delivery is not delayed"
    );

    s.handle().set_faults(FaultConfig::default());
    for i in 0..30 {
        assert_eq!(s.upload(&t, &[], &data(100, i)).await.0, StatusCode::OK);
    }
}

async fn statuses(seed: u64) -> Vec<u16> {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path(), keys());
    config.faults = FaultConfig {
        error_rate: 0.5,
        seed: Some(seed),
        ..Default::default()
    };
    let h = wantu_server::spawn(config).unwrap();
    let client = reqwest::Client::new();
    let target = format!("/3.0/files/{}/exist", file_rid("ns", "/", "x"));
    let mut out = Vec::new();
    for _ in 0..40 {
        let date = now_ms().to_string();
        let resp = client
            .get(format!("{}{target}", h.base_url()))
            .header("Authorization", manage_token(AK, SK, &target, "", &date))
            .header("Date", date)
            .send()
            .await
            .unwrap();
        out.push(resp.status().as_u16());
    }
    h.stop();
    out
}

#[tokio::test]
async fn seeded_faults_repeat() {
    let a = statuses(42).await;
    let errors = a.iter().filter(|s| **s == 503).count();
    assert!((5..=35).contains(&errors), "{a:?}");
    assert!(a.iter().all(|s| *s == 200 || *s == 503));
    assert_eq!(a, statuses(42).await);
    assert_ne!(a, statuses(43).await);
}

#[tokio::test]
async fn storage_failures_answer_internal_error() {
    let s = TestServer::start();
    let t = token("ns", json!({"name": "f"}));
    // Pull the object directory out from under the server.
    std::fs::remove_dir_all(s.dir.path().join("data/objects")).unwrap();
    let (st, v) = s.upload(&t, &[], b"x").await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("storage"), "{v}");
    assert!(std::fs::read_dir(s.dir.path().join("data/tmp"))
        .unwrap()
        .next()
        .is_none());
    std::fs::create_dir(s.dir.path().join("data/objects")).unwrap();
    assert_eq!(s.upload(&t, &[], b"x").await.0, StatusCode::OK);
}
