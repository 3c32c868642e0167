//! Manage host: files, folders, paging, processing (docs/protocol.md, manage host).

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn put(s: &TestServer, dir: &str, name: &str, body: &[u8]) {
    let t = token("ns", json!({}));
    let (st, v) = s
        .upload(&t, &[("dir", dir), ("name", name), ("meta-a", "1")], body)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn file_operations() {
    let s = TestServer::start();
    put(&s, "/d", "f.txt", b"hello").await;
    let rid = file_rid("ns", "/d", "f.txt");
    for suffix in ["exist", "exists"] {
        let (st, v) = s
            .manage(Method::GET, &format!("/3.0/files/{rid}/{suffix}"), "")
            .await;
        assert_eq!((st, v), (StatusCode::OK, json!({"exist": true})));
        let missing = file_rid("ns", "/d", "nope");
        let (st, v) = s
            .manage(Method::GET, &format!("/3.0/files/{missing}/{suffix}"), "")
            .await;
        assert_eq!((st, v), (StatusCode::OK, json!({"exist": false})));
    }
    let (st, v) = s
        .manage(Method::GET, &format!("/3.0/files/{rid}"), "")
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["namespace"], "ns");
    assert_eq!(v["dir"], "/d");
    assert_eq!(v["name"], "f.txt");
    assert_eq!(v["path"], "/d/f.txt");
    assert_eq!(v["size"], 5);
    assert_eq!(v["md5"], md5_hex(b"hello"));
    assert_eq!(v["eTag"], md5_hex(b"hello").to_uppercase());
    assert_eq!(v["mimeType"], "text/plain");
    assert_eq!(v["isImage"], false);
    assert_eq!(v["meta"], json!({"a": "1"}));
    assert_eq!(v["url"], s.url("/files/ns/d/f.txt"));
    assert!(v["createTime"].as_i64().unwrap() > 0 && v["modifyTime"].as_i64().unwrap() > 0);

    // Escaped forms of the same id address the same file.
    let escaped = b64u(br#"["ns","\/d","f\u002etxt"]"#);
    let (st, _) = s
        .manage(Method::GET, &format!("/3.0/files/{escaped}"), "")
        .await;
    assert_eq!(st, StatusCode::OK);

    // Rename within the namespace, to a new folder.
    let new = file_rid("ns", "/e/f", "g.txt");
    let (st, v) = s
        .manage(Method::POST, &format!("/3.0/files/{rid}/rename/{new}"), "")
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["dir"].as_str(), v["name"].as_str()),
        (Some("/e/f"), Some("g.txt"))
    );
    let (_, got) = s.download(v["url"].as_str().unwrap(), None).await;
    assert_eq!(got, b"hello");
    let (st, v) = s
        .manage(Method::GET, &format!("/3.0/files/{rid}"), "")
        .await;
    assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "FileNotExist"));
    let (st, v) = s
        .manage(Method::POST, &format!("/3.0/files/{rid}/rename/{new}"), "")
        .await;
    assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "FileNotExist"));
    put(&s, "/d", "other", b"o").await;
    let other = file_rid("ns", "/d", "other");
    let (st, v) = s
        .manage(
            Method::POST,
            &format!("/3.0/files/{other}/rename/{new}"),
            "",
        )
        .await;
    assert_eq!((st, code(&v)), (StatusCode::CONFLICT, "FileAlreadyExists"));
    let foreign = file_rid("ns2", "/d", "other");
    let (st, v) = s
        .manage(
            Method::POST,
            &format!("/3.0/files/{other}/rename/{foreign}"),
            "",
        )
        .await;
    assert_eq!((st, code(&v)), (StatusCode::FORBIDDEN, "AccessDenied"));

    // Delete.
    let (st, v) = s
        .manage(Method::DELETE, &format!("/3.0/files/{new}"), "")
        .await;
    assert_eq!((st, v), (StatusCode::OK, json!({})));
    let (st, v) = s
        .manage(Method::DELETE, &format!("/3.0/files/{new}"), "")
        .await;
    assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "FileNotExist"));
    let (st, _) = s.download(&s.url("/files/ns/e/f/g.txt"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(s.object_count(), 1);

    // Malformed ids and wrong methods.
    for bad in [
        "%%%",
        "bm90IGpzb24",
        &b64u(b"[1,2,3]"),
        &b64u(br#"["ns","/d"]"#),
        &b64u(br#"["ns","/../x","n"]"#),
    ] {
        let (st, v) = s
            .manage(Method::GET, &format!("/3.0/files/{bad}"), "")
            .await;
        assert_eq!(
            (st, code(&v)),
            (StatusCode::BAD_REQUEST, "InvalidArgument"),
            "{bad}: {v}"
        );
    }
    let (st, v) = s
        .manage(Method::PUT, &format!("/3.0/files/{other}"), "")
        .await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed")
    );
    let (st, v) = s.manage(Method::GET, "/3.0/nothing", "").await;
    assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "NoSuchEndpoint"));
}

