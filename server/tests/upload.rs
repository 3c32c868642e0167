//! Simple upload, policy enforcement and file delivery (docs/protocol.md, simple upload).

mod common;

use std::sync::Arc;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
];

#[tokio::test]
async fn upload_result_and_delivery_with_ranges() {
    let s = TestServer::start();
    let body = data(300_000, 1);
    let t = token("ns", json!({}));
    for path in ["/api/proxy/upload", "/api/proxy/upload.json"] {
        let fields = [("dir", "/d"), ("name", "f.bin"), ("size", "300000")];
        let (st, v) = s.post_form(path, &t, &fields, Some(&body)).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
        assert_eq!(v["code"], "OK");
        assert_eq!(v["message"], "OK");
        assert!(v["requestId"].as_str().is_some_and(|r| !r.is_empty()));
        assert_eq!(v["dir"], "/d");
        assert_eq!(v["name"], "f.bin");
        assert_eq!(v["fileSize"], "300000");
        assert!(v["fileModified"].as_i64().unwrap() > 1_400_000_000_000);
        assert_eq!(v["eTag"], md5_hex(&body).to_uppercase());
        assert_eq!(v["mimeType"], "application/octet-stream");
        assert_eq!(v["isImage"], false);
        assert_eq!(v["url"], s.url("/files/ns/d/f.bin"));
    }
    let url = s.url("/files/ns/d/f.bin");
    let resp = s.client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-length"], "300000");
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    let etag = format!("\"{}\"", md5_hex(&body).to_uppercase());
    assert_eq!(resp.headers()["etag"], etag.as_str());
    assert_eq!(resp.bytes().await.unwrap(), body);

    for (range, lo, hi) in [
        ("bytes=0-0", 0, 0),
        ("bytes=1000-2999", 1000, 2999),
        ("bytes=299990-", 299_990, 299_999),
        ("bytes=-10", 299_990, 299_999),
        ("bytes=5-999999999", 5, 299_999),
    ] {
        let resp = s
            .client
            .get(&url)
            .header("Range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            resp.headers()["content-range"],
            format!("bytes {lo}-{hi}/300000").as_str()
        );
        assert_eq!(resp.bytes().await.unwrap(), body[lo..=hi], "{range}");
    }
    let resp = s
        .client
        .get(&url)
        .header("Range", "bytes=300000-")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(resp.headers()["content-range"], "bytes */300000");

    let resp = s.client.head(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-length"], "300000");
    let resp = s
        .client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);

    let (st, v) = json_of(
        s.client
            .get(s.url("/files/ns/d/nope"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "FileNotExist"));
    let (st, v) = json_of(s.client.delete(&url).send().await.unwrap()).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed")
    );
}

#[tokio::test]
async fn awkward_names_round_trip_through_urls() {
    let s = TestServer::start();
    let t = token("ns", json!({}));
    for (i, name) in [
        "a b.txt",
        "plus+sign.txt",
        "100%.txt",
        "a&b=c.txt",
        "what?.txt",
        "hash#tag.txt",
        "ünïcödé.txt",
        "emoji 😀.txt",
        "back\\slash.txt",
    ]
    .iter()
    .enumerate()
    {
        let body = data(100 + i, i as u64);
        let (st, v) = s
            .upload(&t, &[("dir", "/odd dir/ü"), ("name", name)], &body)
            .await;
        assert_eq!(st, StatusCode::OK, "{name}: {v}");
        assert_eq!(v["name"], *name);
        let (st, got) = s.download(v["url"].as_str().unwrap(), None).await;
        assert_eq!(st, StatusCode::OK, "{name}");
        assert_eq!(got, body, "{name}");
    }
}

#[tokio::test]
async fn policy_dir_and_name_win_and_variables_render() {
    let s = TestServer::start();
    let t = token(
        "ns",
        json!({"dir": "/p/${year}", "name": "${var-who}-${fileSize}.${ext}"}),
    );
    let (st, v) = s
        .upload(
            &t,
            &[("dir", "/form"), ("name", "form.txt"), ("var-who", "me")],
            b"hello",
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let year = chrono::Local::now().format("%Y").to_string();
    assert_eq!(v["dir"], format!("/p/{year}"));
    assert_eq!(v["name"], "me-5.txt");
    assert_eq!(v["mimeType"], "text/plain");

    let t = token("ns", json!({"name": "${uuid}${unknown}"}));
    let (st, v) = s.upload(&t, &[], b"x").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let name = v["name"].as_str().unwrap();
    assert!(
        name.ends_with("${unknown}") && name.len() == 36 + 10,
        "{name}"
    );

    // Form fields are used when the policy has none.
    let t = token("ns", json!({}));
    let (st, v) = s.upload(&t, &[("dir", "f/g/"), ("name", "n")], b"x").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["dir"].as_str(), v["name"].as_str()),
        (Some("/f/g"), Some("n"))
    );
}

