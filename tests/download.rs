//! Downloads against wantu-server: a tree round trip byte for byte, skip
//! rules, parallel ranges, resume, cancel, faults and bad input.

mod common;
mod download_util;

use common::*;
use download_util::*;
use serde_json::json;
use std::collections::BTreeMap;

/// Uploads a tree with awkward names, empty files and one multi-range
/// file; answers what was stored (relative path → bytes).
fn put_tree(env: &DownloadEnv, root: &str) -> BTreeMap<String, Vec<u8>> {
    let files: Vec<(&str, &str, Vec<u8>)> = vec![
        ("", "top.txt", b"top".to_vec()),
        ("", "empty", Vec::new()),
        ("a b", "with space.bin", test_bytes(5000, 1)),
        ("a b/100% #1", "h#sh%25.txt", test_bytes(70, 2)),
        ("a b/100% #1", "empty too", Vec::new()),
        ("中文", "文件.jpg", test_bytes(333, 3)),
        ("中文/😀", "emoji 😀.png", test_bytes(1234, 4)),
        ("deep/er/still", "big.bin", test_bytes(700_000, 5)),
    ];
    let mut want = BTreeMap::new();
    for (dir, name, data) in files {
        env.put(&format!("{root}/{dir}"), name, &data);
        let rel = if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        };
        want.insert(rel, data);
    }
    want
}

#[test]
fn a_tree_comes_back_byte_for_byte_and_skip_md5_fetches_nothing() {
    let env = DownloadEnv::start();
    let want = put_tree(&env, "/tree");
    let out = tempfile::tempdir().unwrap();
    let local = out.path().join("copy");
    // Small ranges so that big.bin goes in 7 parallel ranges.
    let v = download_dir(
        &env,
        "/tree",
        &local,
        json!({"part_size": 102400, "concurrency": 4}),
    );
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["downloaded"], want.len() as u64, "{v}");
    assert_eq!(
        (v["skipped"].as_u64(), v["failed"].as_u64()),
        (Some(0), Some(0))
    );
    let bytes: usize = want.values().map(Vec::len).sum();
    assert_eq!(v["bytes"], bytes as u64);
    assert_eq!(read_tree(&local), want, "every byte of every file");
    let big = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "deep/er/still/big.bin")
        .unwrap();
    assert_eq!(
        (big["parts"].as_u64(), big["fetched_parts"].as_u64()),
        (Some(7), Some(7))
    );
    let ranged = env
        .file_requests()
        .iter()
        .filter(|r| r.range.is_some())
        .count();
    assert_eq!(
        ranged, 7,
        "big.bin in ranges, the small files in plain GETs"
    );

    // Nothing left behind but the files themselves (no temporary names).
    assert!(!read_tree(&local).keys().any(|k| k.contains("wantu-part")));

    env.fwd.clear();
    let v = download_dir(&env, "/tree", &local, json!({"skip": "md5"}));
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(
        (v["downloaded"].as_u64(), v["skipped"].as_u64()),
        (Some(0), Some(want.len() as u64))
    );
    assert!(
        env.file_requests().is_empty(),
        "skip md5: no file was fetched"
    );

    // Same size, other bytes: `size` keeps it, `md5` fetches it again.
    let victim = local.join("a b/with space.bin");
    std::fs::write(&victim, test_bytes(5000, 99)).unwrap();
    let v = download_dir(&env, "/tree", &local, json!({"skip": "size"}));
    assert_eq!(v["downloaded"], 0, "{v}");
    let v = download_dir(&env, "/tree", &local, json!({"skip": "md5"}));
    assert_eq!(v["downloaded"], 1, "{v}");
    assert_eq!(std::fs::read(&victim).unwrap(), want["a b/with space.bin"]);
    let done: Vec<_> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "downloaded")
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(done, vec!["a b/with space.bin"]);
}

