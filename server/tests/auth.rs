//! Upload tokens and manage signatures (docs/protocol.md, authentication).

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const KAT_COMPACT: &str = "UPLOAD_AK_TOP MTIzNDU2Nzg6ZXlKdVlXMWxjM0JoWTJVaU9pSmtaVzF2SWl3aVpYaHdhWEpoZEdsdmJpSTZMVEVzSW1sdWMyVnlkRTl1YkhraU9qQXNJbVJsZEdWamRFMXBiV1VpT2pFc0ltUnBjaUk2SWk5MFpYTjBJaXdpYm1GdFpTSTZJblJsYzNRdWFuQm5JbjA6OTliNDcwYTJlNTUxNzljOTQwNWU0MDE3MTUyYTAzYjYzOTk4MmRjZg";
const KAT_PYTHON: &str = "UPLOAD_AK_TOP MTIzNDU2Nzg6ZXlKdVlXMWxjM0JoWTJVaU9pQWlaR1Z0YnlJc0lDSmxlSEJwY21GMGFXOXVJam9nTFRFc0lDSnBibk5sY25SUGJteDVJam9nTUN3Z0ltUmxkR1ZqZEUxcGJXVWlPaUF4TENBaVpHbHlJam9nSWk5MFpYTjBJaXdnSW01aGJXVWlPaUFpZEdWemRDNXFjR2NpZlE9PToxOTQyZTIzNmU0MTk0NzgwOTU1YzQzN2QwNzM3ZWI5MjI1Y2YwOTM3";

#[tokio::test]
async fn known_answer_tokens_are_accepted() {
    let s = TestServer::start();
    for (i, t) in [KAT_COMPACT, KAT_PYTHON].iter().enumerate() {
        let body = data(1000 + i, i as u64);
        let (st, v) = s.upload(t, &[], &body).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["dir"], "/test");
        assert_eq!(v["name"], "test.jpg");
        assert_eq!(v["eTag"], md5_hex(&body).to_uppercase());
        assert_eq!(v["fileSize"], (1000 + i).to_string());
        let (st, got) = s.download(v["url"].as_str().unwrap(), None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(got, body);
    }
    // Our own signer reproduces the compact known answer exactly.
    let policy = r#"{"namespace":"demo","expiration":-1,"insertOnly":0,"detectMime":1,"dir":"/test","name":"test.jpg"}"#;
    assert_eq!(token_with(AK, SK, "TOP", policy), KAT_COMPACT);
}

#[tokio::test]
async fn known_answer_manage_token_matches_our_signer() {
    let t = manage_token(
        AK,
        SK,
        "/3.0/files/WyJkZW1vIiwiL3Rlc3QiLCJ0ZXN0LmpwZyJd/exist",
        "",
        "1437535493816",
    );
    assert_eq!(
        t,
        "ACL_TOP MTIzNDU2Nzg6YTAwY2YyNzY4NTA4MGFlZDU0MzAxMjQ1NTA0ZmM5YzY3Y2Y4NWQ5OA"
    );
    assert_eq!(
        file_rid("demo", "/test", "test.jpg"),
        "WyJkZW1vIiwiL3Rlc3QiLCJ0ZXN0LmpwZyJd"
    );
}

