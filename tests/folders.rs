//! Folder and batch uploads against a real wantu-server: a tree
//! of awkward names byte-exact, skip rules, faults, cancel, bad input.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use wantu::batch::{self, BatchOptions};
use wantu::transfer::CancelToken;

const MIB: usize = 1 << 20;

fn opts(v: Value) -> BatchOptions {
    BatchOptions::from_json(Some(&v.to_string())).expect("options")
}

/// A tree of nested folders, empty files and awkward names; one file is
/// large enough to go in parts at 1 MiB. Answers relative path → bytes.
fn make_tree(root: &Path) -> HashMap<String, Vec<u8>> {
    let mut files = HashMap::new();
    let names = [
        ("a.txt", 1000),
        ("empty.bin", 0),
        ("with space/file name.txt", 4321),
        ("pct%20and#hash/100% #1.txt", 77),
        ("中文目录/照片.jpg", 20_000),
        ("emoji 😀/🎉 party.png", 3000),
        ("deep/a/b/c/d/leaf.dat", 1),
        ("deep/a/empty too.txt", 0),
        ("big/large.bin", 2 * MIB + MIB / 2),
    ];
    for (seed, (rel, len)) in (1..).zip(names) {
        files.insert(rel.to_string(), test_bytes(len, seed));
    }
    for i in 0..20 {
        files.insert(
            format!("many/f{i:02}.bin"),
            test_bytes(500 + i * 37, 100 + i as u64),
        );
    }
    for (rel, data) in &files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    std::fs::create_dir_all(root.join("an empty folder")).unwrap();
    files
}

fn get_url(env: &TestEnv, url: &str) -> Vec<u8> {
    env.client
        .run(async {
            let r = env.client.http().get(url).send().await.expect("GET");
            assert_eq!(r.status().as_u16(), 200, "GET {url}");
            r.bytes().await.expect("body").to_vec()
        })
        .unwrap()
}

/// The answer text as JSON; the text must be one valid document.
fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("the answer is valid JSON")
}