#[tokio::test]
async fn listing_and_paging() {
    let s = TestServer::start();
    for i in (0..7).rev() {
        put(&s, "/list", &format!("f{i}"), &[i as u8]).await;
    }
    put(&s, "/list/sub", "deep", b"d").await;
    let list = |q: String| {
        let s = &s;
        async move { s.manage(Method::GET, &format!("/3.0/files?{q}"), "").await }
    };
    let (st, v) = list("namespace=ns&dir=%2Flist".into()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["currentPage"].as_u64(), v["pageSize"].as_u64()),
        (Some(1), Some(100))
    );
    assert_eq!(
        (v["totalCount"].as_u64(), v["totalPage"].as_u64()),
        (Some(7), Some(1))
    );
    let names: Vec<&str> = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["f0", "f1", "f2", "f3", "f4", "f5", "f6"]);

    let (_, v) = list("namespace=ns&dir=/list&currentPage=3&pageSize=3".into()).await;
    assert_eq!(v["totalPage"], 3);
    assert_eq!(v["result"].as_array().unwrap().len(), 1);
    assert_eq!(v["result"][0]["name"], "f6");
    let (_, v) = list("namespace=ns&dir=/list&currentPage=4&pageSize=3".into()).await;
    assert_eq!(v["result"], json!([]));
    let (_, v) = list("namespace=ns&dir=/list&pageSize=1".into()).await;
    assert_eq!(
        (v["totalPage"].as_u64(), v["result"][0]["name"].as_str()),
        (Some(7), Some("f0"))
    );
    let (st, _) = list("namespace=ns&dir=/list&pageSize=100".into()).await;
    assert_eq!(st, StatusCode::OK);
    for q in [
        "pageSize=0",
        "pageSize=101",
        "pageSize=x",
        "currentPage=0",
        "currentPage=-1",
    ] {
        let (st, v) = list(format!("namespace=ns&dir=/list&{q}")).await;
        assert_eq!(
            (st, code(&v)),
            (StatusCode::BAD_REQUEST, "InvalidArgument"),
            "{q}"
        );
    }
    let (st, v) = list("dir=/list".into()).await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "InvalidArgument"));
    let (st, v) = list("namespace=ns&dir=/nowhere".into()).await;
    assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "DirNotExist"));
    let (st, v) = list("namespace=empty".into()).await;
    assert_eq!(st, StatusCode::OK, "the root always exists");
    assert_eq!(
        (v["totalCount"].as_u64(), v["totalPage"].as_u64()),
        (Some(0), Some(0))
    );

    let (st, v) = s
        .manage(Method::GET, "/3.0/folders?namespace=ns&dir=/list", "")
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["totalCount"], 1);
    assert_eq!(v["result"][0]["name"], "sub");
    assert_eq!(v["result"][0]["path"], "/list/sub");
    assert_eq!(v["result"][0]["dir"], "/list");
    assert_eq!(v["result"][0]["namespace"], "ns");
}

