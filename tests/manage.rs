//! The management API against wantu-server: every operation of
//! docs/protocol.md §6, its errors, paging edges, awkward names, and the exact wire form of
//! the processing and scanning requests.

mod common;

use common::{TestEnv, NS};
use serde_json::{json, Value};
use wantu::auth::{dir_resource_id, file_resource_id, KeyType};
use wantu::manage::{EncodeOptions, FileRef, Listing, ManageRequest, ScanTargets};
use wantu::upload::{Content, Target};
use wantu::{ClientConfig, Error};

/// Uploads `body` as `dir`/`name` and checks that it worked.
fn put(env: &TestEnv, dir: &str, name: &str, body: &[u8]) -> Value {
    let policy = env.policy(json!({}));
    let target = Target::new(Some(dir), Some(name), Some(r#"{"fooBar":"1"}"#), None).unwrap();
    let content = Content::Bytes(body.to_vec().into());
    let c = &env.client;
    let v = c.run(c.upload(&policy, &target, content, None)).unwrap();
    v.unwrap_or_else(|e| panic!("upload {dir}/{name}: {e}"))
}

fn ok(outcome: wantu::Result<wantu::Result<Value>>) -> Value {
    let v = outcome
        .expect("run")
        .unwrap_or_else(|e| panic!("expected success: {e}"));
    assert_eq!(v["code"], 200, "{v}");
    assert!(
        v["message"].is_string() && v["request_id"].is_string(),
        "{v}"
    );
    v
}

fn err(outcome: wantu::Result<wantu::Result<Value>>) -> Error {
    match outcome.expect("run") {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => e,
    }
}

fn assert_server_error(e: Error, status: u16, code: &str) {
    assert_eq!((e.code(), e.name()), (status, code), "{e}");
}

fn names(page: &Value) -> Vec<String> {
    page["result"]
        .as_array()
        .unwrap_or_else(|| panic!("no result array: {page}"))
        .iter()
        .map(|i| i["name"].as_str().expect("item name").to_string())
        .collect()
}

#[test]
fn request_builder_reproduces_the_known_manage_token() {
    let rid = wantu::manage::file_rid("demo", "/test", "test.jpg").unwrap();
    let request = ManageRequest::new(
        reqwest::Method::GET,
        format!("/3.0/files/{rid}/exist"),
        "file exists",
    );
    let signed = request.sign(
        "12345678",
        "0123456789abcdef0123456789abcdef",
        KeyType::Top,
        "",
        "1437535493816",
    );
    assert_eq!(
        signed.target,
        "/3.0/files/WyJkZW1vIiwiL3Rlc3QiLCJ0ZXN0LmpwZyJd/exist"
    );
    assert_eq!(signed.body, "");
    assert_eq!(
        signed.authorization,
        "ACL_TOP MTIzNDU2Nzg6YTAwY2YyNzY4NTA4MGFlZDU0MzAxMjQ1NTA0ZmM5YzY3Y2Y4NWQ5OA"
    );
}

#[test]
fn file_operations_and_their_errors() {
    let env = TestEnv::start();
    let c = &env.client;
    let uploaded = put(&env, "/m", "a.txt", b"hello");

    let v = ok(c.run(c.file_exists(NS, "/m", "a.txt")));
    assert_eq!(v["exist"], true);
    let v = ok(c.run(c.file_exists(NS, "/m", "nope.txt")));
    assert_eq!(v["exist"], false);

    // `dir` is normalised: "m/" is "/m".
    let v = ok(c.run(c.file_get(NS, "m/", "a.txt")));
    assert_eq!(v["name"], "a.txt");
    assert_eq!(v["dir"], "/m");
    assert_eq!(v["path"], "/m/a.txt");
    assert_eq!(v["namespace"], NS);
    assert_eq!(v["md5"], common::md5_hex(b"hello"));
    assert_eq!(v["e_tag"], uploaded["e_tag"]);
    assert_eq!(v["meta"]["fooBar"], "1", "meta keys stay as given: {v}");
    for key in [
        "size",
        "url",
        "mime_type",
        "is_image",
        "create_time",
        "modify_time",
    ] {
        assert!(v.get(key).is_some(), "{key} missing: {v}");
    }

    let v = ok(c.run(c.file_list(NS, "/m", 1, 10)));
    assert_eq!(names(&v), ["a.txt"]);
    assert_eq!(v["total_count"], 1);
    assert_eq!(v["result"][0]["e_tag"], uploaded["e_tag"]);

    // Rename within the folder, then move to another one.
    let v = ok(c.run(c.file_rename(NS, "/m", "a.txt", None, "b.txt")));
    assert_eq!(
        (v["dir"].as_str(), v["name"].as_str()),
        (Some("/m"), Some("b.txt"))
    );
    let v = ok(c.run(c.file_rename(NS, "/m", "b.txt", Some("/n/deeper"), "c.txt")));
    assert_eq!(v["path"], "/n/deeper/c.txt");
    assert_eq!(ok(c.run(c.file_exists(NS, "/m", "a.txt")))["exist"], false);
    assert_eq!(env.download("/n/deeper", "c.txt"), b"hello");

    ok(c.run(c.file_delete(NS, "/n/deeper", "c.txt")));
    assert_eq!(
        ok(c.run(c.file_exists(NS, "/n/deeper", "c.txt")))["exist"],
        false
    );

    assert_server_error(
        err(c.run(c.file_get(NS, "/n/deeper", "c.txt"))),
        404,
        "FileNotExist",
    );
    assert_server_error(
        err(c.run(c.file_delete(NS, "/n/deeper", "c.txt"))),
        404,
        "FileNotExist",
    );
    assert_server_error(
        err(c.run(c.file_rename(NS, "/m", "gone.txt", None, "x.txt"))),
        404,
        "FileNotExist",
    );
}

#[test]
fn folder_operations_and_their_errors() {
    let env = TestEnv::start();
    let c = &env.client;
    // Parents are created; the rule for `dir` makes "f/a/b/" the folder /f/a/b.
    ok(c.run(c.dir_create(NS, "f/a/b/")));
    for dir in ["/f", "/f/a", "/f/a/b", "//f//a/"] {
        assert_eq!(ok(c.run(c.dir_exists(NS, dir)))["exist"], true, "{dir}");
    }
    assert_eq!(ok(c.run(c.dir_exists(NS, "/f/zz")))["exist"], false);
    assert_server_error(err(c.run(c.dir_create(NS, "/f/a"))), 409, "NameDuplicated");

    ok(c.run(c.dir_create(NS, "/f/c")));
    let v = ok(c.run(c.dir_list(NS, "/f", 1, 100)));
    assert_eq!(names(&v), ["a", "c"]);
    assert_eq!(v["total_count"], 2);
    assert_eq!(v["result"][0]["path"], "/f/a");
    assert!(v["result"][0]["create_time"].is_number(), "{v}");

    assert_server_error(err(c.run(c.dir_delete(NS, "/f"))), 409, "DirNotEmpty");
    put(&env, "/f/c", "x.bin", b"x");
    assert_server_error(err(c.run(c.dir_delete(NS, "/f/c"))), 409, "DirNotEmpty");
    ok(c.run(c.file_delete(NS, "/f/c", "x.bin")));
    for dir in ["/f/c", "/f/a/b", "/f/a", "/f"] {
        ok(c.run(c.dir_delete(NS, dir)));
    }
    assert_eq!(ok(c.run(c.dir_exists(NS, "/f")))["exist"], false);
    assert_server_error(err(c.run(c.dir_delete(NS, "/f"))), 404, "DirNotExist");
}

#[test]
fn a_wrong_secret_or_key_is_refused() {
    let env = TestEnv::start();
    for (ak, sk) in [(common::AK, "not-the-secret"), ("unknown-ak", common::SK)] {
        let config =
            ClientConfig::new(ak, sk, None, Some(&env.base_url()), Some(&env.base_url())).unwrap();
        let c = wantu::Client::new(config).unwrap();
        let e = err(c.run(c.file_exists(NS, "/", "a.txt")));
        assert_eq!(e.code(), 401, "{e}");
        assert!(!e.message().contains("not-the-secret"), "{e}");
        let e = err(c.run(c.dir_create(NS, "/refused")));
        assert_eq!(e.code(), 401, "{e}");
    }
    // Nothing was created by the refused requests.
    let c = &env.client;
    assert_eq!(ok(c.run(c.dir_exists(NS, "/refused")))["exist"], false);
}

#[test]
fn paging_edges() {
    let env = TestEnv::start();
    let c = &env.client;
    ok(c.run(c.dir_create(NS, "/empty")));
    let v = ok(c.run(c.file_list(NS, "/empty", 1, 3)));
    assert_eq!(v["total_count"], 0);
    assert_eq!(v["result"], json!([]));
    let v = ok(c.run(c.list_all(Listing::Files, NS, "/empty", 10, 3)));
    assert_eq!(
        (v["total_count"].clone(), v["truncated"].clone()),
        (json!(0), json!(false))
    );
    assert_eq!(v["result"], json!([]));

    // Exactly one full page of 3.
    for n in ["f1", "f2", "f3"] {
        put(&env, "/p", n, n.as_bytes());
    }
    let v = ok(c.run(c.file_list(NS, "/p", 1, 3)));
    assert_eq!(names(&v), ["f1", "f2", "f3"]);
    assert_eq!(
        (v["total_count"].as_u64(), v["total_page"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(
        (v["current_page"].as_u64(), v["page_size"].as_u64()),
        (Some(1), Some(3))
    );
    let v = ok(c.run(c.list_all(Listing::Files, NS, "/p", 3, 3)));
    assert_eq!(names(&v), ["f1", "f2", "f3"]);
    assert_eq!(
        (v["truncated"].as_bool(), v["pages_read"].as_u64()),
        (Some(false), Some(1))
    );

    // One more than a page.
    put(&env, "/p", "f4", b"4");
    let v = ok(c.run(c.file_list(NS, "/p", 1, 3)));
    assert_eq!(
        (v["total_count"].as_u64(), v["total_page"].as_u64()),
        (Some(4), Some(2))
    );
    let v = ok(c.run(c.file_list(NS, "/p", 2, 3)));
    assert_eq!(names(&v), ["f4"]);
    let v = ok(c.run(c.file_list(NS, "/p", 3, 3)));
    assert_eq!(v["result"], json!([]));

    let v = ok(c.run(c.list_all(Listing::Files, NS, "/p", 100, 3)));
    assert_eq!(names(&v), ["f1", "f2", "f3", "f4"]);
    assert_eq!(v["total_count"], 4);
    assert_eq!(
        (v["truncated"].as_bool(), v["pages_read"].as_u64()),
        (Some(false), Some(2))
    );
    // Bounded by the maximum: at a page boundary, inside a page, exactly all.
    for (max, want, truncated) in [(3, 3, true), (2, 2, true), (4, 4, false), (1, 1, true)] {
        let v = ok(c.run(c.list_all(Listing::Files, NS, "/p", max, 3)));
        assert_eq!(names(&v).len(), want, "max {max}: {v}");
        assert_eq!(v["truncated"], truncated, "max {max}: {v}");
        assert_eq!(v["total_count"], 4);
    }
    let v = ok(c.run(c.file_list_all(NS, "/p", 1000)));
    assert_eq!(names(&v).len(), 4);

    // Folders page the same way.
    for d in ["/q/d1", "/q/d2", "/q/d3", "/q/d4"] {
        ok(c.run(c.dir_create(NS, d)));
    }
    let v = ok(c.run(c.dir_list(NS, "/q", 2, 3)));
    assert_eq!(names(&v), ["d4"]);
    let v = ok(c.run(c.list_all(Listing::Folders, NS, "/q", 100, 3)));
    assert_eq!(names(&v), ["d1", "d2", "d3", "d4"]);
    let v = ok(c.run(c.dir_list_all(NS, "/q", 2)));
    assert_eq!((names(&v).len(), v["truncated"].as_bool()), (2, Some(true)));
}

#[test]
fn paging_arguments_are_checked_before_sending() {
    let env = TestEnv::start();
    let c = &env.client;
    for (page, size, arg) in [
        (0, 10, "`page`"),
        (-3, 10, "`page`"),
        (1, 0, "`page_size`"),
        (1, 101, "`page_size`"),
    ] {
        for e in [
            err(c.run(c.file_list(NS, "/", page, size))),
            err(c.run(c.dir_list(NS, "/", page, size))),
        ] {
            assert_eq!((e.code(), e.name()), (0, "InvalidArgument"), "{e}");
            assert!(e.message().contains(arg), "{e}");
        }
    }
    for max in [0, -1] {
        let e = err(c.run(c.file_list_all(NS, "/", max)));
        assert!(e.message().contains("`max_items`"), "{e}");
    }
    let e = err(c.run(c.file_get("", "/", "a")));
    assert!(e.message().contains("`ns`"), "{e}");
    let e = err(c.run(c.file_get(NS, "/", "a/b")));
    assert!(e.message().contains("`name`"), "{e}");
    let e = err(c.run(c.file_rename(NS, "/", "a", None, "")));
    assert!(e.message().contains("`new_name`"), "{e}");
}

#[test]
fn awkward_names_round_trip() {
    let env = TestEnv::start();
    let c = &env.client;
    let dir = "/x y+z/ü&#?%";
    let names_in = [
        "a b.txt",
        "plus+sign",
        "100%",
        "a&b=c",
        "what?",
        "#hash",
        "中文 名.jpg",
        "emoji 😀🎉",
    ];
    for (i, n) in names_in.iter().enumerate() {
        let up = put(&env, dir, n, format!("body {i}").as_bytes());
        assert_eq!(up["name"], *n, "{up}");
    }
    for n in names_in {
        let v = ok(c.run(c.file_get(NS, dir, n)));
        assert_eq!(
            (v["dir"].as_str(), v["name"].as_str()),
            (Some(dir), Some(n)),
            "{v}"
        );
        assert_eq!(ok(c.run(c.file_exists(NS, dir, n)))["exist"], true, "{n}");
    }
    let listed = ok(c.run(c.file_list_all(NS, dir, 100)));
    let mut want: Vec<String> = names_in.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names(&listed), want);
    // The folder itself lists under its parent, and its name survives.
    let parents = ok(c.run(c.dir_list(NS, "/x y+z", 1, 100)));
    assert_eq!(names(&parents), ["ü&#?%"]);

    let new_dir = "/ñ &+%#?/😀";
    for (i, n) in names_in.iter().enumerate() {
        let new_name = format!("{n} → ✓{i}");
        let v = ok(c.run(c.file_rename(NS, dir, n, Some(new_dir), &new_name)));
        assert_eq!(v["name"], new_name.as_str());
        assert_eq!(
            env.download(new_dir, &new_name),
            format!("body {i}").as_bytes()
        );
        ok(c.run(c.file_delete(NS, new_dir, &new_name)));
        assert_eq!(
            ok(c.run(c.file_exists(NS, new_dir, &new_name)))["exist"],
            false
        );
    }
}

/// The last processing or scanning request the server recorded.
fn last_recorded(env: &TestEnv) -> (String, String, Vec<(String, String)>, String) {
    let all = env.server().processing_requests();
    let r = all.last().expect("the server recorded the request").clone();
    (r.method, r.path, r.fields, r.access_key)
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn assert_unsupported(outcome: wantu::Result<wantu::Result<Value>>) {
    let e = err(outcome);
    assert_server_error(e.clone(), 501, "UnsupportedOperation");
    let shaped = wantu::result::error(&e);
    assert_eq!(shaped["code"], 501);
    assert_eq!(shaped["error"], "UnsupportedOperation");
}

#[test]
fn processing_requests_are_sent_exactly() {
    let env = TestEnv::start();
    let c = &env.client;
    put(&env, "/v", "in put.mp4", b"not really a video");
    let input = FileRef {
        ns: NS,
        dir: "/v",
        name: "in put.mp4",
    };
    let output = FileRef {
        ns: NS,
        dir: "v/out/",
        name: "out+1.mp4",
    };
    let in_rid = file_resource_id(NS, "/v", "in put.mp4");
    let out_rid = file_resource_id(NS, "/v/out", "out+1.mp4");

    assert_unsupported(c.run(c.pts_add(
        input,
        "avthumb/mp4|saveas/x",
        Some("http://n/?a=1&b"),
        true,
    )));
    let (method, path, fields, ak) = last_recorded(&env);
    assert_eq!(
        (method.as_str(), path.as_str(), ak.as_str()),
        ("POST", "/3.0/pts", common::AK)
    );
    assert_eq!(
        fields,
        pairs(&[
            ("resourceId", &in_rid),
            ("fops", "avthumb/mp4|saveas/x"),
            ("force", "1"),
            ("notifyURL", "http://n/?a=1&b"),
        ])
    );
    assert_unsupported(c.run(c.pts_add(input, "f", None, false)));
    assert_eq!(
        last_recorded(&env).2,
        pairs(&[("resourceId", &in_rid), ("fops", "f"), ("force", "0")])
    );

    assert_unsupported(c.run(c.pts_get("pid-1")));
    let (method, path, fields, _) = last_recorded(&env);
    assert_eq!((method.as_str(), path.as_str()), ("GET", "/3.0/pts/pid-1"));
    assert!(fields.is_empty());

    let options = EncodeOptions::from_json(Some(
        r#"{"use_preset":true,"watermark":1,"watermark_template":"wm","notify_url":"http://n","seek":1.5,"duration":30}"#,
    ))
    .unwrap();
    assert_unsupported(c.run(c.media_encode(input, output, "tpl-1", &options)));
    let (method, path, fields, _) = last_recorded(&env);
    assert_eq!(
        (method.as_str(), path.as_str()),
        ("POST", "/3.0/mediaEncode")
    );
    assert_eq!(
        fields,
        pairs(&[
            ("input", &in_rid),
            ("output", &out_rid),
            ("encodeTemplate", "tpl-1"),
            ("usePreset", "1"),
            ("force", "0"),
            ("watermark", "1"),
            ("watermarkTemplate", "wm"),
            ("notifyUrl", "http://n"),
            ("seek", "1.5"),
            ("duration", "30"),
        ])
    );
    assert_unsupported(c.run(c.media_encode(input, output, "t", &EncodeOptions::default())));
    assert_eq!(
        last_recorded(&env).2,
        pairs(&[
            ("input", &in_rid),
            ("output", &out_rid),
            ("encodeTemplate", "t"),
            ("usePreset", "0"),
            ("force", "0")
        ])
    );
    assert_unsupported(c.run(c.media_encode_result("task-1")));
    assert_eq!(last_recorded(&env).1, "/3.0/mediaEncodeResult/task-1");

    assert_unsupported(c.run(c.snapshot(input, output, 1500, Some("http://n"))));
    let (method, path, fields, _) = last_recorded(&env);
    assert_eq!((method.as_str(), path.as_str()), ("POST", "/3.0/snapshot"));
    assert_eq!(
        fields,
        pairs(&[
            ("input", &in_rid),
            ("output", &out_rid),
            ("time", "1500"),
            ("notifyUrl", "http://n")
        ])
    );
    assert_unsupported(c.run(c.snapshot_result("task-2")));
    let (method, path, _, _) = last_recorded(&env);
    assert_eq!(
        (method.as_str(), path.as_str()),
        ("GET", "/3.0/snapshotResult/task-2")
    );
}

#[test]
fn scanning_requests_are_sent_exactly() {
    let env = TestEnv::start();
    let c = &env.client;
    put(&env, "/s", "a.jpg", b"a");
    put(&env, "/s", "b c.jpg", b"b");
    let files = ScanTargets::parse(
        NS,
        Some(r#"["/s/a.jpg",{"dir":"s","name":"b c.jpg"}]"#),
        None,
    )
    .unwrap();
    let rids = format!(
        "{};{}",
        file_resource_id(NS, "/s", "a.jpg"),
        file_resource_id(NS, "/s", "b c.jpg")
    );
    let urls = ScanTargets::parse(
        NS,
        None,
        Some(r#"["http://x/1.jpg?a=b&c","http://y/2.jpg"]"#),
    )
    .unwrap();
    for (path, porn) in [("/3.1/scanPorn", true), ("/3.1/scanAdvertising", false)] {
        let scan = |t| {
            if porn {
                c.run(c.scan_porn(t))
            } else {
                c.run(c.scan_advertising(t))
            }
        };
        assert_unsupported(scan(&files));
        let (method, got_path, fields, _) = last_recorded(&env);
        assert_eq!((method.as_str(), got_path.as_str()), ("POST", path));
        assert_eq!(fields, pairs(&[("resourceId", &rids)]));
        assert_unsupported(scan(&urls));
        assert_eq!(
            last_recorded(&env).2,
            pairs(&[("url", "http://x/1.jpg?a=b&c;http://y/2.jpg")])
        );
    }

    let rid = file_resource_id(NS, "/s", "a.jpg");
    let items = wantu::manage::parse_feedback(&format!(
        r#"[{{"resourceId":"{rid}","label":0}},{{"url":"http://x/1.jpg","label":1}}]"#
    ))
    .unwrap();
    assert_unsupported(c.run(c.scan_feedback(&items)));
    let (method, path, fields, _) = last_recorded(&env);
    assert_eq!((method.as_str(), path.as_str()), ("POST", "/3.1/feedback"));
    assert_eq!(
        fields,
        pairs(&[
            (
                "feedback",
                &format!(r#"{{"label":0,"resourceId":"{rid}"}}"#)
            ),
            ("feedback", r#"{"label":1,"url":"http://x/1.jpg"}"#),
        ])
    );
}

#[test]
fn processing_of_a_missing_file_is_not_found() {
    let env = TestEnv::start();
    let c = &env.client;
    let missing = FileRef {
        ns: NS,
        dir: "/none",
        name: "x.mp4",
    };
    let e = err(c.run(c.pts_add(missing, "f", None, false)));
    assert_eq!(e.code(), 404, "{e}");
    let e = err(c.run(c.snapshot(missing, missing, 0, None)));
    assert_eq!(e.code(), 404, "{e}");
    let targets = ScanTargets::ResourceIds(vec![file_resource_id(NS, "/none", "x.jpg")]);
    let e = err(c.run(c.scan_porn(&targets)));
    assert_eq!(e.code(), 404, "{e}");
}

#[test]
fn folder_resource_ids_match_the_protocol() {
    // The folder id is b64u of [namespace, dir] with the normalised dir.
    assert_eq!(
        wantu::manage::dir_rid(NS, "a/b/").unwrap(),
        dir_resource_id(NS, "/a/b")
    );
}

#[test]
fn reads_survive_transient_faults_and_writes_are_not_repeated() {
    let env = TestEnv::start();
    let c = &env.client;
    put(&env, "/r", "a.txt", b"a");
    // One in five requests answers 503; reads are retried (a fresh Date and
    // signature each time), so every one of them succeeds. Without retries,
    // 20 reads would all pass with probability 0.8^20 ≈ 1%; the seed makes
    // the fault sequence repeatable.
    env.server().set_faults(wantu_server::FaultConfig {
        error_rate: 0.2,
        seed: Some(11),
        ..Default::default()
    });
    for _ in 0..10 {
        assert_eq!(ok(c.run(c.file_exists(NS, "/r", "a.txt")))["exist"], true);
        assert_eq!(ok(c.run(c.file_list(NS, "/r", 1, 10)))["total_count"], 1);
    }
    // Every request fails: a write is sent once and reports the 503.
    env.server().set_faults(wantu_server::FaultConfig {
        error_rate: 1.0,
        seed: Some(1),
        ..Default::default()
    });
    let e = err(c.run(c.dir_create(NS, "/r/new")));
    assert_eq!(e.code(), 503, "{e}");
    let e = err(c.run(c.file_get(NS, "/r", "a.txt")));
    assert_eq!(e.code(), 503, "{e}");
    env.server()
        .set_faults(wantu_server::FaultConfig::default());
    assert_eq!(ok(c.run(c.dir_exists(NS, "/r/new")))["exist"], false);
}