fn by_path(v: &Value) -> HashMap<String, Value> {
    v["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| (r["path"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

/// Runs a folder upload, recording progress calls.
fn upload_dir(
    env: &TestEnv,
    local: &Path,
    remote: &str,
    o: &BatchOptions,
    cancel: Option<&CancelToken>,
) -> (Value, Vec<(u64, Option<u64>)>) {
    let mut calls = Vec::new();
    let mut cb = |sent: u64, total: Option<u64>| {
        calls.push((sent, total));
        true
    };
    let policy = env.policy(json!({}));
    let v = batch::upload_dir(
        &env.client,
        &policy,
        local,
        remote,
        o,
        Some(&mut cb),
        None,
        cancel,
    )
    .expect("the call runs");
    (parse(&v), calls)
}

fn check_progress(calls: &[(u64, Option<u64>)], total: u64) {
    for w in calls.windows(2) {
        assert!(w[1].0 >= w[0].0, "progress went backwards: {w:?}");
    }
    assert_eq!(
        calls.last(),
        Some(&(total, Some(total))),
        "ends on the total"
    );
}

#[test]
fn tree_is_byte_exact_and_skip_md5_sends_only_what_changed() {
    let env = TestEnv::start();
    let local = tempfile::tempdir().unwrap();
    let files = make_tree(local.path());
    let total: u64 = files.values().map(|d| d.len() as u64).sum();
    let o = opts(json!({"part_size": MIB}));

    let (v, calls) = upload_dir(&env, local.path(), "/up", &o, None);
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["files"], files.len());
    assert_eq!(v["uploaded"], files.len());
    assert_eq!(
        (v["skipped"].as_u64(), v["failed"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(v["bytes"], total);
    check_progress(&calls, total);
    let results = by_path(&v);
    assert_eq!(results.len(), files.len());
    for (rel, data) in &files {
        let r = &results[rel];
        assert_eq!(r["status"], "uploaded", "{r}");
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        assert_eq!(r["name"], name);
        assert_eq!(
            r["dir"],
            format!("/up/{parent}").trim_end_matches('/'),
            "{r}"
        );
        assert_eq!(r["md5"], md5_hex(data), "{r}");
        let got = get_url(&env, r["url"].as_str().unwrap());
        assert!(got == *data, "{rel} is byte-exact from its url");
    }
    assert_eq!(results["big/large.bin"]["multipart"], true);
    assert_eq!(results["big/large.bin"]["parts"], 3);

    // Again with skip md5: nothing is sent, nothing changes on the server.
    let before = env
        .client
        .run(env.client.file_get(NS, "/up/中文目录", "照片.jpg"))
        .unwrap()
        .unwrap();
    let md5 = opts(json!({"part_size": MIB, "skip": "md5"}));
    let (v, calls) = upload_dir(&env, local.path(), "/up", &md5, None);
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(
        (v["uploaded"].as_u64(), v["skipped"].as_u64()),
        (Some(0), Some(files.len() as u64))
    );
    assert_eq!(
        (v["bytes"].as_u64(), v["attempts"].as_u64()),
        (Some(0), Some(0)),
        "{v}"
    );
    check_progress(&calls, total);
    let after = env
        .client
        .run(env.client.file_get(NS, "/up/中文目录", "照片.jpg"))
        .unwrap()
        .unwrap();
    assert_eq!(before["modify_time"], after["modify_time"]);

    // One file changes, same size: skip size keeps it, skip md5 sends it alone.
    let changed = test_bytes(20_000, 999);
    std::fs::write(local.path().join("中文目录/照片.jpg"), &changed).unwrap();
    let size = opts(json!({"skip": "size"}));
    let (v, _) = upload_dir(&env, local.path(), "/up", &size, None);
    assert_eq!(v["uploaded"], 0, "same size: skipped by size");
    let (v, _) = upload_dir(&env, local.path(), "/up", &md5, None);
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(
        (v["uploaded"].as_u64(), v["skipped"].as_u64()),
        (Some(1), Some(files.len() as u64 - 1))
    );
    assert_eq!(v["bytes"], 20_000);
    let r = &by_path(&v)["中文目录/照片.jpg"];
    assert_eq!(r["status"], "uploaded");
    assert!(get_url(&env, r["url"].as_str().unwrap()) == changed);
}

#[test]
fn filters_dry_run_links_and_fifos() {
    let env = TestEnv::start();
    let local = tempfile::tempdir().unwrap();
    let r = local.path();
    std::fs::create_dir_all(r.join("sub")).unwrap();
    std::fs::write(r.join("keep.jpg"), b"jpg").unwrap();
    std::fs::write(r.join("sub/keep2.jpg"), b"jpg2").unwrap();
    std::fs::write(r.join("sub/drop.tmp.jpg"), b"x").unwrap();
    std::fs::write(r.join("notes.txt"), b"txt").unwrap();
    std::os::unix::fs::symlink(r.join("keep.jpg"), r.join("link.jpg")).unwrap();
    let fifo = std::ffi::CString::new(r.join("pipe.jpg").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);

    let o = opts(json!({"include": ["*.jpg"], "exclude": ["*.tmp.jpg"], "dry_run": true}));
    let (v, _) = upload_dir(&env, r, "/f", &o, None);
    let res = by_path(&v);
    assert_eq!(v["code"], 200, "the FIFO is skipped, not waited on: {v}");
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["would_upload"], 2, "{v}");
    assert_eq!(res["keep.jpg"]["status"], "would_upload");
    assert_eq!(res["link.jpg"]["status"], "skipped");
    assert!(res["link.jpg"]["reason"]
        .as_str()
        .unwrap()
        .contains("follow_symlinks"));
    assert_eq!(res["pipe.jpg"]["status"], "skipped");
    assert!(
        res["pipe.jpg"]["reason"]
            .as_str()
            .unwrap()
            .contains("a FIFO: only regular files"),
        "{v}"
    );
    assert!(!res.contains_key("notes.txt") && !res.contains_key("sub/drop.tmp.jpg"));
    assert!(
        !transfer_stored(&env, "/f", "keep.jpg"),
        "a dry run sends nothing"
    );

    // For real, following links: the FIFO alone fails, the rest arrive.
    std::fs::remove_file(r.join("pipe.jpg")).unwrap();
    let o = opts(json!({"include": ["*.jpg"], "exclude": ["*.tmp.jpg"], "follow_symlinks": true}));
    let (v, _) = upload_dir(&env, r, "/f", &o, None);
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["uploaded"], 3);
    assert_eq!(env.download("/f", "link.jpg"), b"jpg");
    assert_eq!(env.download("/f/sub", "keep2.jpg"), b"jpg2");
}

fn transfer_stored(env: &TestEnv, dir: &str, name: &str) -> bool {
    let v = env
        .client
        .run(env.client.file_exists(NS, dir, name))
        .unwrap()
        .unwrap();
    v["exist"] == true
}

fn faults(error_rate: f64, reset_rate: f64) -> wantu_server::FaultConfig {
    wantu_server::FaultConfig {
        error_rate,
        reset_rate,
        seed: Some(99),
        ..Default::default()
    }
}

/// 300 jobs: files (three of them multipart) and bytes in memory.
fn three_hundred_jobs(dir: &Path) -> (String, Vec<(String, String, Vec<u8>)>) {
    use base64::Engine;
    let mut jobs = Vec::new();
    let mut expect = Vec::new();
    for i in 0..300usize {
        let len = if i % 100 == 7 {
            2 * MIB + i
        } else {
            1 + (i * 7919) % 30_000
        };
        let data = test_bytes(len, 5000 + i as u64);
        let folder = format!("/batch/d{}", i % 10);
        let name = format!("f {i} #%.bin");
        if i % 3 == 0 {
            let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
            jobs.push(
                json!({"content_base64": b64, "dir": folder, "name": name, "meta": {"i": i}}),
            );
        } else {
            let p = dir.join(format!("src{i}.bin"));
            std::fs::write(&p, &data).unwrap();
            jobs.push(json!({"path": p, "dir": folder, "name": name}));
        }
        expect.push((folder, name, data));
    }
    (Value::Array(jobs).to_string(), expect)
}

#[test]
fn batch_of_300_survives_faults_and_fails_clearly_when_they_never_stop() {
    let env = TestEnv::start();
    let local = tempfile::tempdir().unwrap();
    let (jobs_json, expect) = three_hundred_jobs(local.path());
    let jobs = batch::parse_jobs(&jobs_json).unwrap();
    let policy = env.policy(json!({}));
    let o = opts(
        json!({"part_size": MIB, "backoff_base_ms": 5, "backoff_max_ms": 200, "max_attempts": 20}),
    );

    env.server().set_faults(faults(0.2, 0.05));
    let v = parse(
        &batch::upload_batch(&env.client, &policy, jobs.clone(), &o, None, None, None).unwrap(),
    );
    env.server().set_faults(faults(0.0, 0.0));
    assert_eq!(
        v["code"],
        200,
        "{}",
        &v.to_string()[..2000.min(v.to_string().len())]
    );
    assert_eq!(v["uploaded"], 300);
    assert!(
        v["retries"].as_u64().unwrap() > 30,
        "faults were retried: {}",
        v["retries"]
    );
    let results = v["results"].as_array().unwrap();
    for (i, (folder, name, data)) in expect.iter().enumerate() {
        assert_eq!(results[i]["index"], i, "sorted by index");
        assert!(env.download(folder, name) == *data, "job {i} byte-exact");
    }

    // Faults that never stop: every file fails, each with a clear error.
    env.server().set_faults(faults(1.0, 0.0));
    let o = opts(
        json!({"part_size": MIB, "backoff_base_ms": 1, "backoff_max_ms": 5, "max_attempts": 2}),
    );
    let renamed: Vec<_> = jobs
        .into_iter()
        .map(|mut j| {
            j.target.dir = Some("/never".into());
            j
        })
        .collect();
    let v =
        parse(&batch::upload_batch(&env.client, &policy, renamed, &o, None, None, None).unwrap());
    env.server().set_faults(faults(0.0, 0.0));
    assert_eq!(
        (v["code"].as_u64(), v["error"].as_str()),
        (Some(0), Some("FilesFailed"))
    );
    assert_eq!(
        (v["failed"].as_u64(), v["uploaded"].as_u64()),
        (Some(300), Some(0))
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("300 of 300 files failed"),
        "{}",
        v["message"]
    );
    for r in v["results"].as_array().unwrap() {
        assert_eq!(r["status"], "failed");
        assert_eq!(r["code"], 503, "{r}");
        assert!(
            r["message"].as_str().unwrap().contains("after 2 attempts"),
            "{r}"
        );
    }
    let listed = env
        .client
        .run(env.client.file_list_all(NS, "/never", 10))
        .unwrap();
    assert!(listed.map_or(true, |l| l["result"].as_array().unwrap().is_empty()));
}

#[test]
fn cancel_mid_folder_is_prompt_and_leaves_no_multipart_upload() {
    let env = TestEnv::start();
    let local = tempfile::tempdir().unwrap();
    for i in 0..6 {
        std::fs::write(
            local.path().join(format!("big{i}.bin")),
            test_bytes(6 * MIB, i),
        )
        .unwrap();
    }
    // Cancelled from another thread once a third of the bytes went out.
    let cancel = CancelToken::new();
    let trigger = cancel.clone();
    let mut triggered = None;
    let mut cb = |sent: u64, _total: Option<u64>| {
        if sent >= 12 * MIB as u64 && triggered.is_none() {
            let t = trigger.clone();
            std::thread::spawn(move || t.trigger()).join().unwrap();
            triggered = Some(std::time::Instant::now());
        }
        true
    };
    let o = opts(json!({"part_size": MIB, "concurrency": 4}));
    let policy = env.policy(json!({}));
    let v = batch::upload_dir(
        &env.client,
        &policy,
        local.path(),
        "/c",
        &o,
        Some(&mut cb),
        None,
        Some(&cancel),
    )
    .unwrap();
    let returned = std::time::Instant::now();
    let v = parse(&v);
    let triggered = triggered.expect("cancelled mid-way");
    let took = returned.duration_since(triggered);
    assert!(took < std::time::Duration::from_secs(3), "prompt: {took:?}");
    assert_eq!(
        (v["code"].as_u64(), v["error"].as_str()),
        (Some(0), Some("Cancelled")),
        "{v}"
    );
    assert!(v["uploaded"].as_u64().unwrap() < 6, "{v}");
    let mut checked = 0;
    for r in v["results"].as_array().unwrap() {
        if r["status"] == "uploaded" {
            continue;
        }
        assert_eq!(r["error"], "Cancelled", "{r}");
        let (Some(id), Some(up)) = (r["id"].as_str(), r["upload_id"].as_str()) else {
            continue;
        };
        checked += 1;
        let part = wantu::upload::Content::Bytes(bytes::Bytes::from(vec![1u8; 200_000]));
        let c = &env.client;
        let e = c
            .run(c.multipart_upload(&policy, id, up, 2, part, None))
            .unwrap()
            .unwrap_err();
        assert_eq!((e.code(), e.name()), (404, "NoSuchUpload"), "{e}");
        assert!(!transfer_stored(&env, "/c", r["name"].as_str().unwrap()));
    }
    assert!(checked > 0, "some multipart uploads were in flight: {v}");
}

/// Descriptors of this process open on `root` or inside it (Linux).
#[cfg(target_os = "linux")]
fn open_under(root: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter(|t| t.starts_with(root))
        .collect()
}

/// Nothing of a call outlives it: the size count and the walk run on the
/// blocking pool and hold the folders they read open, so a call that
/// returns while they still run keeps descriptors (on Windows, a folder
/// that cannot be removed). Before the fix, a call cancelled up front
/// returned at once and left its walks behind.
#[cfg(target_os = "linux")]
#[test]
fn a_returned_call_leaves_no_folder_open() {
    let env = TestEnv::start();
    let local = tempfile::tempdir().unwrap();
    for d in 0..50 {
        for f in 0..20 {
            let dir = local.path().join(format!("d{d}/e{}", f % 4));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("f{f}.txt")), b"x").unwrap();
        }
    }
    let root = std::fs::canonicalize(local.path()).unwrap();
    let cancel = CancelToken::new();
    cancel.trigger();
    for round in 0..30 {
        let (v, _) = upload_dir(&env, &root, "/open", &opts(json!({})), Some(&cancel));
        assert_eq!(v["error"], "Cancelled", "{v}");
        let open = open_under(&root);
        assert!(
            open.is_empty(),
            "round {round}: still open after the call: {open:?}"
        );
    }
    // And after a whole dry run (the count and the walk both finish).
    let (v, _) = upload_dir(&env, &root, "/open", &opts(json!({"dry_run": true})), None);
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(open_under(&root), Vec::<std::path::PathBuf>::new());
}