#[tokio::test]
async fn folder_operations() {
    let s = TestServer::start();
    let rid = folder_rid("ns", "/a/b/c");
    let (st, v) = s
        .manage(Method::POST, &format!("/3.0/folders/{rid}"), "")
        .await;
    assert_eq!((st, v), (StatusCode::OK, json!({})));
    for (dir, exists) in [
        ("/a", true),
        ("/a/b", true),
        ("/a/b/c", true),
        ("/a/x", false),
        ("/", true),
    ] {
        for suffix in ["exist", "exists"] {
            let r = folder_rid("ns", dir);
            let (st, v) = s
                .manage(Method::GET, &format!("/3.0/folders/{r}/{suffix}"), "")
                .await;
            assert_eq!((st, v), (StatusCode::OK, json!({"exist": exists})), "{dir}");
        }
    }
    let (st, v) = s
        .manage(Method::POST, &format!("/3.0/folders/{rid}"), "")
        .await;
    assert_eq!((st, code(&v)), (StatusCode::CONFLICT, "NameDuplicated"));
    let parent = folder_rid("ns", "/a");
    let (st, v) = s
        .manage(Method::POST, &format!("/3.0/folders/{parent}"), "")
        .await;
    assert_eq!((st, code(&v)), (StatusCode::CONFLICT, "NameDuplicated"));
    let (st, v) = s
        .manage(Method::DELETE, &format!("/3.0/folders/{parent}"), "")
        .await;
    assert_eq!((st, code(&v)), (StatusCode::CONFLICT, "DirNotEmpty"));

    // A file makes its folders exist; the folder is then not empty.
    put(&s, "/a/b/c", "f", b"x").await;
    put(&s, "/implicit/deep", "g", b"y").await;
    let (_, v) = s.manage(Method::GET, "/3.0/folders?namespace=ns", "").await;
    let names: Vec<&str> = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "implicit"]);
    let (st, v) = s
        .manage(Method::DELETE, &format!("/3.0/folders/{rid}"), "")
        .await;
    assert_eq!((st, code(&v)), (StatusCode::CONFLICT, "DirNotEmpty"));
    let (st, _) = s
        .manage(
            Method::DELETE,
            &format!("/3.0/files/{}", file_rid("ns", "/a/b/c", "f")),
            "",
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    for dir in ["/a/b/c", "/a/b", "/a"] {
        let r = folder_rid("ns", dir);
        let (st, v) = s
            .manage(Method::DELETE, &format!("/3.0/folders/{r}"), "")
            .await;
        assert_eq!((st, v), (StatusCode::OK, json!({})), "{dir}");
    }
    let (st, v) = s
        .manage(Method::DELETE, &format!("/3.0/folders/{rid}"), "")
        .await;
    assert_eq!((st, code(&v)), (StatusCode::NOT_FOUND, "DirNotExist"));
    let (st, v) = s
        .manage(
            Method::DELETE,
            &format!("/3.0/folders/{}", folder_rid("ns", "/")),
            "",
        )
        .await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "InvalidArgument"));
    let (st, v) = s
        .manage(Method::GET, "/3.0/folders?namespace=ns&pageSize=101", "")
        .await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "InvalidArgument"));
}

