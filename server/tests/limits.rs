//! wantu-server under attack: slow and silent connections, bodies that
//! stall or never end, oversized form parts, a full disk. Every test talks
//! to a real server over real sockets on 127.0.0.1, with limits lowered
//! through `Config` so that it is quick.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use wantu_server::{Config, FaultConfig};

const BOUNDARY: &str = "wantu-limits-boundary";

/// A multipart/form-data body with text `fields` and a `content` file.
fn form_body(fields: &[(&str, &str)], content: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        write!(
            b,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
        .unwrap();
    }
    write!(
        b,
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"f.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .unwrap();
    b.extend_from_slice(content);
    write!(b, "\r\n--{BOUNDARY}--\r\n").unwrap();
    b
}

fn connect(s: &TestServer) -> TcpStream {
    let c = TcpStream::connect(s.handle().addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    c
}

/// The head of an upload request whose body is `len` bytes long.
fn upload_head(s: &TestServer, token: &str, len: usize) -> String {
    format!(
        "POST /api/proxy/upload HTTP/1.1\r\nHost: {}\r\nAuthorization: {token}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len}\r\n\r\n",
        s.handle().addr()
    )
}

/// Reads until the server closes the connection or `limit` passes; answers
/// what was read and, if it closed, when.
fn read_until_closed(c: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        match c.read(&mut buf) {
            Ok(0) => return (lossy(&got), Some(started.elapsed())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (lossy(&got), Some(started.elapsed())),
        }
    }
    (lossy(&got), None)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Whether the server has closed `c` (without waiting).
fn is_closed(c: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    c.set_nonblocking(true).unwrap();
    let closed = match (&mut &*c).read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    };
    c.set_nonblocking(false).unwrap();
    closed
}

async fn stored(s: &TestServer, ns: &str, name: &str) -> StatusCode {
    s.download(&s.url(&format!("/files/{ns}/{name}")), None)
        .await
        .0
}

#[tokio::test]
async fn a_request_head_that_trickles_is_cut_at_the_header_timeout() {
    let s = TestServer::start_with(|c| {
        c.limits.header_timeout = Duration::from_secs(1);
        c.limits.idle_timeout = Duration::from_secs(60);
    });
    let mut c = connect(&s);
    c.write_all(b"GET /files/ns/x HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut closed = None;
    // One header line every 100 ms: never silent, never complete.
    while started.elapsed() < Duration::from_secs(5) {
        if c.write_all(b"X-Slow: 1\r\n").is_err() || is_closed(&c) {
            closed = Some(started.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let closed = closed.expect("a trickling head was held for 5 s");
    assert!(closed >= Duration::from_millis(900), "{closed:?}");
}

#[tokio::test]
async fn silent_connections_are_closed_at_the_idle_timeout() {
    let s = TestServer::start_with(|c| c.limits.idle_timeout = Duration::from_millis(500));
    // A connection that never sends anything.
    let mut silent = connect(&s);
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(5));
    let closed = closed.expect("a silent connection was held for 5 s");
    assert!(closed >= Duration::from_millis(400), "{closed:?}");

    // A keep-alive connection after its answer.
    let mut kept = connect(&s);
    kept.write_all(b"GET /files/ns/missing HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (answer, closed) = read_until_closed(&mut kept, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(closed.is_some(), "an idle keep-alive connection was held");
}

#[tokio::test]
async fn a_stalled_body_is_answered_408_and_nothing_is_stored() {
    let s = TestServer::start_with(|c| c.limits.body_timeout = Duration::from_millis(500));
    let t = token("ns", json!({}));
    let content = data(50_000, 1);
    // Half of the form, or all of it, but fewer bytes than announced.
    for (name, cut) in [("half", true), ("whole", false)] {
        let body = form_body(&[("name", name)], &content);
        let mut c = connect(&s);
        c.write_all(upload_head(&s, &t, body.len() + 1000).as_bytes())
            .unwrap();
        let sent = if cut { &body[..body.len() / 2] } else { &body };
        c.write_all(sent).unwrap();
        let started = Instant::now();
        let (answer, _) = read_until_closed(&mut c, Duration::from_secs(5));
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "{name}: no 408 within 5 s: {answer:?}"
        );
        assert!(answer.contains("RequestTimeout"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(stored(&s, "ns", name).await, StatusCode::NOT_FOUND);
    }
    assert_eq!(s.object_count(), 0);
}

#[tokio::test]
async fn a_complete_form_in_an_aborted_body_is_not_committed() {
    let s = TestServer::start();
    let t = token("ns", json!({}));
    let content = data(20_000, 2);

    // Content-Length not reached: the client closes its side.
    let body = form_body(&[("name", "short")], &content);
    let mut c = connect(&s);
    c.write_all(upload_head(&s, &t, body.len() + 10).as_bytes())
        .unwrap();
    c.write_all(&body).unwrap();
    // Time enough for the server to parse (and, before, commit) the form.
    std::thread::sleep(Duration::from_millis(300));
    c.shutdown(Shutdown::Write).unwrap();
    let (answer, _) = read_until_closed(&mut c, Duration::from_secs(5));
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Chunked, without the terminating zero-length chunk.
    let body = form_body(&[("name", "unterminated")], &content);
    let mut c = connect(&s);
    let head = upload_head(&s, &t, 0).replace("Content-Length: 0", "Transfer-Encoding: chunked");
    c.write_all(head.as_bytes()).unwrap();
    write!(c, "{:x}\r\n", body.len()).unwrap();
    c.write_all(&body).unwrap();
    c.write_all(b"\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    c.shutdown(Shutdown::Write).unwrap();
    let (answer, _) = read_until_closed(&mut c, Duration::from_secs(5));
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");

    assert_eq!(stored(&s, "ns", "short").await, StatusCode::NOT_FOUND);
    assert_eq!(
        stored(&s, "ns", "unterminated").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.object_count(), 0);

    // The same form, ended properly, is stored.
    let body = form_body(&[("name", "ended")], &content);
    let mut c = connect(&s);
    c.write_all(upload_head(&s, &t, body.len()).as_bytes())
        .unwrap();
    c.write_all(&body).unwrap();
    let (answer, _) = read_until_closed(&mut c, Duration::from_secs(2));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(stored(&s, "ns", "ended").await, StatusCode::OK);
}

#[tokio::test]
async fn slow_peers_give_way_to_well_behaved_clients_at_the_connection_cap() {
    const CAP: usize = 50;
    const SLOW: usize = 300;
    let s = TestServer::start_with(|c| {
        c.limits.max_connections = CAP;
        c.limits.header_timeout = Duration::from_secs(60);
        c.limits.idle_timeout = Duration::from_secs(60);
    });
    let slow: Vec<TcpStream> = (0..SLOW)
        .map(|_| {
            let mut c = connect(&s);
            c.write_all(b"GET /files/ns/x HTTP/1.1\r\n").unwrap();
            c
        })
        .collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let resp = client
        .get(s.url("/files/ns/missing"))
        .send()
        .await
        .expect("a well-behaved client was not answered within 5 s");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(started.elapsed() < Duration::from_secs(2));
    // Give the server a moment to finish closing the evicted ones.
    std::thread::sleep(Duration::from_millis(200));
    let closed = slow.iter().filter(|c| is_closed(c)).count();
    assert!(
        closed >= SLOW - CAP,
        "only {closed} of {SLOW} slow connections were closed with a cap of {CAP}"
    );
}

#[tokio::test]
async fn the_maximum_object_size_holds_without_a_policy_limit() {
    let max = 1 << 20;
    let s = TestServer::start_with(|c| c.limits.max_object_size = max);
    let t = token("ns", json!({}));
    let (st, v) = s
        .upload(&t, &[("name", "fits")], &data(max as usize, 3))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = s
        .upload(&t, &[("name", "big")], &data(max as usize + 1, 3))
        .await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "SizeLimitExceeded")
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("maximum object size"),
        "{v}"
    );

    // A chunked body of unknown length: refused once it passes the limit.
    let chunks = (0..48).map(|i| Ok::<_, std::io::Error>(data(64 << 10, i)));
    let part = reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(
        futures_util::stream::iter(chunks),
    ))
    .file_name("endless.bin");
    let form = reqwest::multipart::Form::new()
        .text("name", "endless")
        .part("content", part);
    let resp = s
        .client
        .post(s.url("/api/proxy/upload"))
        .header("Authorization", &t)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(resp).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "SizeLimitExceeded")
    );
    assert_eq!(stored(&s, "ns", "endless").await, StatusCode::NOT_FOUND);
    assert_eq!(s.object_count(), 1);
}

/// Posts a raw multipart body.
async fn post_raw(s: &TestServer, t: &str, body: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let resp = s
        .client
        .post(s.url("/api/proxy/upload"))
        .header("Authorization", t)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    json_of(resp).await
}

#[tokio::test]
async fn part_headers_text_fields_and_metadata_are_bounded() {
    let s = TestServer::start();
    let t = token("ns", json!({}));

    // One part-header line of 1 MiB.
    let long = "a".repeat(1 << 20);
    let mut body = Vec::new();
    write!(
        body,
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"x\"; filename=\"{long}\"\r\n\r\nv\r\n--{BOUNDARY}--\r\n"
    )
    .unwrap();
    let (st, v) = post_raw(&s, &t, body).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::BAD_REQUEST, "PartHeaderTooLarge"),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("16384"), "{v}");

    // Three unknown fields of 900 KB: each allowed, together too many.
    let big = "b".repeat(900_000);
    let fields = [
        ("name", "f"),
        ("u1", big.as_str()),
        ("u2", &big),
        ("u3", &big),
    ];
    let (st, v) = post_raw(&s, &t, form_body(&fields, b"x")).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "FormFieldsTooLarge"),
        "{v}"
    );

    // Metadata: 2048 bytes of names and values at most.
    let value = "m".repeat(2048 - "k".len());
    let (st, v) = s
        .upload(&t, &[("name", "meta-ok"), ("meta-k", &value)], b"x")
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let value = "m".repeat(2048);
    let (st, v) = s
        .upload(&t, &[("name", "meta-big"), ("meta-k", &value)], b"x")
        .await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::BAD_REQUEST, "MetadataTooLarge"),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("2048"), "{v}");
    let (st, v) = s
        .post_form(
            "/api/proxy/blockInit",
            &t,
            &[("name", "meta-big"), ("meta-k", &value)],
            Some(&data(PART, 4)),
        )
        .await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::BAD_REQUEST, "MetadataTooLarge"),
        "{v}"
    );
    assert_eq!(s.object_count(), 1);
}

