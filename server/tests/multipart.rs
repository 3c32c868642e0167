//! Multipart uploads (docs/protocol.md, multipart upload).

mod common;

use std::sync::Arc;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn init(
    s: &TestServer,
    t: &str,
    fields: &[(&str, &str)],
    part1: &[u8],
) -> (StatusCode, Value) {
    s.post_form("/api/proxy/blockInit", t, fields, Some(part1))
        .await
}

async fn cancel(s: &TestServer, t: &str, u: &Upload, path: &str) -> (StatusCode, Value) {
    let fields = [("id", u.id.as_str()), ("uploadId", u.upload_id.as_str())];
    s.post_form(path, t, &fields, None).await
}

fn split(body: &[u8], size: usize) -> Vec<Vec<u8>> {
    body.chunks(size).map(<[u8]>::to_vec).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parts_in_any_order_concurrently_assemble_byte_exact() {
    let s = Arc::new(TestServer::start());
    let t = Arc::new(token("ns", json!({"dir": "/big"})));
    let body = data(PART * 7 + 1234, 9);
    let chunks = split(&body, PART);
    let (st, v) = init(&s, &t, &[("name", "big.bin"), ("meta-k", "v")], &chunks[0]).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["partNumber"], 1);
    assert_eq!(v["eTag"], md5_hex(&chunks[0]).to_uppercase());
    assert_eq!(
        (v["dir"].as_str(), v["name"].as_str()),
        (Some("/big"), Some("big.bin"))
    );
    let upload_id = v["uploadId"].as_str().unwrap();
    assert!(
        upload_id.len() == 32
            && upload_id
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
    );
    let u = Arc::new(Upload {
        id: v["id"].as_str().unwrap().into(),
        upload_id: upload_id.into(),
    });
    assert!(uuid::Uuid::parse_str(&u.id).is_ok());

    // Parts 2..=8 in reverse order, all at once.
    let tasks: Vec<_> = (2..=chunks.len())
        .rev()
        .map(|n| {
            let (s, t, u, c) = (s.clone(), t.clone(), u.clone(), chunks[n - 1].clone());
            tokio::spawn(async move { (n, c.clone(), part(&s, &t, &u, n as u32, &c).await) })
        })
        .collect();
    for task in tasks {
        let (n, c, (st, v)) = task.await.unwrap();
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["partNumber"], n);
        assert_eq!(v["eTag"], md5_hex(&c).to_uppercase());
        assert_eq!(v["id"], u.id.as_str());
    }
    let (st, v) = complete(&s, &t, &u, &parts_list(&chunks), Some(&md5_hex(&body))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["fileSize"], body.len().to_string());
    assert_eq!(v["eTag"], md5_hex(&body).to_uppercase());
    assert_eq!(v["id"], u.id.as_str());
    assert_eq!(v["uploadId"], u.upload_id.as_str());
    assert_eq!(v["meta"], json!({"k": "v"}));
    let (st, got) = s.download(v["url"].as_str().unwrap(), None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(got == body, "assembled bytes differ");
    let (st, got) = s
        .download(v["url"].as_str().unwrap(), Some("bytes=102300-102500"))
        .await;
    assert_eq!(st, StatusCode::PARTIAL_CONTENT);
    assert_eq!(got, body[102_300..=102_500]);
    // Only the assembled file remains; the upload is gone.
    assert_eq!(s.object_count(), 1);
    let (st, v) = complete(&s, &t, &u, &parts_list(&chunks), None).await;
    assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "NoSuchUpload"));
}

