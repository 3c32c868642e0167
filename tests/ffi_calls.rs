//! The extern "C" functions called directly from Rust, as a C program would
//! call them, against an in-process wantu-server: results in the seed's JSON
//! shape, byte-exact uploads, and errors for bad arguments.

mod common;

use common::*;
use serde_json::{json, Value};
use std::ffi::{c_char, CStr, CString};
use std::ptr::{null, null_mut};
use wantu::ffi::boundary::wantu_client;
use wantu::ffi::client::*;
use wantu::ffi::upload::*;

const PART: usize = wantu::multipart::MIN_PART_SIZE as usize + 1000;

/// An FFI client on the test server; freed on drop.
struct Handle(*mut wantu_client);

impl Handle {
    fn new(env: &TestEnv, ak: &str, sk: &str, key_type: Option<&str>) -> Handle {
        let url = cs(&env.base_url());
        let key_type = key_type.map(cs);
        let c = unsafe {
            wantu_client_new(
                cs(ak).as_ptr(),
                cs(sk).as_ptr(),
                key_type.as_ref().map_or(null(), |t| t.as_ptr()),
                url.as_ptr(),
                url.as_ptr(),
            )
        };
        assert!(!c.is_null(), "client: {:?}", last_error());
        Handle(c)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        unsafe { wantu_client_free(self.0) }
    }
}

fn last_error() -> Option<Value> {
    let p = wantu_last_error();
    (!p.is_null()).then(|| unsafe { take_json(p) })
}

fn opt(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(null(), |c| c.as_ptr())
}

/// The seed's upload_content through the C function (its 8 arguments).
#[allow(clippy::too_many_arguments)]
fn upload_content(
    c: &Handle,
    policy: &str,
    dir: &str,
    name: &str,
    data: &[u8],
    md5: Option<&str>,
    meta: Option<&str>,
    var: Option<&str>,
) -> Value {
    let (md5, meta, var) = (md5.map(cs), meta.map(cs), var.map(cs));
    unsafe {
        take_json(wantu_upload_content(
            c.0,
            cs(policy).as_ptr(),
            cs(dir).as_ptr(),
            cs(name).as_ptr(),
            data.as_ptr(),
            data.len(),
            opt(&md5),
            opt(&meta),
            opt(&var),
        ))
    }
}

fn upload_file(
    c: &Handle,
    policy: &str,
    dir: &str,
    name: &str,
    path: &str,
    md5: Option<&str>,
) -> Value {
    let md5 = md5.map(cs);
    unsafe {
        take_json(wantu_upload_file(
            c.0,
            cs(policy).as_ptr(),
            cs(dir).as_ptr(),
            cs(name).as_ptr(),
            cs(path).as_ptr(),
            opt(&md5),
            null(),
            null(),
        ))
    }
}

fn init(c: &Handle, policy: &str, name: &str, part: &[u8]) -> Value {
    unsafe {
        take_json(wantu_multipart_init(
            c.0,
            cs(policy).as_ptr(),
            cs("/ffi").as_ptr(),
            cs(name).as_ptr(),
            part.as_ptr(),
            part.len(),
            null(),
            null(),
            null(),
        ))
    }
}

fn part(c: &Handle, policy: &str, ids: &Value, n: u32, data: &[u8], md5: Option<&str>) -> Value {
    let md5 = md5.map(cs);
    unsafe {
        take_json(wantu_multipart_upload(
            c.0,
            cs(policy).as_ptr(),
            cs(ids["id"].as_str().unwrap()).as_ptr(),
            cs(ids["upload_id"].as_str().unwrap()).as_ptr(),
            n,
            data.as_ptr(),
            data.len(),
            opt(&md5),
        ))
    }
}

fn complete(c: &Handle, policy: &str, ids: &Value, parts: &str, md5: Option<&str>) -> Value {
    let md5 = md5.map(cs);
    unsafe {
        take_json(wantu_multipart_complete(
            c.0,
            cs(policy).as_ptr(),
            cs(ids["id"].as_str().unwrap()).as_ptr(),
            cs(ids["upload_id"].as_str().unwrap()).as_ptr(),
            cs(parts).as_ptr(),
            opt(&md5),
        ))
    }
}

