//! Requests as the service's own SDKs send them, checked on a raw socket
//! (wantu-server accepts more than strict front ends do): a body-less POST
//! declares `Content-Length: 0`, and the content part's `Content-Type` is
//! guessed from the file name.

mod common;

use common::*;
use std::io::{Read, Write};
use wantu::upload::{Content, Target};
use wantu::ClientOptions;

/// Accepts one connection, reads one whole request (head and a body of
/// `Content-Length` bytes), answers 200 with `body`, and hands back the
/// request as text.
fn capture_whole_request(body: &'static str) -> (String, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        conn.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if request.len() >= end + 4 + len {
                    break;
                }
            }
            let n = conn.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = conn.write_all(answer.as_bytes());
        String::from_utf8_lossy(&request).into_owned()
    });
    (endpoint, handle)
}

#[test]
fn a_post_without_a_body_declares_content_length_zero() {
    let (endpoint, request) = capture_whole_request(r#"{}"#);
    let client = client_for(&endpoint, ClientOptions::default());
    let _ = client.run(client.dir_create(NS, "/made")).unwrap();
    let request = request.join().unwrap().to_ascii_lowercase();
    assert!(request.starts_with("post "), "{request}");
    assert!(
        request.contains("\r\ncontent-length: 0\r\n"),
        "no Content-Length: 0 in\n{request}"
    );
}

#[test]
fn a_post_with_a_body_declares_its_length_once() {
    use wantu::manage::ManageRequest;
    let (endpoint, request) = capture_whole_request(r#"{}"#);
    let client = client_for(&endpoint, ClientOptions::default());
    let post = ManageRequest::new(reqwest::Method::POST, "/3.1/scanPorn".into(), "scan")
        .field("uri", "a b");
    let _ = client.run(client.manage(post)).unwrap();
    let request = request.join().unwrap().to_ascii_lowercase();
    let lengths: Vec<_> = request
        .lines()
        .filter(|l| l.starts_with("content-length:"))
        .collect();
    assert_eq!(lengths, ["content-length: 9"], "{request}");
    assert!(request.ends_with("\r\n\r\nuri=a%20b"), "{request}");
}

fn content_type_sent_for(name: &str) -> String {
    let (endpoint, request) =
        capture_whole_request(r#"{"code":"OK","message":"OK","requestId":"r"}"#);
    let client = client_for(&endpoint, ClientOptions::default());
    let policy = wantu::policy::Policy::parse(&policy_json(serde_json::json!({}))).unwrap();
    let target = Target::new(Some("/t"), Some(name), None, None).unwrap();
    let content = Content::Bytes(bytes::Bytes::from_static(b"\xff\xd8\xff\xe0 bytes"));
    let _ = client.run(client.upload(&policy, &target, content, None));
    let request = request.join().unwrap();
    let part = request
        .split("name=\"content\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no content part in\n{request}"));
    let head = part.split("\r\n\r\n").next().unwrap();
    head.lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap_or_else(|| panic!("no Content-Type in the part head {head:?}"))
        .trim()
        .to_string()
}

#[test]
fn the_content_type_is_guessed_from_the_name() {
    assert_eq!(content_type_sent_for("photo.jpg"), "image/jpeg");
    assert_eq!(content_type_sent_for("clip.mp4"), "video/mp4");
    assert_eq!(content_type_sent_for("notes.txt"), "text/plain");
    assert_eq!(
        content_type_sent_for("blob.no-such-type"),
        "application/octet-stream"
    );
}

/// The `parts` field of a `blockComplete` request, as sent.
fn parts_field(request: &str) -> String {
    let after = request
        .split("name=\"parts\"\r\n\r\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no parts field in\n{request}"));
    after.split("\r\n").next().unwrap().to_string()
}

#[test]
fn block_complete_sends_parts_as_the_seeds_manual_builds_them() {
    use base64::Engine;
    let (endpoint, request) =
        capture_whole_request(r#"{"code":"OK","message":"OK","requestId":"r"}"#);
    let client = client_for(&endpoint, ClientOptions::default());
    let policy = wantu::policy::Policy::parse(&policy_json(serde_json::json!({}))).unwrap();
    let tags = [(1, "0CC175B9C0F1B6A831C399E269772661"), (10_000, "AB\"C")].map(|(n, t)| {
        wantu::multipart::PartTag {
            part_number: n,
            e_tag: t.into(),
        }
    });
    let id = "7b2b1a8e-3f5e-4c1a-9e1a-1b2c3d4e5f60";
    let upload_id = "0123456789ABCDEF0123456789ABCDEF";
    let _ = client.run(client.multipart_complete(&policy, id, upload_id, &tags, None));
    let sent = parts_field(&request.join().unwrap());
    // Python: base64.urlsafe_b64encode(json.dumps([{"e_tag": …,
    // "part_number": 1}, …]).encode()) — its key order, its spacing, and
    // the padding kept.
    let python = r#"[{"e_tag": "0CC175B9C0F1B6A831C399E269772661", "part_number": 1}, {"e_tag": "AB\"C", "part_number": 10000}]"#;
    assert_eq!(
        sent,
        base64::engine::general_purpose::URL_SAFE.encode(python),
        "decoded: {:?}",
        wantu::auth::b64_decode_lenient(&sent).map(String::from_utf8)
    );
}

/// wantu-server assembles an upload whatever form of `parts` arrives: the
/// seed's (what the library sends), and the camelCase, unpadded form the
/// library sent before.
#[test]
fn wantu_server_completes_with_snake_and_camel_case_parts() {
    use base64::Engine;
    use wantu::multipart::{encode_parts, PartTag, MIN_PART_SIZE};
    let env = TestEnv::start();
    let policy = env.policy(serde_json::json!({}));
    let c = &env.client;
    let camel = |tags: &[PartTag]| {
        let json = serde_json::Value::Array(
            tags.iter()
                .map(|t| serde_json::json!({"partNumber": t.part_number, "eTag": t.e_tag}))
                .collect(),
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
    };
    type Encoder<'a> = &'a dyn Fn(&[PartTag]) -> String;
    let forms: [(&str, Encoder); 2] = [("snake.bin", &encode_parts), ("camel.bin", &camel)];
    for (i, (name, form)) in forms.into_iter().enumerate() {
        let data = test_bytes(MIN_PART_SIZE as usize + 777, 40 + i as u64);
        let (first, second) = data.split_at(MIN_PART_SIZE as usize);
        let target = Target::new(Some("/parts"), Some(name), None, None).unwrap();
        let bytes = |b: &[u8]| Content::Bytes(bytes::Bytes::copy_from_slice(b));
        let r = c
            .run(c.multipart_init(&policy, &target, bytes(first), None))
            .unwrap()
            .unwrap();
        let (id, upload_id) = (r["id"].as_str().unwrap(), r["upload_id"].as_str().unwrap());
        let r2 = c
            .run(c.multipart_upload(&policy, id, upload_id, 2, bytes(second), None))
            .unwrap()
            .unwrap();
        let tags = [(1, &r), (2, &r2)].map(|(n, r)| PartTag {
            part_number: n,
            e_tag: r["e_tag"].as_str().unwrap().to_string(),
        });
        let mut fields = wantu::upload::Fields::new();
        for (k, v) in [("id", id), ("uploadId", upload_id)] {
            wantu::upload::push(&mut fields, k, v);
        }
        wantu::upload::push(&mut fields, "parts", form(&tags));
        let done = c
            .run(c.post_upload(
                "/api/proxy/blockComplete",
                &policy,
                fields,
                None,
                "complete",
            ))
            .unwrap()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(done["code"], 200, "{name}: {done}");
        assert_eq!(env.download("/parts", name), data, "{name}");
    }
}