#[tokio::test]
async fn processing_is_validated_recorded_and_refused() {
    let s = TestServer::start();
    put(&s, "/v", "in.mp4", b"video").await;
    let input = file_rid("ns", "/v", "in.mp4");
    let output = file_rid("ns", "/v", "out.mp4");
    let missing = file_rid("ns", "/v", "missing.mp4");
    let enc = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let cases: Vec<(Method, String, String)> = vec![
        (Method::POST, "/3.0/pts".into(), format!("resourceId={input}&fops=avthumb%2Fmp4&force=0&notifyURL={}", enc("http://x/cb"))),
        (Method::POST, "/3.0/pts/".into(), format!("resourceId={input}&fops=x&force=1")),
        (Method::GET, "/3.0/pts/abc123".into(), String::new()),
        (Method::POST, "/3.0/mediaEncode".into(), format!("input={input}&output={output}&encodeTemplate=t&usePreset=0&force=0&seek=1&duration=2")),
        (Method::GET, "/3.0/mediaEncodeResult/task-1".into(), String::new()),
        (Method::POST, "/3.0/snapshot".into(), format!("input={input}&output={output}&time=1500")),
        (Method::GET, "/3.0/snapshotResult/task-2".into(), String::new()),
        (Method::POST, "/3.1/scanPorn".into(), format!("resourceId={input}%3B{input}")),
        (Method::POST, "/3.1/scanAdvertising".into(), format!("url={}", enc("http://a/b.jpg;http://c/d.png"))),
        (Method::POST, "/3.1/feedback".into(), format!("feedback={}&feedback={}", enc(r#"{"a":1}"#), enc(r#"{"b":2}"#))),
    ];
    for (method, target, body) in &cases {
        let (st, v) = s.manage(method.clone(), target, body).await;
        assert_eq!(
            (st, code(&v)),
            (StatusCode::NOT_IMPLEMENTED, "UnsupportedOperation"),
            "{target}: {v}"
        );
    }
    let journal = s.handle().processing_requests();
    assert_eq!(journal.len(), cases.len());
    for (rec, (method, target, body)) in journal.iter().zip(&cases) {
        assert_eq!(rec.method, method.as_str());
        assert_eq!(&rec.path, target);
        assert_eq!(rec.access_key, AK);
        let fields: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(rec.fields, fields);
    }
    assert_eq!(
        journal[0].fields[1],
        ("fops".to_string(), "avthumb/mp4".to_string())
    );
    assert_eq!(journal[9].fields[0].1, r#"{"a":1}"#);

    // Invalid requests are refused with their own codes and not recorded.
    let bad: Vec<(Method, String, String, StatusCode, &str)> = vec![
        (
            Method::POST,
            "/3.0/pts".into(),
            "fops=x".into(),
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
        ),
        (
            Method::POST,
            "/3.0/pts".into(),
            format!("resourceId={missing}&fops=x"),
            StatusCode::NOT_FOUND,
            "FileNotExist",
        ),
        (
            Method::POST,
            "/3.0/mediaEncode".into(),
            format!("input={input}&output={output}&encodeTemplate=t&usePreset=0"),
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
        ),
        (
            Method::POST,
            "/3.0/snapshot".into(),
            format!("input={input}&output={output}&time=soon"),
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
        ),
        (
            Method::POST,
            "/3.0/snapshot".into(),
            format!("input={missing}&output={output}&time=1"),
            StatusCode::NOT_FOUND,
            "FileNotExist",
        ),
        (
            Method::POST,
            "/3.1/scanPorn".into(),
            String::new(),
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
        ),
        (
            Method::POST,
            "/3.1/feedback".into(),
            "feedback=nope".into(),
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
        ),
        (
            Method::GET,
            "/3.0/pts/".into(),
            String::new(),
            StatusCode::NOT_FOUND,
            "TaskNotExist",
        ),
        (
            Method::GET,
            "/3.0/mediaEncodeResult/bad%20id".into(),
            String::new(),
            StatusCode::NOT_FOUND,
            "TaskNotExist",
        ),
        (
            Method::GET,
            "/3.0/mediaEncode".into(),
            String::new(),
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
        ),
    ];
    for (method, target, body, status, want) in bad {
        let (st, v) = s.manage(method, &target, &body).await;
        assert_eq!((st, code(&v)), (status, want), "{target} {body}: {v}");
    }
    // A bad signature is refused before validation.
    let date = now_ms().to_string();
    let resp = s
        .client
        .post(s.url("/3.0/pts"))
        .header(
            "Authorization",
            manage_token(AK, "wrong", "/3.0/pts", "fops=x", &date),
        )
        .header("Date", date)
        .body("fops=x")
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(resp).await;
    assert_eq!((st, code(&v)), (StatusCode::UNAUTHORIZED, "InvalidToken"));
    assert_eq!(s.handle().processing_requests().len(), cases.len());
}