#[tokio::test]
async fn every_parts_encoding_and_both_path_forms() {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    use base64::Engine;
    let s = TestServer::start();
    let t = token("ns", json!({}));
    let chunks = [data(PART, 1), data(10, 2)];
    let e1 = md5_hex(&chunks[0]).to_uppercase();
    let e2 = md5_hex(&chunks[1]);
    let camel = json!([{"partNumber": 2, "eTag": e2}, {"partNumber": "1", "eTag": e1}]).to_string();
    let snake = serde_json::to_string_pretty(
        &json!([{"e_tag": e1, "part_number": 1}, {"e_tag": e2, "part_number": 2}]),
    )
    .unwrap();
    let variants = [
        b64u(camel.as_bytes()),
        STANDARD.encode(&snake),
        URL_SAFE.encode(&camel),
        camel.clone(),
    ];
    for (i, parts) in variants.iter().enumerate() {
        let json_suffix = if i % 2 == 1 { ".json" } else { "" };
        let name = format!("v{i}");
        let (st, v) = s
            .post_form(
                &format!("/api/proxy/blockInit{json_suffix}"),
                &t,
                &[("name", &name)],
                Some(&chunks[0]),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let u = Upload {
            id: v["id"].as_str().unwrap().into(),
            upload_id: v["uploadId"].as_str().unwrap().into(),
        };
        let fields = [
            ("id", u.id.as_str()),
            ("uploadId", u.upload_id.as_str()),
            ("partNumber", "2"),
        ];
        let (st, v) = s
            .post_form(
                &format!("/api/proxy/blockUpload{json_suffix}"),
                &t,
                &fields,
                Some(&chunks[1]),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let fields = [
            ("id", u.id.as_str()),
            ("uploadId", u.upload_id.as_str()),
            ("parts", parts.as_str()),
        ];
        let (st, v) = s
            .post_form(
                &format!("/api/proxy/blockComplete{json_suffix}"),
                &t,
                &fields,
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "variant {i}: {v}");
        assert_eq!(v["fileSize"], (PART + 10).to_string());
    }
    // blockCancel, both forms.
    for path in ["/api/proxy/blockCancel", "/api/proxy/blockCancel.json"] {
        let u = start(&s, &t, "c", &chunks[0]).await;
        let (st, v) = cancel(&s, &t, &u, path).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["id"], u.id.as_str());
        let (st, v) = part(&s, &t, &u, 2, &chunks[1]).await;
        assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "NoSuchUpload"));
    }
    assert_eq!(s.object_count(), 4, "cancelled parts are removed");
}

#[tokio::test]
async fn reupload_replaces_a_part() {
    let s = TestServer::start();
    let t = token("ns", json!({}));
    let u = start(&s, &t, "r", &data(PART, 1)).await;
    assert_eq!(part(&s, &t, &u, 2, &data(PART, 2)).await.0, StatusCode::OK);
    let final2 = data(500, 3);
    assert_eq!(part(&s, &t, &u, 2, &final2).await.0, StatusCode::OK);
    let new1 = data(PART, 4);
    assert_eq!(part(&s, &t, &u, 1, &new1).await.0, StatusCode::OK);
    let chunks = vec![new1, final2];
    let (st, v) = complete(&s, &t, &u, &parts_list(&chunks), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, got) = s.download(v["url"].as_str().unwrap(), None).await;
    assert_eq!(got, chunks.concat());
    assert_eq!(v["eTag"], md5_hex(&chunks.concat()).to_uppercase());
    assert_eq!(s.object_count(), 1);
}

