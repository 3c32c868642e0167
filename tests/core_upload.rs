//! The plain-Rust core against an in-process wantu-server: simple and
//! multipart uploads, byte-exact through `/files/...`, and every way they fail.

mod common;

use common::*;
use serde_json::json;
use wantu::multipart::{parse_parts, PartTag, MIN_PART_SIZE};
use wantu::policy::Policy;
use wantu::upload::{Content, Target};
use wantu::{Client, ClientConfig, ClientOptions};

const PART: usize = MIN_PART_SIZE as usize + 1000;

fn target(dir: &str, name: &str) -> Target {
    Target::new(Some(dir), Some(name), None, None).unwrap()
}

fn bytes(data: &[u8]) -> Content {
    Content::Bytes(bytes::Bytes::copy_from_slice(data))
}

#[test]
fn upload_file_and_bytes_are_byte_exact() {
    let env = TestEnv::start();
    let policy = env.policy(json!({}));
    let data = test_bytes(300_000, 1);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &data).unwrap();

    let r = env
        .client
        .run(env.client.upload(
            &policy,
            &target("/core", "file.bin"),
            Content::File(file.path().into()),
            None,
        ))
        .unwrap()
        .unwrap();
    assert_eq!(r["code"], 200);
    assert_eq!(r["name"], "file.bin");
    assert_eq!(r["dir"], "/core");
    assert_eq!(r["file_size"], data.len().to_string());
    assert_eq!(r["e_tag"], md5_hex(&data).to_uppercase());
    assert_eq!(r["message"], "OK");
    assert!(
        r["request_id"].as_str().is_some_and(|s| !s.is_empty()),
        "{r}"
    );
    assert!(
        r["url"].as_str().unwrap().ends_with("/core/file.bin"),
        "{r}"
    );
    assert!(r["file_modified"].is_u64(), "{r}");
    assert!(
        r.get("eTag").is_none() && r.get("requestId").is_none(),
        "snake_case: {r}"
    );
    assert_eq!(env.download("/core", "file.bin"), data);

    let small = b"hello \x00\xff bytes";
    let r = env
        .client
        .run(
            env.client
                .upload(&policy, &target("/core", "bytes.bin"), bytes(small), None),
        )
        .unwrap()
        .unwrap();
    assert_eq!(r["file_size"], "14");
    assert_eq!(env.download("/core", "bytes.bin"), small);

    // Empty content is a file too.
    let r = env
        .client
        .run(
            env.client
                .upload(&policy, &target("/core", "empty"), bytes(b""), None),
        )
        .unwrap()
        .unwrap();
    assert_eq!(r["file_size"], "0");
    assert_eq!(env.download("/core", "empty"), b"");

    // Names that need escaping survive the round trip.
    let name = "ünï cödé & spaces %20.txt";
    env.client
        .run(
            env.client
                .upload(&policy, &target("/core/子目录", name), bytes(small), None),
        )
        .unwrap()
        .unwrap();
    assert_eq!(env.download("/core/子目录", name), small);
}

#[test]
fn md5_is_checked_by_the_server() {
    let env = TestEnv::start();
    let policy = env.policy(json!({}));
    let data = test_bytes(5000, 2);
    let good = md5_hex(&data);
    for md5 in [good.clone(), good.to_uppercase()] {
        let r = env.client.run(env.client.upload(
            &policy,
            &target("/md5", "ok.bin"),
            bytes(&data),
            Some(&md5),
        ));
        assert_eq!(r.unwrap().unwrap()["code"], 200);
    }
    let wrong = md5_hex(b"something else");
    let r = env.client.run(env.client.upload(
        &policy,
        &target("/md5", "bad.bin"),
        bytes(&data),
        Some(&wrong),
    ));
    assert_err(r.unwrap(), 400, "BadDigest", "");
    // Nothing was stored for the refused upload.
    let url = format!("{}/files/{NS}/md5/bad.bin", env.base_url());
    let status = env
        .client
        .run(async { env.client.http().get(&url).send().await.unwrap().status() })
        .unwrap();
    assert_eq!(status.as_u16(), 404);
    // A malformed md5 never reaches the server.
    let r = env.client.run(env.client.upload(
        &policy,
        &target("/md5", "x"),
        bytes(&data),
        Some("12345"),
    ));
    assert_err(
        r.unwrap(),
        0,
        "InvalidArgument",
        "`md5` must be 32 hexadecimal digits",
    );
}