#[test]
fn bad_input_is_named() {
    let env = TestEnv::start();
    let policy = env.policy(json!({}));
    let o = BatchOptions::default();
    let missing = Path::new("/nonexistent/wantu-folder");
    let e =
        batch::upload_dir(&env.client, &policy, missing, "/", &o, None, None, None).unwrap_err();
    assert!(
        e.message().contains("`local_dir`") && e.message().contains("wantu-folder"),
        "{e}"
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    let e = batch::upload_dir(&env.client, &policy, file.path(), "/", &o, None, None, None)
        .unwrap_err();
    assert!(e.message().contains("is not a folder"), "{e}");
    let named = env.policy(json!({"name": "x.jpg"}));
    let dir = tempfile::tempdir().unwrap();
    let e =
        batch::upload_dir(&env.client, &named, dir.path(), "/", &o, None, None, None).unwrap_err();
    assert!(e.message().contains("\"name\""), "{e}");

    // A job whose file is missing fails alone.
    std::fs::write(dir.path().join("ok.txt"), b"ok").unwrap();
    let jobs = json!([
        {"path": dir.path().join("ok.txt"), "dir": "/j"},
        {"path": dir.path().join("gone.txt"), "dir": "/j"},
        {"path": "/dev/null", "dir": "/j"},
    ]);
    let jobs = batch::parse_jobs(&jobs.to_string()).unwrap();
    let v = parse(&batch::upload_batch(&env.client, &policy, jobs, &o, None, None, None).unwrap());
    assert_eq!(
        (v["uploaded"].as_u64(), v["failed"].as_u64()),
        (Some(1), Some(2)),
        "{v}"
    );
    let r = v["results"].as_array().unwrap();
    assert!(
        r[1]["message"].as_str().unwrap().contains("gone.txt"),
        "{}",
        r[1]
    );
    assert!(
        r[2]["message"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{}",
        r[2]
    );

    // Through the C surface: malformed jobs and options name themselves.
    use wantu::ffi::batch::{wantu_transfer_batch, wantu_upload_dir};
    let p = cs(&policy_json(json!({})));
    unsafe {
        let client = wantu::ffi::client::wantu_client_new(
            cs(AK).as_ptr(),
            cs(SK).as_ptr(),
            std::ptr::null(),
            cs(&env.base_url()).as_ptr(),
            cs(&env.base_url()).as_ptr(),
        );
        for (jobs, needle) in [("[{\"pth\":1}]", "`jobs_json`[0]"), ("{", "`jobs_json`")] {
            let j = cs(jobs);
            let v = take_json(wantu_transfer_batch(
                client,
                p.as_ptr(),
                j.as_ptr(),
                std::ptr::null(),
                None,
                std::ptr::null_mut(),
                std::ptr::null(),
            ));
            assert_error(&v, 0, "InvalidArgument", needle);
        }
        let v = take_json(wantu_transfer_batch(
            client,
            p.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            None,
            std::ptr::null_mut(),
            std::ptr::null(),
        ));
        assert_error(&v, 0, "InvalidArgument", "`jobs_json` is NULL");
        let d = cs(dir.path().to_str().unwrap());
        let bad = cs(r#"{"skip":"always"}"#);
        let v = take_json(wantu_upload_dir(
            client,
            p.as_ptr(),
            d.as_ptr(),
            std::ptr::null(),
            bad.as_ptr(),
            None,
            std::ptr::null_mut(),
            std::ptr::null(),
        ));
        assert_error(&v, 0, "InvalidArgument", "`options_json`");
        let v = take_json(wantu_upload_dir(
            client,
            p.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            std::ptr::null(),
            None,
            std::ptr::null_mut(),
            std::ptr::null(),
        ));
        assert_error(&v, 0, "InvalidArgument", "`local_dir` is NULL");
        let v = take_json(wantu_upload_dir(
            client,
            p.as_ptr(),
            d.as_ptr(),
            cs("/c dir").as_ptr(),
            std::ptr::null(),
            None,
            std::ptr::null_mut(),
            std::ptr::null(),
        ));
        assert_eq!(v["code"], 200, "{v}");
        assert_eq!(v["uploaded"], 1);
        wantu::ffi::client::wantu_client_free(client);
    }
}

/// A batch records each local file's modification time in its meta
/// (`wantu-mtime`, milliseconds); bytes in memory have none, and a job's
/// own value for the key wins.
#[test]
fn batch_records_file_modification_times() {
    use base64::Engine;
    let env = TestEnv::start();
    let dir = tempfile::tempdir().unwrap();
    let at = |ms: u64| std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    for (name, ms) in [("a.txt", 1_650_000_000_321u64), ("b.txt", 1_000)] {
        let p = dir.path().join(name);
        std::fs::write(&p, name).unwrap();
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(at(ms)).unwrap();
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(b"mem");
    let jobs = json!([
        {"path": dir.path().join("a.txt"), "dir": "/t"},
        {"path": dir.path().join("b.txt"), "dir": "/t", "meta": {"wantu-mtime": "5"}},
        {"content_base64": b64, "dir": "/t", "name": "m.txt"},
    ]);
    let jobs = batch::parse_jobs(&jobs.to_string()).unwrap();
    let policy = env.policy(json!({}));
    let o = opts(json!({}));
    let v = parse(&batch::upload_batch(&env.client, &policy, jobs, &o, None, None, None).unwrap());
    assert_eq!(v["uploaded"], 3, "{v}");
    let meta = |name: &str| {
        let f = env
            .client
            .run(env.client.file_get(NS, "/t", name))
            .unwrap()
            .unwrap();
        f["meta"].clone()
    };
    assert_eq!(meta("a.txt")["wantu-mtime"], "1650000000321");
    assert_eq!(meta("b.txt")["wantu-mtime"], "5");
    assert!(
        meta("m.txt").get("wantu-mtime").is_none(),
        "{}",
        meta("m.txt")
    );
}

#[test]
fn results_failed_keeps_only_failures_while_every_file_streams_out() {
    let env = TestEnv::start();
    let local = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    for i in 0..30 {
        let p = local.path().join(format!("s{i}.bin"));
        // Two sources are missing: those two files fail, the rest go.
        if i % 15 != 7 {
            std::fs::write(&p, test_bytes(100 + i, i as u64)).unwrap();
        }
        jobs.push(json!({"path": p, "dir": "/streamed", "name": format!("s{i}.bin")}));
    }
    let jobs = batch::parse_jobs(&Value::Array(jobs).to_string()).unwrap();
    let lines_path = local.path().join("results.jsonl");
    let o = opts(json!({"results": "failed", "results_file": lines_path}));
    let policy = env.policy(json!({}));
    let mut seen = Vec::new();
    let mut on_file = |r: &serde_json::Map<String, Value>| {
        seen.push((
            r["path"].as_str().unwrap_or_default().to_string(),
            r["status"].clone(),
        ))
    };
    let v = parse(
        &batch::upload_batch(
            &env.client,
            &policy,
            jobs,
            &o,
            None,
            Some(&mut on_file),
            None,
        )
        .unwrap(),
    );
    assert_eq!(
        (v["uploaded"].as_u64(), v["failed"].as_u64()),
        (Some(28), Some(2)),
        "{v}"
    );
    let kept = v["results"].as_array().expect("results");
    assert_eq!(kept.len(), 2, "only the failures: {v}");
    assert!(kept.iter().all(|r| r["status"] == "failed"), "{v}");
    assert_eq!(v.get("failed_truncated"), None);
    assert_eq!(seen.len(), 30, "every file reaches the function: {seen:?}");
    assert_eq!(seen.iter().filter(|(_, s)| s == "uploaded").count(), 28);
    let text = std::fs::read_to_string(&lines_path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 30, "one JSON line per file: {text}");

    // A results file that cannot be created refuses the call up front.
    let o = opts(json!({"results_file": local.path().join("no/such/r.jsonl")}));
    let jobs =
        batch::parse_jobs(r#"[{"content_base64": "aGk=", "dir": "/streamed", "name": "x"}]"#)
            .unwrap();
    let e = batch::upload_batch(&env.client, &policy, jobs, &o, None, None, None).unwrap_err();
    assert!(e.message().contains("results_file"), "{e}");
}