#[test]
fn globs_and_dry_run_select_files() {
    let env = DownloadEnv::start();
    put_tree(&env, "/g");
    let out = tempfile::tempdir().unwrap();
    let v = download_dir(
        &env,
        "/g",
        out.path(),
        json!({"include": ["*.jpg", "*.png", "top.txt"], "exclude": ["中文/😀/*"], "dry_run": true}),
    );
    assert_eq!(v["code"], 200, "{v}");
    let paths: Vec<_> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].clone())
        .collect();
    assert_eq!(paths, vec![json!("top.txt"), json!("中文/文件.jpg")], "{v}");
    assert_eq!(v["results"][0]["status"], "would_download");
    // Counted apart from real downloads, under the same word.
    assert_eq!(
        (v["downloaded"].clone(), v["would_download"].clone()),
        (json!(0), json!(2)),
        "{v}"
    );
    assert!(read_tree(out.path()).is_empty(), "a dry run writes nothing");
    assert!(env.file_requests().is_empty());
}

#[test]
fn a_large_file_goes_in_parallel_ranges_with_byte_progress() {
    let env = DownloadEnv::start();
    let data = test_bytes(3 << 20, 7);
    env.put("/big", "three.bin", &data);
    let out = tempfile::tempdir().unwrap();
    let local = out.path().join("three.bin");
    let (v, calls) = download_file(
        &env,
        "/big",
        "three.bin",
        &local,
        json!({"part_size": 262144, "concurrency": 4}),
        |_, _| false,
    );
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(std::fs::read(&local).unwrap(), data);
    assert_eq!(
        (v["parts"].as_u64(), v["size"].as_u64()),
        (Some(12), Some(3 << 20))
    );
    assert_eq!(v["md5"], md5_hex(&data));
    for w in calls.windows(2) {
        assert!(w[1].0 >= w[0].0, "progress went backwards: {w:?}");
    }
    assert_eq!(calls.last().unwrap(), &(3 << 20, Some(3 << 20)));
    let ranges: Vec<_> = env.file_requests().iter().filter_map(|r| r.range).collect();
    assert_eq!(ranges.len(), 12, "one request per range");
    let mut covered: Vec<_> = ranges.clone();
    covered.sort();
    for (i, (a, b)) in covered.iter().enumerate() {
        assert_eq!((*a, *b), (i as u64 * 262144, (i as u64 + 1) * 262144 - 1));
    }
}

/// A token triggered before the call: nothing is fetched, whatever the
/// size (a one-range file used to slip through before the first check).
#[test]
fn a_triggered_token_stops_the_call_before_anything_is_fetched() {
    let env = DownloadEnv::start();
    env.put("/t", "small.txt", b"small");
    let out = tempfile::tempdir().unwrap();
    let token = wantu::transfer::CancelToken::new();
    token.trigger();
    let local = out.path().join("small.txt");
    let opts = wantu::download::DownloadOptions::default();
    let v = wantu::download::download_file(
        &env.client,
        NS,
        "/t",
        "small.txt",
        &local,
        opts.clone(),
        None,
        Some(&token),
    );
    assert_eq!(v["error"], "Cancelled", "{v}");
    let v = wantu::download::download_dir(
        &env.client,
        NS,
        "/t",
        out.path(),
        opts,
        None,
        None,
        Some(&token),
    );
    assert_eq!(v["error"], "Cancelled", "{v}");
    assert!(read_tree(out.path()).is_empty());
    assert!(env.file_requests().is_empty(), "nothing was fetched");
}