#[tokio::test]
async fn bad_upload_tokens_are_refused_with_the_right_code() {
    let s = TestServer::start();
    let policy = json!({"namespace": "ns", "expiration": -1, "name": "x"}).to_string();
    let expired =
        json!({"namespace": "ns", "expiration": now_ms() - 1000, "name": "x"}).to_string();
    let cases = [
        (
            token_with(AK, "wrong-secret", "TOP", &policy),
            "InvalidToken",
        ),
        (token_with("nobody", SK, "TOP", &policy), "InvalidToken"),
        (token_with(AK, SK, "TOP", &expired), "TokenExpired"),
        ("garbage".to_string(), "InvalidToken"),
        ("UPLOAD_AK_TOP !!!not-base64!!!".to_string(), "InvalidToken"),
        (
            format!("UPLOAD_AK_TOP {}", b64u(b"only:two")),
            "InvalidToken",
        ),
        (
            token_with(AK, SK, "TOP", &policy).replace("UPLOAD_AK_TOP", "UPLOAD_AK_XYZ"),
            "InvalidToken",
        ),
        (token_with(AK, SK, "TOP", "not json"), "InvalidPolicy"),
        (
            token_with(AK, SK, "TOP", r#"{"expiration":-1}"#),
            "InvalidPolicy",
        ),
        (
            token_with(AK, SK, "TOP", r#"{"namespace":"ns"}"#),
            "InvalidPolicy",
        ),
    ];
    for (t, want) in cases {
        let (st, v) = s.upload(&t, &[], b"abc").await;
        assert_eq!(code(&v), want, "token {t}: {v}");
        let status = if want == "InvalidPolicy" {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(st, status);
        assert!(v["requestId"].as_str().is_some_and(|r| !r.is_empty()));
        assert!(!v["message"].as_str().unwrap().is_empty());
    }
    // Missing token entirely.
    let form = reqwest::multipart::Form::new().part(
        "content",
        reqwest::multipart::Part::bytes(b"abc".to_vec()).file_name("x"),
    );
    let resp = s
        .client
        .post(s.url("/api/proxy/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(resp).await;
    assert_eq!((st, code(&v)), (StatusCode::UNAUTHORIZED, "InvalidToken"));
    assert_eq!(s.object_count(), 0);
}

#[tokio::test]
async fn token_variants_cloud_bucket_strings_and_query_parameter() {
    let s = TestServer::start();
    // CLOUD scheme, `bucket` instead of namespace, numeric strings, nulls,
    // unknown keys, standard Base64 alphabet with padding.
    let policy = r#"{"bucket":"cloudy","expiration":"-1","insertOnly":"0","detectMime":null,"foo":{"bar":1},"name":"c.txt"}"#;
    let t = token_with(AK, SK, "CLOUD", policy);
    let (st, v) = s.upload(&t, &[], b"cloud").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["url"].as_str().unwrap().contains("/files/cloudy/c.txt"));

    use base64::Engine;
    let std = base64::engine::general_purpose::STANDARD;
    let encoded = std.encode(policy.replace("c.txt", "d.txt"));
    let sign = hmac_hex(SK, encoded.as_bytes());
    let t = format!(
        "UPLOAD_AK_TOP {}",
        std.encode(format!("{AK}:{encoded}:{sign}"))
    );
    let (st, v) = s.upload(&t, &[], b"std").await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // Token in the query string, as the browser SDK sends it.
    let t = token("qns", json!({"name": "q.txt"}));
    let form = reqwest::multipart::Form::new().part(
        "content",
        reqwest::multipart::Part::bytes(b"query".to_vec()).file_name("q.txt"),
    );
    let resp = s
        .client
        .post(s.url("/api/proxy/upload"))
        .query(&[("Authorization", t.as_str())])
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(resp).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["name"], "q.txt");
}

#[tokio::test]
async fn manage_signatures_are_checked() {
    let s = TestServer::start();
    let target = format!("/3.0/files/{}/exist", file_rid("ns", "/", "a"));
    let (st, v) = s.manage(Method::GET, &target, "").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"exist": false}));
    let (st, v) = s.manage_as(AK2, SK2, Method::GET, &target, "").await;
    assert_eq!(st, StatusCode::OK, "{v}");

    let send = |auth: Option<String>, date: String| {
        let mut r = s.client.get(s.url(&target)).header("Date", date);
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        async move { json_of(r.send().await.unwrap()).await }
    };
    let now = now_ms().to_string();
    let cases = [
        (None, now.clone(), "InvalidToken"),
        (
            Some(manage_token(AK, "bad", &target, "", &now)),
            now.clone(),
            "InvalidToken",
        ),
        (
            Some(manage_token("nobody", SK, &target, "", &now)),
            now.clone(),
            "InvalidToken",
        ),
        (Some("ACL_TOP %%%".into()), now.clone(), "InvalidToken"),
        (
            Some(manage_token(AK, SK, "/other", "", &now)),
            now.clone(),
            "InvalidToken",
        ),
        // Signed for a different Date than sent.
        (
            Some(manage_token(AK, SK, &target, "", "1")),
            now.clone(),
            "InvalidToken",
        ),
    ];
    for (auth, date, want) in cases {
        let (st, v) = send(auth, date).await;
        assert_eq!((st, code(&v)), (StatusCode::UNAUTHORIZED, want), "{v}");
    }
    // A stale millisecond Date is refused even with a valid signature.
    let stale = (now_ms() - 16 * 60 * 1000).to_string();
    let (st, v) = send(Some(manage_token(AK, SK, &target, "", &stale)), stale).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::UNAUTHORIZED, "RequestTimeTooSkewed")
    );
    // Any other Date form is accepted as signed.
    let http_date = "Tue, 21 Jul 2015 03:24:53 GMT".to_string();
    let (st, v) = send(
        Some(manage_token(AK, SK, &target, "", &http_date)),
        http_date,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn manage_signature_covers_the_raw_query_as_sent() {
    let s = TestServer::start();
    let t = token("ns", json!({"dir": "/a b", "name": "f"}));
    assert_eq!(s.upload(&t, &[], b"x").await.0, StatusCode::OK);
    // Percent-encoded query, signed exactly as sent.
    let target = "/3.0/files?namespace=ns&dir=%2Fa%20b&currentPage=1&pageSize=10";
    let (st, v) = s.manage(Method::GET, target, "").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["totalCount"], 1);
    // The same request signed over the decoded form does not verify.
    let date = now_ms().to_string();
    let decoded = "/3.0/files?namespace=ns&dir=/a b&currentPage=1&pageSize=10";
    let resp = s
        .client
        .get(s.url(target))
        .header("Authorization", manage_token(AK, SK, decoded, "", &date))
        .header("Date", date)
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(resp).await;
    assert_eq!((st, code(&v)), (StatusCode::UNAUTHORIZED, "InvalidToken"));
}