#[test]
fn meta_and_var_are_sent() {
    let env = TestEnv::start();
    let policy = env.policy(json!({"dir": "/vars", "name": "${var-who}-${var-n}.txt"}));
    let t = Target::new(
        Some("/ignored"),
        Some("ignored.txt"),
        Some(r#"{"author":"tests","camelKey":"kept","count":3}"#),
        Some(r#"{"who":"alice","n":7}"#),
    )
    .unwrap();
    let r = env
        .client
        .run(env.client.upload(&policy, &t, bytes(b"vars"), None))
        .unwrap()
        .unwrap();
    // The policy's dir and name win, and its variables come from `var`.
    assert_eq!(r["dir"], "/vars", "{r}");
    assert_eq!(r["name"], "alice-7.txt", "{r}");
    // Metadata comes back with the user's own keys (not snake_cased).
    assert_eq!(
        r["meta"],
        json!({"author":"tests","camelKey":"kept","count":"3"}),
        "{r}"
    );
    assert_eq!(env.download("/vars", "alice-7.txt"), b"vars");
}

/// Sends `data` as parts of `PART` bytes (the last may be shorter); answers
/// the ids and the part tags in part order.
fn send_parts(
    env: &TestEnv,
    policy: &Policy,
    name: &str,
    data: &[u8],
) -> (String, String, Vec<PartTag>) {
    let c = &env.client;
    let mut chunks = data.chunks(PART);
    let first = chunks.next().unwrap();
    let r = c
        .run(c.multipart_init(
            policy,
            &target("/mp", name),
            bytes(first),
            Some(&md5_hex(first)),
        ))
        .unwrap()
        .unwrap();
    assert_eq!(r["part_number"], 1, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    let upload_id = r["upload_id"].as_str().unwrap().to_string();
    assert_eq!(upload_id.len(), 32, "{r}");
    let mut tags = vec![PartTag {
        part_number: 1,
        e_tag: r["e_tag"].as_str().unwrap().to_string(),
    }];
    // Send the remaining parts last-first: the server takes any order.
    let rest: Vec<_> = chunks.enumerate().collect();
    for (i, chunk) in rest.into_iter().rev() {
        let n = i as u32 + 2;
        let r = c
            .run(c.multipart_upload(
                policy,
                &id,
                &upload_id,
                n,
                bytes(chunk),
                Some(&md5_hex(chunk)),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(r["part_number"], n, "{r}");
        assert_eq!(r["e_tag"], md5_hex(chunk).to_uppercase());
        tags.push(PartTag {
            part_number: n,
            e_tag: r["e_tag"].as_str().unwrap().to_string(),
        });
    }
    tags.sort_by_key(|t| t.part_number);
    (id, upload_id, tags)
}

#[test]
fn multipart_round_trip_with_both_parts_forms() {
    use base64::Engine;
    let env = TestEnv::start();
    let policy = env.policy(json!({}));
    let c = &env.client;

    // The seed's form: urlsafe_b64encode(json.dumps([...])), Python separators and padding.
    let data = test_bytes(3 * PART + 12_345, 3);
    let (id, upload_id, tags) = send_parts(&env, &policy, "seed.bin", &data);
    assert_eq!(tags.len(), 4);
    let python_json = format!(
        "[{}]",
        tags.iter()
            .map(|t| format!(
                "{{\"e_tag\": \"{}\", \"part_number\": {}}}",
                t.e_tag, t.part_number
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let seed_parts = base64::engine::general_purpose::URL_SAFE.encode(&python_json);
    let parsed = parse_parts(&seed_parts).unwrap();
    assert_eq!(parsed, tags);
    let r = c
        .run(c.multipart_complete(&policy, &id, &upload_id, &parsed, Some(&md5_hex(&data))))
        .unwrap()
        .unwrap();
    assert_eq!(r["code"], 200);
    assert_eq!(r["name"], "seed.bin");
    assert_eq!(r["file_size"], data.len().to_string());
    assert_eq!(env.download("/mp", "seed.bin"), data);

    // A plain JSON array, camelCase keys and string numbers.
    let data = test_bytes(2 * PART + 1, 4);
    let (id, upload_id, tags) = send_parts(&env, &policy, "plain.bin", &data);
    let plain = serde_json::Value::Array(
        tags.iter()
            .map(|t| json!({"partNumber": t.part_number.to_string(), "eTag": t.e_tag}))
            .collect(),
    )
    .to_string();
    let parsed = parse_parts(&plain).unwrap();
    c.run(c.multipart_complete(&policy, &id, &upload_id, &parsed, None))
        .unwrap()
        .unwrap();
    assert_eq!(env.download("/mp", "plain.bin"), data);

    // A file of one part: init, then complete with just part 1.
    let data = test_bytes(1000, 5);
    let (id, upload_id, tags) = send_parts(&env, &policy, "one.bin", &data);
    c.run(c.multipart_complete(&policy, &id, &upload_id, &tags, None))
        .unwrap()
        .unwrap();
    assert_eq!(env.download("/mp", "one.bin"), data);
}

#[test]
fn multipart_cancel_and_refusals() {
    let env = TestEnv::start();
    let policy = env.policy(json!({}));
    let c = &env.client;
    let data = test_bytes(3 * PART, 6);

    // Cancel: the upload is gone afterwards.
    let (id, upload_id, tags) = send_parts(&env, &policy, "cancel.bin", &data[..2 * PART]);
    let r = c
        .run(c.multipart_cancel(&policy, &id, &upload_id))
        .unwrap()
        .unwrap();
    assert_eq!(r["code"], 200);
    let r = c.run(c.multipart_complete(&policy, &id, &upload_id, &tags, None));
    assert_err(r.unwrap(), 404, "NoSuchUpload", "");
    let r = c.run(c.multipart_upload(&policy, &id, &upload_id, 3, bytes(b"x"), None));
    assert_err(r.unwrap(), 404, "NoSuchUpload", "");

    // Non-contiguous parts: 1 and 3 without 2.
    let (id, upload_id, tags) = send_parts(&env, &policy, "gap.bin", &data);
    let gap = [tags[0].clone(), tags[2].clone()];
    let r = c.run(c.multipart_complete(&policy, &id, &upload_id, &gap, None));
    assert_err(r.unwrap(), 400, "InvalidArgument", "");
    // A wrong e_tag.
    let mut wrong = tags.clone();
    wrong[1].e_tag = md5_hex(b"nope").to_uppercase();
    let r = c.run(c.multipart_complete(&policy, &id, &upload_id, &wrong, None));
    assert_err(r.unwrap(), 400, "InvalidArgument", "");
    // A wrong whole-file md5.
    let r = c.run(c.multipart_complete(&policy, &id, &upload_id, &tags, Some(&md5_hex(b"x"))));
    assert_err(r.unwrap(), 400, "BadDigest", "");
    // After the refusals the upload still completes.
    c.run(c.multipart_complete(&policy, &id, &upload_id, &tags, None))
        .unwrap()
        .unwrap();
    assert_eq!(env.download("/mp", "gap.bin"), data);

    // A small part that is not the last.
    let (id, upload_id, mut tags) = send_parts(&env, &policy, "small.bin", &data[..PART]);
    for (n, len) in [(2u32, 10usize), (3, 10)] {
        let r = c
            .run(c.multipart_upload(&policy, &id, &upload_id, n, bytes(&data[..len]), None))
            .unwrap()
            .unwrap();
        tags.push(PartTag {
            part_number: n,
            e_tag: r["e_tag"].as_str().unwrap().into(),
        });
    }
    let r = c.run(c.multipart_complete(&policy, &id, &upload_id, &tags, None));
    assert_err(r.unwrap(), 400, "EntityTooSmall", "");

    // Unknown ids, and bad arguments caught before sending.
    let r = c.run(c.multipart_cancel(&policy, "no-such-id", "0123456789ABCDEF0123456789ABCDEF"));
    assert_err(r.unwrap(), 404, "NoSuchUpload", "");
    let r = c.run(c.multipart_upload(&policy, &id, &upload_id, 0, bytes(b"x"), None));
    assert_err(
        r.unwrap(),
        0,
        "InvalidArgument",
        "`part_number` must be from 1 to 10000, not 0",
    );
    let r = c.run(c.multipart_cancel(&policy, "", &upload_id));
    assert_err(r.unwrap(), 0, "InvalidArgument", "`id` is empty");
}

#[test]
fn wrong_secret_is_refused() {
    let env = TestEnv::start();
    let config = ClientConfig::new(AK, "wrong-secret", None, Some(&env.base_url()), None).unwrap();
    let bad = Client::new(config).unwrap();
    let policy = env.policy(json!({}));
    let r = bad.run(bad.upload(&policy, &target("/x", "y"), bytes(b"z"), None));
    let e = assert_err(r.unwrap(), 401, "InvalidToken", "");
    assert!(!e.message().contains("wrong-secret"), "{e}");
    assert!(!e.to_string().contains("wrong-secret"));
}

#[test]
fn expired_policy_is_refused() {
    let env = TestEnv::start();
    let policy = Policy::parse(&expired_policy_json()).unwrap();
    let r = env.client.run(
        env.client
            .upload(&policy, &target("/x", "y"), bytes(b"z"), None),
    );
    assert_err(r.unwrap(), 401, "TokenExpired", "");
}

#[test]
fn refused_connection_names_the_host() {
    let endpoint = refused_endpoint();
    let c = client_for(&endpoint, ClientOptions::default());
    let policy = Policy::parse(&policy_json(json!({}))).unwrap();
    let r = c.run(c.upload(&policy, &target("/x", "y"), bytes(b"z"), None));
    let host = endpoint.trim_start_matches("http://");
    let e = assert_err(r.unwrap(), 0, "ConnectError", host);
    assert!(e.message().contains("upload"), "names the operation: {e}");
    assert!(e.is_transient());
}

#[test]
fn unreadable_files_are_named() {
    let env = TestEnv::start();
    let policy = env.policy(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.bin");
    let r = env.client.run(env.client.upload(
        &policy,
        &target("/x", "y"),
        Content::File(missing.clone()),
        None,
    ));
    let e = assert_err(r.unwrap(), 0, "IoError", "cannot open file");
    assert!(e.message().contains(&missing.display().to_string()), "{e}");
    let r = env.client.run(env.client.upload(
        &policy,
        &target("/x", "y"),
        Content::File(dir.path().into()),
        None,
    ));
    assert_err(r.unwrap(), 0, "IoError", "is a directory");
}

#[test]
fn user_agent_default_and_override() {
    let version = env!("CARGO_PKG_VERSION");
    let policy = Policy::parse(&policy_json(json!({}))).unwrap();
    for (key_type, options, expected) in [
        (
            None,
            ClientOptions::default(),
            format!("ALIMEDIASDK_C_TAE/{version}"),
        ),
        (
            Some("CLOUD"),
            ClientOptions::default(),
            format!("ALIMEDIASDK_C_CLOUD/{version}"),
        ),
        (
            None,
            ClientOptions {
                user_agent: Some("my-app/2.0".into()),
                ..ClientOptions::default()
            },
            "my-app/2.0".to_string(),
        ),
    ] {
        let (endpoint, head) =
            capture_one_request(r#"{"code":"OK","message":"OK","requestId":"r"}"#);
        let mut config = ClientConfig::new(AK, SK, key_type, Some(&endpoint), None).unwrap();
        config.options = options;
        let c = Client::new(config).unwrap();
        assert_eq!(c.user_agent(), expected);
        let r = c.run(c.multipart_cancel(&policy, "id", "UP")).unwrap();
        assert_eq!(r.unwrap()["code"], 200);
        let head = head.join().unwrap().to_ascii_lowercase();
        assert!(
            head.contains(&format!(
                "\r\nuser-agent: {}\r\n",
                expected.to_ascii_lowercase()
            )),
            "{head}"
        );
        assert!(head.starts_with("post /api/proxy/blockcancel "), "{head}");
        assert!(head.contains("\r\nauthorization: upload_ak_"), "{head}");
    }
}

#[test]
fn token_matches_the_protocol_known_answer() {
    let config = ClientConfig::new(
        "12345678",
        "0123456789abcdef0123456789abcdef",
        None,
        None,
        None,
    )
    .unwrap();
    let c = Client::new(config).unwrap();
    let policy = Policy::parse(
        r#"{"namespace":"demo","expiration":-1,"insertOnly":0,"detectMime":1,"dir":"/test","name":"test.jpg"}"#,
    )
    .unwrap();
    assert_eq!(
        c.upload_token(&policy),
        "UPLOAD_AK_TOP MTIzNDU2Nzg6ZXlKdVlXMWxjM0JoWTJVaU9pSmtaVzF2SWl3aVpYaHdhWEpoZEdsdmJpSTZMVEVzSW1sdWMyVnlkRTl1YkhraU9qQXNJbVJsZEdWamRFMXBiV1VpT2pFc0ltUnBjaUk2SWk5MFpYTjBJaXdpYm1GdFpTSTZJblJsYzNRdWFuQm5JbjA6OTliNDcwYTJlNTUxNzljOTQwNWU0MDE3MTUyYTAzYjYzOTk4MmRjZg"
    );
}