#[tokio::test]
async fn complete_checks_parts() {
    let s = TestServer::start();
    let t = token("ns", json!({}));
    let small = vec![data(PART - 1, 1), data(10, 2)];
    let u = start(&s, &t, "small", &small[0]).await;
    part(&s, &t, &u, 2, &small[1]).await;
    let (st, v) = complete(&s, &t, &u, &parts_list(&small), None).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::BAD_REQUEST, "EntityTooSmall"),
        "{v}"
    );

    let chunks = vec![data(PART, 1), data(PART, 2), data(10, 3)];
    let u = start(&s, &t, "gap", &chunks[0]).await;
    part(&s, &t, &u, 3, &chunks[2]).await;
    let (st, v) = complete(&s, &t, &u, &parts_list(&chunks), None).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidArgument"),
        "missing part 2: {v}"
    );
    let gap = b64u(json!([{"partNumber": 1, "eTag": md5_hex(&chunks[0])}, {"partNumber": 3, "eTag": md5_hex(&chunks[2])}]).to_string().as_bytes());
    let (st, v) = complete(&s, &t, &u, &gap, None).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidArgument"),
        "gap: {v}"
    );
    part(&s, &t, &u, 2, &chunks[1]).await;
    let mut wrong = chunks.clone();
    wrong[1] = data(PART, 99);
    let (st, v) = complete(&s, &t, &u, &parts_list(&wrong), None).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidArgument"),
        "eTag: {v}"
    );
    for bad in ["", "!!!", "e30", "W10"] {
        let (st, v) = complete(&s, &t, &u, bad, None).await;
        assert_eq!(
            (st, code(&v)),
            (StatusCode::BAD_REQUEST, "InvalidArgument"),
            "parts {bad:?}: {v}"
        );
    }
    // Wrong whole-file md5: nothing stored, the upload survives.
    let (st, v) = complete(&s, &t, &u, &parts_list(&chunks), Some(&md5_hex(b"x"))).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::BAD_REQUEST, "BadDigest"),
        "{v}"
    );
    let (st, v) = complete(
        &s,
        &t,
        &u,
        &parts_list(&chunks),
        Some(&md5_hex(&chunks.concat())),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn part_numbers_sizes_and_ownership() {
    let s = TestServer::start();
    let t = token("ns", json!({}));
    let u = start(&s, &t, "p", &data(PART, 1)).await;
    for n in ["0", "10001", "x", "-1"] {
        let fields = [
            ("id", u.id.as_str()),
            ("uploadId", u.upload_id.as_str()),
            ("partNumber", n),
        ];
        let (st, v) = s
            .post_form("/api/proxy/blockUpload", &t, &fields, Some(b"x"))
            .await;
        assert_eq!(
            (st, code(&v)),
            (StatusCode::BAD_REQUEST, "InvalidArgument"),
            "{n}: {v}"
        );
    }
    assert_eq!(part(&s, &t, &u, 10000, b"last").await.0, StatusCode::OK);
    let (st, v) = part(&s, &t, &u, 2, &vec![0u8; (64 << 20) + 1]).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "SizeLimitExceeded")
    );
    let (st, v) = part(&s, &t, &u, 2, b"x").await;
    assert_eq!(st, StatusCode::OK, "the connection and upload survive: {v}");
    let (st, v) = part(&s, &t, &u, 3, &data(100, 3)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let fields = [
        ("id", u.id.as_str()),
        ("uploadId", u.upload_id.as_str()),
        ("partNumber", "4"),
        ("md5", "00"),
    ];
    let (st, v) = s
        .post_form("/api/proxy/blockUpload", &t, &fields, Some(b"x"))
        .await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "BadDigest"));

    // Unknown ids, mismatched uploadId.
    let bogus = Upload {
        id: uuid::Uuid::new_v4().to_string(),
        upload_id: u.upload_id.clone(),
    };
    let (st, v) = part(&s, &t, &bogus, 2, b"x").await;
    assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "NoSuchUpload"));
    let bogus = Upload {
        id: u.id.clone(),
        upload_id: "0".repeat(32),
    };
    let (st, v) = part(&s, &t, &bogus, 2, b"x").await;
    assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "NoSuchUpload"));
    // Another key or namespace may not touch the upload.
    let other_ns = token("elsewhere", json!({}));
    let (st, v) = part(&s, &other_ns, &u, 2, b"x").await;
    assert_eq!((st, code(&v)), (StatusCode::FORBIDDEN, "AccessDenied"));
    let other_key = token_with(
        AK2,
        SK2,
        "TOP",
        &json!({"namespace": "ns", "expiration": -1}).to_string(),
    );
    let (st, v) = cancel(&s, &other_key, &u, "/api/proxy/blockCancel").await;
    assert_eq!((st, code(&v)), (StatusCode::FORBIDDEN, "AccessDenied"));
    // Missing id fields.
    let (st, v) = s.post_form("/api/proxy/blockCancel", &t, &[], None).await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "InvalidArgument"));
}

