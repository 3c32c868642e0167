//! `ls`, `stat`, `mv`, `rm`, `mkdir`, `url`, `token`, each checked against
//! the server's state.

mod common;
use common::*;
use serde_json::json;

#[test]
fn ls_lists_folders_then_files_and_recurses() {
    let env = Env::start();
    env.put("/a", "one.txt", b"1");
    env.put("/a/b", "two.txt", b"22");
    env.put("/", "top.txt", b"333");

    let (code, out, err) = run(env.wantu().args(["ls", &remote("/")]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "a/\ntop.txt\n");

    let (code, out, err) = run(env.wantu().args(["ls", "-r", &remote("/")]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "a/\na/b/\na/b/two.txt\na/one.txt\ntop.txt\n");

    let (_, out, _) = run(env.wantu().args(["ls", "-l", &remote("/a/")]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].trim_start().starts_with("- ") && lines[0].ends_with("  b/"));
    let cols: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!((cols[0], cols[3]), ("1", "one.txt"), "{out}");

    let (_, out, _) = run(env.wantu().args(["--json", "ls", "-r", &remote("/a")]));
    let items = json_lines(&out);
    let paths: Vec<&str> = items.iter().map(|v| v["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            remote("/a/b/"),
            remote("/a/b/two.txt"),
            remote("/a/one.txt")
        ]
    );
    assert_eq!(items[1]["size"], 2);
    assert_eq!(items[1]["md5"], wantu::auth::md5_hex(b"22"));

    let (code, _, err) = run(env.wantu().args(["ls", &remote("/nowhere/")]));
    assert_eq!(code, 1);
    assert!(err.contains("/nowhere"), "{err}");
}

#[test]
fn stat_and_url_show_the_stored_file() {
    let env = Env::start();
    let data = bytes(5000, 1);
    env.put("/s", "f.bin", &data);
    let (code, out, err) = run(env.wantu().args(["--json", "stat", &remote("/s/f.bin")]));
    assert_eq!(code, 0, "{err}");
    let v = &json_lines(&out)[0];
    assert_eq!(v["size"], 5000);
    assert_eq!(v["md5"], wantu::auth::md5_hex(&data));
    assert_eq!(v["path"], remote("/s/f.bin"));

    let (_, out, _) = run(env.wantu().args(["stat", &remote("/s/f.bin")]));
    assert!(out.contains("size:     5000"), "{out}");

    let (code, out, _) = run(env.wantu().args(["stat", &remote("/s/")]));
    assert_eq!(
        (code, out.trim()),
        (0, format!("{}: folder", remote("/s/")).as_str())
    );

    let (code, _, err) = run(env.wantu().args(["stat", &remote("/s/none.bin")]));
    assert_eq!(code, 1);
    assert!(err.contains("none.bin"), "{err}");

    let (code, out, err) = run(env.wantu().args(["url", &remote("/s/f.bin")]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(env.fetch(out.trim()), data, "the URL serves the file");
}

#[test]
fn mv_renames_and_moves_into_a_folder() {
    let env = Env::start();
    env.put("/m", "a.txt", b"moved");
    let (code, _, err) = run(env
        .wantu()
        .args(["mv", &remote("/m/a.txt"), &remote("/m/b.txt")]));
    assert_eq!(code, 0, "{err}");
    assert!(env.stat("/m", "a.txt").is_none());
    assert_eq!(env.download("/m", "b.txt"), b"moved");

    let (code, _, err) = run(env
        .wantu()
        .args(["mv", &remote("/m/b.txt"), &remote("/n/")]));
    assert_eq!(code, 0, "{err}");
    assert!(env.stat("/m", "b.txt").is_none());
    assert_eq!(env.download("/n", "b.txt"), b"moved");

    let (code, _, err) = run(env
        .wantu()
        .args(["mv", &remote("/n/b.txt"), "wantu://other/b.txt"]));
    assert_eq!(code, 2);
    assert!(err.contains("namespace"), "{err}");
}

#[test]
fn mkdir_and_rm() {
    let env = Env::start();
    let (code, _, err) = run(env.wantu().args(["mkdir", &remote("/x/y/")]));
    assert_eq!(code, 0, "{err}");
    assert!(env.folder_exists("/x/y"));
    let (code, _, _) = run(env.wantu().args(["mkdir", &remote("/x/y/")]));
    assert_eq!(code, 1, "an existing folder is an error without -p");
    let (code, _, _) = run(env.wantu().args(["mkdir", "-p", &remote("/x/y/")]));
    assert_eq!(code, 0);

    env.put("/t", "1.txt", b"1");
    env.put("/t/u", "2.txt", b"2");
    env.put("/t/u/v", "3.txt", b"3");
    env.put("/keep", "k.txt", b"k");

    let (code, out, _) = run(env.wantu().args(["rm", &remote("/t/1.txt")]));
    assert_eq!(code, 0);
    assert!(out.contains(&remote("/t/1.txt")), "{out}");
    assert!(env.stat("/t", "1.txt").is_none());

    let (code, _, err) = run(env.wantu().args(["rm", &remote("/t/")]));
    assert_eq!(code, 1, "a folder with files needs -r");
    assert!(err.contains("rm -r"), "{err}");
    assert!(env.stat("/t/u", "2.txt").is_some());

    let (code, out, err) = run(env.wantu().args(["--json", "rm", "-r", &remote("/t/")]));
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    let summary = lines.last().unwrap();
    assert_eq!(
        (summary["summary"].clone(), summary["failed"].clone()),
        (json!(true), json!(0))
    );
    let deleted: Vec<&str> = lines
        .iter()
        .filter(|v| v["status"] == "deleted")
        .map(|v| v["path"].as_str().unwrap())
        .collect();
    assert!(deleted.contains(&remote("/t/u/v/3.txt").as_str()), "{out}");
    assert!(deleted.contains(&remote("/t/u/2.txt").as_str()), "{out}");
    assert!(env.stat("/t/u", "2.txt").is_none());
    assert!(env.stat("/t/u/v", "3.txt").is_none());
    assert!(!env.folder_exists("/t"));
    assert!(env.stat("/keep", "k.txt").is_some(), "other folders stay");

    run(env.wantu().args(["mkdir", &remote("/empty/")]));
    let (code, _, _) = run(env.wantu().args(["rm", &remote("/empty/")]));
    assert_eq!(code, 0, "an empty folder goes without -r");
    assert!(!env.folder_exists("/empty"));
}

/// Sends `data` to the upload host with a token, as another program would.
fn upload_with_token(env: &Env, token: &str, dir: &str, name: &str, data: &[u8]) -> (u16, String) {
    let form = reqwest::multipart::Form::new()
        .text("dir", dir.to_string())
        .text("name", name.to_string())
        .text("size", data.len().to_string())
        .part(
            "content",
            reqwest::multipart::Part::bytes(data.to_vec()).file_name(name.to_string()),
        );
    let url = format!("{}/api/proxy/upload", env.url());
    env.client
        .run(async {
            let r = env
                .client
                .http()
                .post(&url)
                .header("Authorization", token)
                .multipart(form)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
        .unwrap()
}

#[test]
fn token_is_accepted_by_the_server() {
    let env = Env::start();
    let (code, out, err) = run(env
        .wantu()
        .args(["token", &remote("/inbox/"), "--expires", "10m"]));
    assert_eq!(code, 0, "{err}");
    let token = out.trim();
    assert!(token.starts_with("UPLOAD_AK_TOP "), "{token}");
    let (status, body) = upload_with_token(&env, token, "/inbox", "t.txt", b"by token");
    assert_eq!(status, 200, "{body}");
    assert_eq!(env.download("/inbox", "t.txt"), b"by token");

    // insert-only with a fixed name: the second upload is refused.
    let (_, out, _) = run(env.wantu().args([
        "--json",
        "token",
        &remote("/inbox/once.txt"),
        "--insert-only",
    ]));
    let v = &json_lines(&out)[0];
    let policy: serde_json::Value = serde_json::from_str(v["policy"].as_str().unwrap()).unwrap();
    assert_eq!(
        (policy["name"].clone(), policy["insertOnly"].clone()),
        (json!("once.txt"), json!(1))
    );
    let token = v["token"].as_str().unwrap();
    assert_eq!(
        upload_with_token(&env, token, "/inbox", "once.txt", b"1").0,
        200
    );
    assert_ne!(
        upload_with_token(&env, token, "/inbox", "once.txt", b"2").0,
        200
    );
    assert_eq!(env.download("/inbox", "once.txt"), b"1");

    // A policy given as JSON, with an expiry in the past: refused.
    let expired = json!({"namespace": NS, "expiration": 1000}).to_string();
    let (code, out, _) = run(env.wantu().args(["token", "--policy", &expired]));
    assert_eq!(code, 0);
    assert_ne!(
        upload_with_token(&env, out.trim(), "/", "late.txt", b"x").0,
        200
    );
    assert!(env.stat("/", "late.txt").is_none());

    let (code, _, err) = run(env
        .wantu()
        .args(["token", &remote("/"), "--expires", "soon"]));
    assert_eq!(code, 2);
    assert!(err.contains("--expires"), "{err}");
}