#[tokio::test]
async fn mime_detection_and_limits() {
    let s = TestServer::start();
    let t = token("ns", json!({}));
    let (_, v) = s.upload(&t, &[("name", "pic.bin")], PNG).await;
    assert_eq!(
        (v["mimeType"].as_str(), v["isImage"].as_bool()),
        (Some("image/png"), Some(true))
    );
    let t0 = token("ns", json!({"detectMime": 0}));
    let (_, v) = s.upload(&t0, &[("name", "pic.bin")], PNG).await;
    assert_eq!(v["mimeType"], "application/octet-stream");
    let (_, v) = s.upload(&t0, &[("name", "pic.jpg")], PNG).await;
    assert_eq!(v["mimeType"], "image/jpeg");

    let before = s.object_count();
    let limited = token("ns", json!({"mimeLimit": "image/*;video/mp4"}));
    let (st, v) = s.upload(&limited, &[("name", "ok.png")], PNG).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = s.upload(&limited, &[("name", "no.txt")], b"text").await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "MimeLimitExceeded")
    );
    assert_eq!(s.object_count(), before + 1);
}

#[tokio::test]
async fn size_limit_md5_and_size_field() {
    let s = TestServer::start();
    let t = token("ns", json!({"sizeLimit": 1000, "name": "f"}));
    assert_eq!(s.upload(&t, &[], &data(1000, 1)).await.0, StatusCode::OK);
    let (st, v) = s.upload(&t, &[], &data(1001, 1)).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "SizeLimitExceeded")
    );
    // Over the limit while streaming a large body: refused early, nothing kept.
    let (st, v) = s.upload(&t, &[], &data(5 << 20, 1)).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "SizeLimitExceeded")
    );

    let t = token("ns", json!({"name": "g"}));
    let body = data(5000, 2);
    let (st, v) = s.upload(&t, &[("md5", &md5_hex(b"other"))], &body).await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "BadDigest"));
    let (st, v) = s.upload(&t, &[("size", "4999")], &body).await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "InvalidArgument"));
    assert_eq!(s.object_count(), 1);
    assert!(std::fs::read_dir(s.dir.path().join("data/tmp"))
        .unwrap()
        .next()
        .is_none());
    let (st, v) = s
        .upload(&t, &[("md5", &md5_hex(&body).to_uppercase())], &body)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn insert_only_and_overwrite() {
    let s = TestServer::start();
    let over = token("ns", json!({"name": "same"}));
    assert_eq!(s.upload(&over, &[], b"one").await.0, StatusCode::OK);
    let (st, v) = s.upload(&over, &[], b"two").await;
    assert_eq!(st, StatusCode::OK);
    let (_, got) = s.download(v["url"].as_str().unwrap(), None).await;
    assert_eq!(got, b"two");
    assert_eq!(s.object_count(), 1, "the replaced object is removed");

    let only = token("ns", json!({"name": "same", "insertOnly": 1}));
    let (st, v) = s.upload(&only, &[], b"three").await;
    assert_eq!((st, code(&v)), (StatusCode::CONFLICT, "FileAlreadyExists"));
    assert_eq!(s.object_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_insert_only_uploads_have_one_winner() {
    let s = Arc::new(TestServer::start());
    let t = Arc::new(token("ns", json!({"name": "race", "insertOnly": "1"})));
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let (s, t) = (s.clone(), t.clone());
            tokio::spawn(async move { s.upload(&t, &[], &data(50_000, i)).await })
        })
        .collect();
    let mut ok = 0;
    let mut conflict = 0;
    for task in tasks {
        let (st, v) = task.await.unwrap();
        match st {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => {
                assert_eq!(code(&v), "FileAlreadyExists");
                conflict += 1
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!((ok, conflict), (1, 11));
    assert_eq!(s.object_count(), 1);
}

#[tokio::test]
async fn meta_is_stored_and_returned() {
    let s = TestServer::start();
    let t = token("ns", json!({"name": "m"}));
    let (st, v) = s
        .upload(&t, &[("meta-color", "blue"), ("meta-size", "L")], b"x")
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["meta"], json!({"color": "blue", "size": "L"}));
    let (_, v) = s
        .manage(
            reqwest::Method::GET,
            &format!("/3.0/files/{}", file_rid("ns", "/", "m")),
            "",
        )
        .await;
    assert_eq!(v["meta"], json!({"color": "blue", "size": "L"}));
}

#[tokio::test]
async fn return_body_and_return_url() {
    let s = TestServer::start();
    let t = token(
        "ns",
        json!({"name": "r.txt", "returnBody": "{\"n\":\"${name}\",\"s\":${fileSize},\"m\":\"${mimeType}\",\"t\":\"${mediaType}\",\"e\":\"${etag}\",\"v\":\"${var-k}\"}"}),
    );
    let (st, v) = s.upload(&t, &[("var-k", "vv")], b"abc").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v,
        json!({"n": "r.txt", "s": 3, "m": "text/plain", "t": "text", "e": md5_hex(b"abc").to_uppercase(), "v": "vv"})
    );

    let t = token(
        "ns",
        json!({"name": "r2", "returnUrl": "http://example.invalid/done?x=1"}),
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "content",
        reqwest::multipart::Part::bytes(b"q".to_vec()).file_name("r2"),
    );
    let resp = client
        .post(s.url("/api/proxy/upload"))
        .header("Authorization", &t)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let loc = resp.headers()["location"].to_str().unwrap().to_string();
    let ret = loc
        .strip_prefix("http://example.invalid/done?x=1&upload_ret=")
        .unwrap();
    use base64::Engine;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(ret)
        .unwrap();
    let v: Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(v["name"], "r2");
}

#[tokio::test]
async fn callback_is_posted_and_relayed() {
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cb_addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route(
            "/cb",
            post(|headers: axum::http::HeaderMap, body: String| async move {
                let ct = headers["content-type"].to_str().unwrap().to_string();
                axum::Json(json!({"got": body, "type": ct}))
            }),
        )
        .route(
            "/fail",
            post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "no") }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let s = TestServer::start();
    let t = token(
        "ns",
        json!({"name": "cb.txt", "callbackUrl": format!("http://{cb_addr}/cb"),
               "callbackBody": "name=${name}&size=${fileSize}&who=${var-w}"}),
    );
    let (st, v) = s.upload(&t, &[("var-w", "me")], b"12345").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"got": "name=cb.txt&size=5&who=me", "type": "application/x-www-form-urlencoded"})
    );

    let t = token(
        "ns",
        json!({"name": "cb2", "callbackUrl": format!("http://{cb_addr}/fail")}),
    );
    let (st, v) = s.upload(&t, &[], b"x").await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_GATEWAY, "CallbackFailed"));

    let before = s.object_count();
    let t = token(
        "ns",
        json!({"name": "cb3", "callbackUrl": "http://192.0.2.1/cb"}),
    );
    let (st, v) = s.upload(&t, &[], b"x").await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "InvalidArgument"));
    assert_eq!(s.object_count(), before, "refused before storing");
}

#[tokio::test]
async fn malformed_requests() {
    let s = TestServer::start();
    let t = token("ns", json!({}));
    // No file name anywhere (content filename counts as a fallback).
    let form = reqwest::multipart::Form::new()
        .part("content", reqwest::multipart::Part::bytes(b"x".to_vec()));
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
        (StatusCode::BAD_REQUEST, "InvalidArgument"),
        "{v}"
    );
    // No content.
    let (st, v) = s
        .post_form("/api/proxy/upload", &t, &[("name", "x")], None)
        .await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "InvalidArgument"));
    // Not multipart.
    let resp = s
        .client
        .post(s.url("/api/proxy/upload"))
        .header("Authorization", &t)
        .header("Content-Type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(resp).await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "InvalidArgument"));
    // Wrong method, unknown endpoints.
    let (st, v) = json_of(
        s.client
            .get(s.url("/api/proxy/upload"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed")
    );
    for p in ["/api/proxy/nothing", "/nothing", "/"] {
        let (st, v) = json_of(s.client.post(s.url(p)).send().await.unwrap()).await;
        assert_eq!(
            (st, code(&v)),
            (StatusCode::NOT_FOUND, "NoSuchEndpoint"),
            "{p}"
        );
    }
}