#[test]
fn cancel_is_prompt_and_leaves_nothing_under_the_final_name() {
    let env = DownloadEnv::start();
    let data = test_bytes(24 << 20, 8);
    env.put("/big", "c.bin", &data);
    let out = tempfile::tempdir().unwrap();
    let local = out.path().join("c.bin");
    let mut cancelled_at = None;
    let (v, _) = download_file(
        &env,
        "/big",
        "c.bin",
        &local,
        json!({"part_size": 1048576, "concurrency": 2}),
        |done, _| {
            let stop = done >= 4 << 20;
            if stop && cancelled_at.is_none() {
                cancelled_at = Some(std::time::Instant::now());
            }
            stop
        },
    );
    let took = cancelled_at.expect("cancelled mid-way").elapsed();
    assert_eq!(v["error"], "Cancelled", "{v}");
    assert!(
        took < std::time::Duration::from_secs(2),
        "cancel took {took:?}"
    );
    assert!(!local.exists(), "no partial file under the final name");
    assert_eq!(v["partial_kept"], true, "kept for a resume: {v}");

    // resume off: nothing at all is left.
    let (v, _) = download_file(
        &env,
        "/big",
        "c.bin",
        &local,
        json!({"part_size": 1048576, "concurrency": 2, "resume": false}),
        |done, _| done >= 4 << 20,
    );
    assert_eq!(v["error"], "Cancelled", "{v}");
    assert!(!local.exists());
    let left: Vec<_> = read_tree(out.path()).into_keys().collect();
    assert!(
        left.is_empty() || left.iter().all(|k| k.starts_with(".c.bin")),
        "{left:?}"
    );
}

/// The network dies mid-download (the forwarder cuts one connection and
/// no retry is allowed): the finished ranges are kept, and the next call
/// fetches exactly the others.
#[test]
fn an_interrupted_download_refetches_only_the_ranges_in_flight() {
    let env = DownloadEnv::start();
    let ps = 102_400u64;
    let data = test_bytes(40 * ps as usize, 9);
    env.put("/r", "resume.bin", &data);
    let out = tempfile::tempdir().unwrap();
    let local = out.path().join("resume.bin");
    // The connection of the sixth request dies half-way through its answer.
    env.fwd.cut_requests(&[(5, 50_000)]);
    let opts = json!({"part_size": ps, "concurrency": 4, "max_attempts": 1});
    let (v, _) = download_file(&env, "/r", "resume.bin", &local, opts, |_, _| false);
    assert_eq!(v["error"], "ConnectError", "{v}");
    assert_eq!(v["partial_kept"], true, "{v}");
    assert!(!local.exists(), "no partial file under the final name");
    let first: Vec<u64> = env
        .file_requests()
        .iter()
        .map(|r| r.range.unwrap().0 / ps)
        .collect();
    // The sidecar names the finished ranges.
    let sidecar = out.path().join(".resume.bin.wantu-part.json");
    let sidecar: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sidecar).unwrap()).unwrap();
    let mut done = std::collections::BTreeSet::new();
    for run in sidecar["done"].as_array().unwrap() {
        for i in run[0].as_u64().unwrap()..=run[1].as_u64().unwrap() {
            done.insert(i);
        }
    }
    assert!(!done.is_empty(), "some ranges were finished: {done:?}");
    let in_flight: Vec<u64> = first
        .iter()
        .copied()
        .filter(|i| !done.contains(i))
        .collect();
    assert!(
        !in_flight.is_empty() && in_flight.len() <= 4,
        "in flight: {in_flight:?}"
    );

    env.fwd.clear();
    let opts = json!({"part_size": ps, "concurrency": 4});
    let (v, _) = download_file(&env, "/r", "resume.bin", &local, opts, |_, _| false);
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["checkpoint"], "resumed");
    assert_eq!(v["resumed_parts"], done.len() as u64);
    assert_eq!(
        std::fs::read(&local).unwrap(),
        data,
        "byte-exact after the resume"
    );
    let second: std::collections::BTreeSet<u64> = env
        .file_requests()
        .iter()
        .map(|r| r.range.unwrap().0 / ps)
        .collect();
    let expected: std::collections::BTreeSet<u64> = (0..40).filter(|i| !done.contains(i)).collect();
    assert_eq!(second, expected, "exactly the unfinished ranges");
    assert_eq!(env.file_requests().len(), expected.len(), "each once");
    let refetched = second.iter().filter(|i| first.contains(i)).count();
    assert_eq!(
        refetched,
        in_flight.len(),
        "only the ranges in flight were fetched twice"
    );
    assert!(
        !out.path().join(".resume.bin.wantu-part.json").exists(),
        "sidecar removed"
    );
    assert!(
        !out.path().join(".resume.bin.wantu-part").exists(),
        "temporary removed"
    );
}