fn cancel(c: &Handle, policy: &str, ids: &Value) -> Value {
    unsafe {
        take_json(wantu_multipart_cancel(
            c.0,
            cs(policy).as_ptr(),
            cs(ids["id"].as_str().unwrap()).as_ptr(),
            cs(ids["upload_id"].as_str().unwrap()).as_ptr(),
        ))
    }
}

#[test]
fn simple_uploads_answer_the_seed_shape_and_are_byte_exact() {
    let env = TestEnv::start();
    let c = Handle::new(&env, AK, SK, None);
    let policy = policy_json(json!({}));

    let data = test_bytes(123_456, 1);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &data).unwrap();
    let r = upload_file(
        &c,
        &policy,
        "/ffi",
        "file.bin",
        file.path().to_str().unwrap(),
        None,
    );
    assert_eq!(r["code"], 200, "{r}");
    // Exactly the keys the seed shows (plus is_image), all snake_case.
    for key in [
        "name",
        "url",
        "request_id",
        "file_size",
        "file_modified",
        "e_tag",
        "message",
        "mime_type",
        "dir",
    ] {
        assert!(r.get(key).is_some(), "{key} missing: {r}");
    }
    assert_eq!(r["file_size"], "123456");
    assert_eq!(r["e_tag"], md5_hex(&data).to_uppercase());
    assert_eq!(env.download("/ffi", "file.bin"), data);

    let r = upload_content(
        &c,
        &policy,
        "/ffi",
        "bytes.bin",
        &data[..999],
        None,
        None,
        None,
    );
    assert_eq!(r["code"], 200, "{r}");
    assert_eq!(env.download("/ffi", "bytes.bin"), &data[..999]);

    // (NULL, 0) is an empty file.
    let r = unsafe {
        take_json(wantu_upload_content(
            c.0,
            cs(&policy).as_ptr(),
            cs("/ffi").as_ptr(),
            cs("empty").as_ptr(),
            null(),
            0,
            null(),
            null(),
            null(),
        ))
    };
    assert_eq!(r["file_size"], "0", "{r}");
    assert_eq!(env.download("/ffi", "empty"), b"");

    // dir and name may be NULL when the policy names them.
    let named = policy_json(json!({"dir": "/ffi/policy", "name": "from-policy.txt"}));
    let r = unsafe {
        take_json(wantu_upload_content(
            c.0,
            cs(&named).as_ptr(),
            null(),
            null(),
            b"p".as_ptr(),
            1,
            null(),
            null(),
            null(),
        ))
    };
    assert_eq!(
        (r["dir"].as_str(), r["name"].as_str()),
        (Some("/ffi/policy"), Some("from-policy.txt")),
        "{r}"
    );
}