#[tokio::test]
async fn policy_rules_apply_at_complete() {
    let s = TestServer::start();
    let chunks = vec![data(PART, 1), data(PART, 2)];
    let t = token("ns", json!({"sizeLimit": PART * 2 - 1}));
    let u = start(&s, &t, "limited", &chunks[0]).await;
    part(&s, &t, &u, 2, &chunks[1]).await;
    let (st, v) = complete(&s, &t, &u, &parts_list(&chunks), None).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "SizeLimitExceeded")
    );

    let t = token("ns", json!({"mimeLimit": "image/*"}));
    let u = start(&s, &t, "notimage.txt", &chunks[0]).await;
    part(&s, &t, &u, 2, &chunks[1]).await;
    let (st, v) = complete(&s, &t, &u, &parts_list(&chunks), None).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "MimeLimitExceeded")
    );

    // insertOnly: refused at init when the name is taken, and at complete
    // when someone else took it meanwhile.
    let only = token(
        "ns",
        json!({"insertOnly": 1, "name": "${fileSize}-${var-x}.bin"}),
    );
    let (st, v) = init(&s, &only, &[("var-x", "y")], &chunks[0]).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["name"], "${fileSize}-y.bin");
    let u = Upload {
        id: v["id"].as_str().unwrap().into(),
        upload_id: v["uploadId"].as_str().unwrap().into(),
    };
    part(&s, &only, &u, 2, &chunks[1]).await;
    let plain = token("ns", json!({"name": format!("{}-y.bin", PART * 2)}));
    assert_eq!(s.upload(&plain, &[], b"first").await.0, StatusCode::OK);
    let (st, v) = complete(&s, &only, &u, &parts_list(&chunks), None).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::CONFLICT, "FileAlreadyExists"),
        "{v}"
    );
    let (st, v) = init(
        &s,
        &token("ns", json!({"insertOnly": 1, "name": "204800-y.bin"})),
        &[],
        &chunks[0],
    )
    .await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::CONFLICT, "FileAlreadyExists"),
        "{v}"
    );
    // The conflicting upload can still be cancelled.
    assert_eq!(
        cancel(&s, &only, &u, "/api/proxy/blockCancel").await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn restart_in_the_middle_then_finish() {
    let mut s = TestServer::start();
    let t = token("ns", json!({"name": "survivor"}));
    let chunks = split(&data(PART * 3 + 77, 5), PART);
    let u = start(&s, &t, "survivor", &chunks[0]).await;
    assert_eq!(part(&s, &t, &u, 3, &chunks[2]).await.0, StatusCode::OK);
    s.restart();
    assert_eq!(part(&s, &t, &u, 2, &chunks[1]).await.0, StatusCode::OK);
    assert_eq!(part(&s, &t, &u, 4, &chunks[3]).await.0, StatusCode::OK);
    s.restart();
    let body = chunks.concat();
    let (st, v) = complete(&s, &t, &u, &parts_list(&chunks), Some(&md5_hex(&body))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["eTag"], md5_hex(&body).to_uppercase());
    let (_, got) = s.download(v["url"].as_str().unwrap(), None).await;
    assert!(got == body);
    s.restart();
    let (_, got) = s.download(&s.url("/files/ns/survivor"), None).await;
    assert!(got == body, "durable across restarts");
}

#[tokio::test]
async fn abandoned_uploads_expire() {
    let mut s = TestServer::start();
    let t = token("ns", json!({}));
    let old = start(&s, &t, "old", &data(PART, 1)).await;
    let fresh = start(&s, &t, "fresh", &data(PART, 2)).await;
    s.handle.take().unwrap().stop();
    // Age one upload past 24 hours, directly in the database.
    let db = rusqlite::Connection::open(s.dir.path().join("data/meta.db")).unwrap();
    let day_ago = now_ms() - 24 * 3600 * 1000 - 1000;
    db.execute(
        "UPDATE uploads SET created=?1 WHERE id=?2",
        rusqlite::params![day_ago, old.id],
    )
    .unwrap();
    drop(db);
    s.handle = Some(
        wantu_server::spawn(wantu_server::Config::new(s.dir.path().join("data"), keys())).unwrap(),
    );
    s.base = s.handle().base_url();
    s.client = reqwest::Client::new();
    assert_eq!(s.object_count(), 1, "expired parts are removed at start");
    let (st, v) = part(&s, &t, &old, 2, b"x").await;
    assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "NoSuchUpload"));
    assert_eq!(part(&s, &t, &fresh, 2, b"x").await.0, StatusCode::OK);
}