#[test]
fn a_changed_remote_file_makes_the_resume_start_over() {
    let env = DownloadEnv::start();
    let ps = 102_400usize;
    env.put("/r", "v.bin", &test_bytes(10 * ps, 10));
    let out = tempfile::tempdir().unwrap();
    let local = out.path().join("v.bin");
    env.fwd.cut_requests(&[(3, 50_000)]);
    let opts = json!({"part_size": ps, "concurrency": 1, "max_attempts": 1});
    let (v, _) = download_file(&env, "/r", "v.bin", &local, opts, |_, _| false);
    assert_eq!(v["error"], "ConnectError", "{v}");
    let newer = test_bytes(10 * ps, 11);
    env.put("/r", "v.bin", &newer);
    let opts = json!({"part_size": ps, "concurrency": 1});
    let (v, _) = download_file(&env, "/r", "v.bin", &local, opts, |_, _| false);
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["checkpoint"], "stale");
    assert_eq!(v["resumed_parts"], 0);
    assert_eq!(std::fs::read(&local).unwrap(), newer);
}

#[test]
fn cut_connections_and_injected_faults_still_give_exact_bytes() {
    let env = DownloadEnv::start();
    let want = put_tree(&env, "/f");
    // Manage calls (metadata, listings): 5xx and resets. Delivery: the
    // first connections are cut mid-answer.
    env.server.set_faults(wantu_server::FaultConfig {
        error_rate: 0.2,
        reset_rate: 0.1,
        seed: Some(3),
        ..Default::default()
    });
    env.fwd
        .cut_requests(&[(0, 400), (2, 5000), (3, 60_000), (5, 90_000), (6, 700)]);
    let out = tempfile::tempdir().unwrap();
    let v = download_dir(
        &env,
        "/f",
        out.path(),
        json!({"part_size": 102400, "concurrency": 3, "backoff_base_ms": 5, "backoff_max_ms": 50}),
    );
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(read_tree(out.path()), want);
    let retries: u64 = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["retries"].as_u64())
        .sum();
    assert!(retries >= 1, "cut answers were retried: {v}");

    // A single file through cuts (a fresh client: no pooled connection):
    // retries continue after the bytes received.
    let env = DownloadEnv::start();
    let data = test_bytes(600_000, 12);
    env.put("/f", "one.bin", &data);
    env.fwd.cut_requests(&[(0, 50_000), (1, 50_000)]);
    let local = out.path().join("one.bin");
    let (v, _) = download_file(
        &env,
        "/f",
        "one.bin",
        &local,
        json!({"concurrency": 1}),
        |_, _| false,
    );
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(std::fs::read(&local).unwrap(), data);
    let reqs = env.file_requests();
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    assert!(reqs[0].range.is_none(), "first a plain GET");
    let (a, b) = reqs[1].range.expect("then the rest as a range");
    assert!(a > 0 && b == data.len() as u64 - 1, "continued at {a}");
}