#[test]
fn md5_meta_and_var() {
    let env = TestEnv::start();
    let c = Handle::new(&env, AK, SK, None);
    let data = b"checked content";
    let policy = policy_json(json!({}));
    let md5 = md5_hex(data);
    let r = upload_content(&c, &policy, "/ffi", "md5.txt", data, Some(&md5), None, None);
    assert_eq!(r["code"], 200, "{r}");
    let r = upload_content(
        &c,
        &policy,
        "/ffi",
        "md5-bad.txt",
        data,
        Some(&md5_hex(b"x")),
        None,
        None,
    );
    assert_error(&r, 400, "BadDigest", "");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), data).unwrap();
    let path = file.path().to_str().unwrap();
    let r = upload_file(
        &c,
        &policy,
        "/ffi",
        "md5f.txt",
        path,
        Some(&md5.to_uppercase()),
    );
    assert_eq!(r["code"], 200, "{r}");
    let r = upload_file(
        &c,
        &policy,
        "/ffi",
        "md5f-bad.txt",
        path,
        Some(&md5_hex(b"x")),
    );
    assert_error(&r, 400, "BadDigest", "");

    let policy = policy_json(json!({"name": "${var-a}-${var-b}.txt"}));
    let r = upload_content(
        &c,
        &policy,
        "/ffi",
        "ignored",
        data,
        None,
        Some(r#"{"Owner":"ffi","n":1,"yes":true}"#),
        Some(r#"{"a":"x","b":2}"#),
    );
    assert_eq!(r["name"], "x-2.txt", "{r}");
    assert_eq!(
        r["meta"],
        json!({"Owner":"ffi","n":"1","yes":"true"}),
        "{r}"
    );
}

#[test]
fn multipart_with_seed_and_plain_parts() {
    use base64::Engine;
    let env = TestEnv::start();
    let c = Handle::new(&env, AK, SK, None);
    let policy = policy_json(json!({}));
    for (round, name) in ["seed.bin", "plain.bin"].into_iter().enumerate() {
        let data = test_bytes(2 * PART + 777, 10 + round as u64);
        let chunks: Vec<&[u8]> = data.chunks(PART).collect();
        let ids = init(&c, &policy, name, chunks[0]);
        assert_eq!(ids["code"], 200, "{ids}");
        assert_eq!(ids["part_number"], 1);
        assert_eq!(ids["dir"], "/ffi");
        let mut tags = vec![(1u32, ids["e_tag"].as_str().unwrap().to_string())];
        for (i, chunk) in chunks.iter().enumerate().skip(1) {
            let n = i as u32 + 1;
            let r = part(&c, &policy, &ids, n, chunk, Some(&md5_hex(chunk)));
            assert_eq!(r["code"], 200, "{r}");
            assert_eq!(r["part_number"], n);
            assert_eq!(r["id"], ids["id"]);
            tags.push((n, r["e_tag"].as_str().unwrap().to_string()));
        }
        let parts = if round == 0 {
            // base64.urlsafe_b64encode(json.dumps([{'e_tag': …, 'part_number': 1}, …]))
            let py = tags
                .iter()
                .map(|(n, e)| format!("{{\"e_tag\": \"{e}\", \"part_number\": {n}}}"))
                .collect::<Vec<_>>()
                .join(", ");
            base64::engine::general_purpose::URL_SAFE.encode(format!("[{py}]"))
        } else {
            Value::Array(
                tags.iter()
                    .map(|(n, e)| json!({"part_number": n, "e_tag": e}))
                    .collect(),
            )
            .to_string()
        };
        let r = complete(&c, &policy, &ids, &parts, Some(&md5_hex(&data)));
        assert_eq!(r["code"], 200, "{r}");
        assert_eq!(r["file_size"], data.len().to_string());
        assert_eq!(r["name"], name);
        assert_eq!(env.download("/ffi", name), data);
    }
}

#[test]
fn multipart_cancel_wrong_ids_and_gaps() {
    let env = TestEnv::start();
    let c = Handle::new(&env, AK, SK, None);
    let policy = policy_json(json!({}));
    let data = test_bytes(3 * PART, 20);
    let ids = init(&c, &policy, "gap.bin", &data[..PART]);
    let e1 = ids["e_tag"].as_str().unwrap().to_string();
    let r3 = part(&c, &policy, &ids, 3, &data[2 * PART..], None);
    let e3 = r3["e_tag"].as_str().unwrap().to_string();
    let gap = json!([{"part_number":1,"e_tag":e1},{"part_number":3,"e_tag":e3}]).to_string();
    assert_error(
        &complete(&c, &policy, &ids, &gap, None),
        400,
        "InvalidArgument",
        "",
    );
    assert_error(
        &part(&c, &policy, &ids, 0, b"x", None),
        0,
        "InvalidArgument",
        "`part_number`",
    );
    assert_error(
        &part(&c, &policy, &ids, 2, b"x", Some(&md5_hex(b"y"))),
        400,
        "BadDigest",
        "",
    );
    for bad in ["", "[]", "garbage!", "[{\"part_number\":1}]"] {
        assert_error(
            &complete(&c, &policy, &ids, bad, None),
            0,
            "InvalidArgument",
            "`parts`",
        );
    }

    let r = cancel(&c, &policy, &ids);
    assert_eq!(r["code"], 200, "{r}");
    assert_error(&cancel(&c, &policy, &ids), 404, "NoSuchUpload", "");
    let unknown = json!({"id": "8d6c8c5e-0000-4000-8000-000000000000", "upload_id": "0123456789ABCDEF0123456789ABCDEF"});
    assert_error(
        &part(&c, &policy, &unknown, 2, b"x", None),
        404,
        "NoSuchUpload",
        "",
    );
    assert_error(
        &complete(&c, &policy, &unknown, &gap, None),
        404,
        "NoSuchUpload",
        "",
    );
}

#[test]
fn server_refusals() {
    let env = TestEnv::start();
    let bad = Handle::new(&env, AK, "not-the-secret", None);
    let policy = policy_json(json!({}));
    let r = upload_content(&bad, &policy, "/ffi", "x", b"x", None, None, None);
    assert_error(&r, 401, "InvalidToken", "");
    assert!(!r.to_string().contains("not-the-secret"));
    let unknown = Handle::new(&env, "nobody", SK, None);
    assert_error(
        &upload_content(&unknown, &policy, "/ffi", "x", b"x", None, None, None),
        401,
        "InvalidToken",
        "",
    );

    let good = Handle::new(&env, AK, SK, None);
    let r = upload_content(
        &good,
        &expired_policy_json(),
        "/ffi",
        "x",
        b"x",
        None,
        None,
        None,
    );
    assert_error(&r, 401, "TokenExpired", "");
    assert!(
        r["request_id"].as_str().is_some_and(|s| !s.is_empty()),
        "{r}"
    );
}

#[test]
fn client_side_failures() {
    let env = TestEnv::start();
    let c = Handle::new(&env, AK, SK, None);
    let policy = policy_json(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.bin");
    let r = upload_file(&c, &policy, "/ffi", "x", missing.to_str().unwrap(), None);
    assert_error(&r, 0, "IoError", &missing.display().to_string());
    let r = upload_file(&c, &policy, "/ffi", "x", dir.path().to_str().unwrap(), None);
    assert_error(&r, 0, "IoError", "is a directory");

    // Refused connection: code 0, ConnectError, the host in the message.
    let endpoint = refused_endpoint();
    let e = cs(&endpoint);
    let refused = Handle(unsafe {
        wantu_client_new(
            cs(AK).as_ptr(),
            cs(SK).as_ptr(),
            null(),
            e.as_ptr(),
            e.as_ptr(),
        )
    });
    let r = upload_content(&refused, &policy, "/ffi", "x", b"x", None, None, None);
    assert_error(
        &r,
        0,
        "ConnectError",
        endpoint.trim_start_matches("http://"),
    );
    assert_eq!(r["request_id"], "");

    // NULL and invalid UTF-8 arguments.
    let bad_utf8 = CString::new(vec![b'{', 0xff, 0xfe]).unwrap();
    let r = unsafe { take_json(wantu_upload_token(c.0, bad_utf8.as_ptr())) };
    assert_error(&r, 0, "InvalidArgument", "`policy_json` is not valid UTF-8");
    let r = unsafe { take_json(wantu_upload_token(null(), cs(&policy).as_ptr())) };
    assert_error(&r, 0, "InvalidArgument", "`client` is NULL");
    let r = unsafe {
        take_json(wantu_upload_content(
            c.0,
            cs(&policy).as_ptr(),
            null(),
            null(),
            null(),
            3,
            null(),
            null(),
            null(),
        ))
    };
    assert_error(
        &r,
        0,
        "InvalidArgument",
        "`content` is NULL but its length is 3",
    );
    let r = unsafe {
        take_json(wantu_upload_file(
            c.0,
            cs(&policy).as_ptr(),
            null(),
            null(),
            null(),
            null(),
            null(),
            null(),
        ))
    };
    assert_error(&r, 0, "InvalidArgument", "`file_path` is NULL");
    let r = unsafe {
        take_json(wantu_multipart_cancel(
            c.0,
            cs(&policy).as_ptr(),
            null(),
            cs("u").as_ptr(),
        ))
    };
    assert_error(&r, 0, "InvalidArgument", "`id` is NULL");
    let r = upload_content(&c, r#"{"namespace":"x"}"#, "/d", "n", b"", None, None, None);
    assert_error(&r, 0, "InvalidArgument", "policy has no \"expiration\"");
    let r = upload_content(&c, &policy, "/d", "n", b"", None, Some("[1]"), None);
    assert_error(&r, 0, "InvalidArgument", "`meta` must be a JSON object");
}

#[test]
fn token_version_and_constructor() {
    let env = TestEnv::start();
    let c = Handle::new(&env, "12345678", "0123456789abcdef0123456789abcdef", None);
    let policy = r#"{"namespace":"demo","expiration":-1,"insertOnly":0,"detectMime":1,"dir":"/test","name":"test.jpg"}"#;
    let r = unsafe { take_json(wantu_upload_token(c.0, cs(policy).as_ptr())) };
    assert_eq!(r["code"], 200);
    assert_eq!(
        r["token"],
        "UPLOAD_AK_TOP MTIzNDU2Nzg6ZXlKdVlXMWxjM0JoWTJVaU9pSmtaVzF2SWl3aVpYaHdhWEpoZEdsdmJpSTZMVEVzSW1sdWMyVnlkRTl1YkhraU9qQXNJbVJsZEdWamRFMXBiV1VpT2pFc0ltUnBjaUk2SWk5MFpYTjBJaXdpYm1GdFpTSTZJblJsYzNRdWFuQm5JbjA6OTliNDcwYTJlNTUxNzljOTQwNWU0MDE3MTUyYTAzYjYzOTk4MmRjZg"
    );
    let cloud = Handle::new(&env, AK, SK, Some("cloud"));
    let r = unsafe { take_json(wantu_upload_token(cloud.0, cs(policy).as_ptr())) };
    assert!(
        r["token"].as_str().unwrap().starts_with("UPLOAD_AK_CLOUD "),
        "{r}"
    );

    let v = unsafe { CStr::from_ptr(wantu_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));

    // Failed constructors: NULL, and the reason as JSON.
    let none = unsafe { wantu_client_new(null(), cs("sk").as_ptr(), null(), null(), null()) };
    assert!(none.is_null());
    assert_error(&last_error().unwrap(), 0, "InvalidArgument", "`ak` is NULL");
    let none = unsafe {
        wantu_client_new_with_options(
            cs("ak").as_ptr(),
            cs("sk").as_ptr(),
            null(),
            null(),
            null(),
            cs(r#"{"nope":1}"#).as_ptr(),
        )
    };
    assert!(none.is_null());
    assert_error(
        &last_error().unwrap(),
        0,
        "InvalidArgument",
        "unknown field `nope`",
    );
    // A bandwidth limit of 0 is refused by name, not taken as "none".
    let none = unsafe {
        wantu_client_new_with_options(
            cs("ak").as_ptr(),
            cs("sk").as_ptr(),
            null(),
            null(),
            null(),
            cs(r#"{"limit_rate_bytes_per_sec":0}"#).as_ptr(),
        )
    };
    assert!(none.is_null());
    assert_error(
        &last_error().unwrap(),
        0,
        "InvalidArgument",
        "`limit_rate_bytes_per_sec` must be at least 1",
    );
    let none = unsafe {
        wantu_client_new(
            cs("ak").as_ptr(),
            cs("sk").as_ptr(),
            cs("OSS").as_ptr(),
            null(),
            null(),
        )
    };
    assert!(none.is_null());
    assert_error(&last_error().unwrap(), 0, "InvalidArgument", "`type`");
    // A success clears it; free(NULL) and string_free(NULL) do nothing.
    let ok = Handle::new(&env, AK, SK, None);
    assert!(last_error().is_none());
    drop(ok);
    unsafe {
        wantu_client_free(null_mut());
        wantu_string_free(null_mut());
    }
}

#[test]
fn user_agent_default_on_the_wire() {
    let (endpoint, head) = capture_one_request(r#"{"code":"OK","message":"OK","requestId":"r"}"#);
    let e = cs(&endpoint);
    let c = Handle(unsafe {
        wantu_client_new(
            cs(AK).as_ptr(),
            cs(SK).as_ptr(),
            null(),
            e.as_ptr(),
            e.as_ptr(),
        )
    });
    let policy = policy_json(json!({}));
    let r = unsafe {
        take_json(wantu_multipart_cancel(
            c.0,
            cs(&policy).as_ptr(),
            cs("i").as_ptr(),
            cs("u").as_ptr(),
        ))
    };
    assert_eq!(r["code"], 200, "{r}");
    assert_eq!(r["request_id"], "r");
    let head = head.join().unwrap().to_ascii_lowercase();
    let ua = format!(
        "\r\nuser-agent: alimediasdk_c_tae/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    assert!(head.contains(&ua), "{head}");
}