#[tokio::test]
async fn a_full_disk_is_507_and_delete_keeps_the_file_whole() {
    let mut s = TestServer::start();
    let t = token("ns", json!({}));
    let (st, v) = s.upload(&t, &[("name", "keep")], b"kept bytes").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let url = v["url"].as_str().unwrap().to_string();
    let rid = file_rid("ns", "/", "keep");
    let full = FaultConfig {
        disk_full: true,
        ..FaultConfig::default()
    };
    s.handle().set_faults(full);

    let (st, v) = s.upload(&t, &[("name", "new")], b"no room").await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::INSUFFICIENT_STORAGE, "InsufficientStorage"),
        "{v}"
    );
    let (st, v) = s
        .manage(
            Method::POST,
            &format!("/3.0/folders/{}", folder_rid("ns", "/d")),
            "",
        )
        .await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::INSUFFICIENT_STORAGE, "InsufficientStorage"),
        "{v}"
    );

    let (st, v) = s
        .manage(Method::DELETE, &format!("/3.0/files/{rid}"), "")
        .await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::INSUFFICIENT_STORAGE, "InsufficientStorage"),
        "{v}"
    );
    // Still listed, still described, still served: nothing was lost.
    let (st, _) = s
        .manage(Method::GET, &format!("/3.0/files/{rid}"), "")
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        s.download(&url, None).await,
        (StatusCode::OK, b"kept bytes".to_vec())
    );

    s.handle().set_faults(FaultConfig::default());
    let (st, _) = s
        .manage(Method::DELETE, &format!("/3.0/files/{rid}"), "")
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(s.download(&url, None).await.0, StatusCode::NOT_FOUND);
    s.restart();
    let (st, v) = s
        .manage(Method::GET, &format!("/3.0/files/{rid}"), "")
        .await;
    assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "FileNotExist"));
    assert_eq!(s.object_count(), 0);
}

#[test]
fn limits_have_documented_defaults() {
    let c = Config::new("unused", keys());
    assert_eq!(c.limits.max_object_size, 5 << 30);
    assert_eq!(c.limits.max_connections, 1024);
    assert_eq!(c.limits.header_timeout, Duration::from_secs(30));
    assert_eq!(c.limits.idle_timeout, Duration::from_secs(20));
    assert_eq!(c.limits.body_timeout, Duration::from_secs(60));
}