/// The many-files fault test, download side: 300 files in 6 folders with 20%
/// injected 5xx and 10% resets on the manage calls (listings) and every
/// fifth delivery cut mid-answer all arrive byte-exact; when every
/// delivery is cut, every file is listed as failed with a clear error and
/// nothing is left under a final name.
#[test]
fn three_hundred_files_survive_faults_and_total_faults_fail_every_file() {
    let env = DownloadEnv::start();
    let mut want = BTreeMap::new();
    for i in 0..300usize {
        let (dir, name) = (format!("d{}", i % 6), format!("f{i:03}.bin"));
        let data = test_bytes(500 + i * 37, 100 + i as u64);
        env.put(&format!("/many/{dir}"), &name, &data);
        want.insert(format!("{dir}/{name}"), data);
    }
    env.server.set_faults(wantu_server::FaultConfig {
        error_rate: 0.2,
        reset_rate: 0.1,
        seed: Some(9),
        ..Default::default()
    });
    env.fwd.cut_every(Some((5, 4000)));
    let out = tempfile::tempdir().unwrap();
    let fast = json!({"backoff_base_ms": 5, "backoff_max_ms": 50});
    let v = download_dir(&env, "/many", out.path(), fast.clone());
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(
        (v["downloaded"].as_u64(), v["failed"].as_u64()),
        (Some(300), Some(0))
    );
    assert_eq!(read_tree(out.path()), want, "every file byte-exact");
    let retries: u64 = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["retries"].as_u64())
        .sum();
    assert!(
        retries >= 50,
        "a fifth of the deliveries were retried: {retries}"
    );

    env.server.set_faults(wantu_server::FaultConfig::default());
    env.fwd.cut_every(Some((1, 100)));
    let out = tempfile::tempdir().unwrap();
    let mut opts = fast;
    opts["max_attempts"] = json!(2);
    let v = download_dir(&env, "/many", out.path(), opts);
    assert_eq!(
        (v["code"].as_u64(), v["error"].as_str()),
        (Some(0), Some("SomeFilesFailed")),
        "{v}"
    );
    assert_eq!(
        (v["downloaded"].as_u64(), v["failed"].as_u64()),
        (Some(0), Some(300))
    );
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 300);
    for r in results {
        assert_eq!(
            (&r["code"], &r["status"]),
            (&json!(0), &json!("failed")),
            "{r}"
        );
        let message = r["message"].as_str().unwrap_or("");
        let path = r["path"].as_str().unwrap();
        let name = path.rsplit('/').next().unwrap();
        assert!(
            r["error"].as_str().is_some_and(|e| !e.is_empty()) && message.contains(name),
            "a clear error naming the file: {r}"
        );
    }
    assert!(
        read_tree(out.path()).is_empty(),
        "no file, partial or final, was left"
    );
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let env = DownloadEnv::start();
    env.put("/x", "f.txt", b"hello");
    let out = tempfile::tempdir().unwrap();

    let v = download_dir(&env, "/no/such", &out.path().join("d"), json!({}));
    assert_error(
        &v,
        0,
        "InvalidArgument",
        "`remote_dir` /no/such does not exist",
    );
    assert!(!out.path().join("d").exists());

    let (v, _) = download_file(
        &env,
        "/x",
        "f.txt",
        &out.path().join("missing/f.txt"),
        json!({}),
        |_, _| false,
    );
    assert_error(&v, 0, "IoError", "does not exist");
    let (v, _) = download_file(&env, "/x", "f.txt", out.path(), json!({}), |_, _| false);
    assert_error(&v, 0, "InvalidArgument", "is a folder");
    let (v, _) = download_file(
        &env,
        "/x",
        "nope",
        &out.path().join("n"),
        json!({}),
        |_, _| false,
    );
    assert_eq!(v["code"], 404, "{v}");
    assert_eq!(v["error"], "FileNotExist", "{v}");
    let (v, _) = download_file(
        &env,
        "/x",
        "f.txt",
        &out.path().join("f"),
        json!({"skip": "md5"}),
        |_, _| false,
    );
    assert_error(&v, 0, "InvalidArgument", "`skip`");

    let file = out.path().join("plain");
    std::fs::write(&file, b"x").unwrap();
    let v = download_dir(&env, "/x", &file, json!({}));
    assert_error(&v, 0, "InvalidArgument", "is not a folder");
    let v = download_dir(&env, "/x", out.path(), json!({"include": ["a["]}));
    assert_error(&v, 0, "InvalidArgument", "`include`");
    assert_eq!(read_tree(out.path()).len(), 1, "only our own file is there");
    assert!(env.file_requests().is_empty());
}

#[test]
fn unsafe_remote_names_are_refused_per_file() {
    let env = DownloadEnv::start();
    env.put("/u", "ok.txt", b"fine");
    env.put("/u", "..\\evil.txt", b"no");
    let out = tempfile::tempdir().unwrap();
    let local = out.path().join("in");
    let v = download_dir(&env, "/u", &local, json!({}));
    assert_eq!(v["code"], 0, "{v}");
    assert_eq!(v["error"], "SomeFilesFailed");
    assert_eq!(
        (v["downloaded"].as_u64(), v["failed"].as_u64()),
        (Some(1), Some(1))
    );
    let bad = &v["results"][0];
    assert_eq!(bad["path"], "..\\evil.txt");
    assert!(
        bad["message"].as_str().unwrap().contains("path separator"),
        "{bad}"
    );
    assert_eq!(
        read_tree(out.path()).into_keys().collect::<Vec<_>>(),
        vec!["in/ok.txt"]
    );
}

#[test]
fn a_symlinked_folder_in_the_way_is_not_followed() {
    let env = DownloadEnv::start();
    env.put("/s/sub", "f.txt", b"data");
    let out = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let local = out.path().join("in");
    std::fs::create_dir(&local).unwrap();
    std::os::unix::fs::symlink(outside.path(), local.join("sub")).unwrap();
    let v = download_dir(&env, "/s", &local, json!({}));
    assert_eq!(v["failed"], 2, "the folder and its file: {v}");
    assert_eq!(v["results"][1]["path"], "sub/f.txt");
    assert!(
        v["results"][1]["message"]
            .as_str()
            .unwrap()
            .contains("in the way"),
        "{v}"
    );
    assert!(
        read_tree(outside.path()).is_empty(),
        "nothing written through the link"
    );
}

#[test]
fn a_tree_larger_than_what_is_held_streams_its_results() {
    // More files in one folder than the call holds listed-but-not-started,
    // so the listing has to wait for the downloads; every file's result
    // goes out as it ends while the answer keeps only the failures.
    let env = DownloadEnv::start();
    let mut want = std::collections::BTreeMap::new();
    for i in 0..2300usize {
        let name = format!("f{i:04}.txt");
        let data = format!("file {i}").into_bytes();
        env.put("/wide/flat", &name, &data);
        want.insert(format!("flat/{name}"), data);
    }
    env.put("/wide/other/deeper", "x.txt", b"x");
    want.insert("other/deeper/x.txt".into(), b"x".to_vec());
    let out = tempfile::tempdir().unwrap();
    let lines = out.path().join("results.jsonl");
    let local = out.path().join("tree");
    let opts = wantu::download::DownloadOptions::from_json(Some(
        &json!({"results": "failed", "results_file": lines}).to_string(),
    ))
    .unwrap();
    let mut seen = 0usize;
    let mut on_file = |r: &serde_json::Map<String, serde_json::Value>| {
        assert_eq!(r["status"], "downloaded", "{r:?}");
        seen += 1;
    };
    let mut totals = Vec::new();
    let mut progress = |done: u64, total: Option<u64>| {
        totals.push((done, total));
        true
    };
    let v = wantu::download::download_dir(
        &env.client,
        NS,
        "/wide",
        &local,
        opts,
        Some(&mut progress),
        Some(&mut on_file),
        None,
    );
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["downloaded"], 2301, "{v}");
    assert_eq!(
        v["results"].as_array().map(Vec::len),
        Some(0),
        "only failures kept"
    );
    assert_eq!(seen, 2301);
    assert_eq!(read_tree(&local), want, "every file byte-exact");
    let text = std::fs::read_to_string(&lines).unwrap();
    assert_eq!(text.lines().count(), 2301);
    let bytes: u64 = want.values().map(|d| d.len() as u64).sum();
    assert_eq!(
        totals.last(),
        Some(&(bytes, Some(bytes))),
        "ends on the total"
    );

    // The one-file call refuses the folder-only options by name.
    let o = wantu::download::DownloadOptions::from_json(Some(r#"{"results":"failed"}"#)).unwrap();
    let v = wantu::download::download_file(
        &env.client,
        NS,
        "/wide/flat",
        "f0001.txt",
        &out.path().join("one"),
        o,
        None,
        None,
    );
    assert!(v["message"].as_str().unwrap().contains("`results`"), "{v}");
}
