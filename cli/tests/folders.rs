//! `cp -r` both ways, copies from the service, and `sync` in both
//! directions, each checked against the server's state and the local disk.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Per-file lines (without the summary) by `path`, and the summary.
fn lines_by_path(stdout: &str) -> (BTreeMap<String, Value>, Value) {
    let mut lines = json_lines(stdout);
    let summary = lines.pop().expect("a summary line");
    assert_eq!(summary["summary"], true, "{stdout}");
    let by_path = lines
        .into_iter()
        .map(|l| (l["path"].as_str().unwrap().to_string(), l))
        .collect();
    (by_path, summary)
}

/// The `status` of every per-file line, by path.
fn statuses(stdout: &str) -> BTreeMap<String, String> {
    lines_by_path(stdout)
        .0
        .into_iter()
        .map(|(p, l)| (p, l["status"].as_str().unwrap().to_string()))
        .collect()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn cp_r_up_and_back_down_byte_exact() {
    let env = Env::start();
    let files = [
        ("tree/a.txt", bytes(1000, 1)),
        ("tree/sub/b.bin", bytes(700_000, 2)),
        ("tree/sub/deep/c.bin", bytes(5, 3)),
    ];
    for (rel, data) in &files {
        env.write(rel, data);
    }

    let (code, out, err) = run(env.wantu().args([
        "--json",
        "cp",
        "-r",
        "--part-size",
        "100KiB",
        "tree",
        &remote("/up/"),
    ]));
    assert_eq!(code, 0, "{err}");
    let (lines, summary) = lines_by_path(&out);
    assert_eq!(lines.len(), 3, "{out}");
    for (rel, _) in &files {
        let line = &lines[*rel];
        assert_eq!(line["status"], "uploaded", "{line}");
        assert_eq!(line["to"], remote(&format!("/up/{rel}")));
    }
    assert_eq!(lines["tree/sub/b.bin"]["multipart"], true);
    assert_eq!(
        (summary["uploaded"].as_u64(), summary["failed"].as_u64()),
        (Some(3), Some(0))
    );
    for (rel, data) in &files {
        let (dir, name) = rel.rsplit_once('/').unwrap();
        assert_eq!(&env.download(&format!("/up/{dir}"), name), data, "{rel}");
    }

    // The same command again finds everything there: nothing is sent.
    let (code, out, err) = run(env
        .wantu()
        .args(["--json", "cp", "-r", "tree", &remote("/up/")]));
    assert_eq!(code, 0, "{err}");
    assert!(statuses(&out).values().all(|a| a == "skipped"), "{out}");

    // Back down into a folder that does not exist yet: it lands in back/tree.
    let (code, out, err) =
        run(env
            .wantu()
            .args(["--json", "cp", "-r", &remote("/up/tree/"), "back"]));
    assert_eq!(code, 0, "{err}");
    let (lines, summary) = lines_by_path(&out);
    assert_eq!(summary["downloaded"], 3, "{out}");
    for (rel, data) in &files {
        let line = &lines[&remote(&format!("/up/{rel}"))];
        assert_eq!(line["status"], "downloaded", "{line}");
        // Local paths are shown as given: relative to the working folder.
        assert_eq!(line["to"], format!("back/{rel}"));
        assert_eq!(&read(&env.local().join("back").join(rel)), data, "{rel}");
    }

    // One file to a file name, two into a folder (created for the /).
    let (code, _, err) = run(env
        .wantu()
        .args(["cp", &remote("/up/tree/sub/b.bin"), "copy.bin"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(read(&env.local().join("copy.bin")), files[1].1);
    let (code, _, err) = run(env.wantu().args([
        "cp",
        &remote("/up/tree/a.txt"),
        &remote("/up/tree/sub/deep/c.bin"),
        "two/",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(read(&env.local().join("two/a.txt")), files[0].1);
    assert_eq!(read(&env.local().join("two/c.bin")), files[2].1);

    // A folder without -r, and a missing file: exit 1, each named.
    let (code, _, err) = run(env.wantu().args(["cp", &remote("/up/tree/"), "x"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("cp -r") && err.contains(&remote("/up/tree/")),
        "{err}"
    );
    let (code, _, err) = run(env.wantu().args(["cp", &remote("/up/nope.bin"), "x"]));
    assert_eq!(code, 1);
    assert!(err.contains(&remote("/up/nope.bin")), "{err}");
    assert!(!env.local().join("x").exists());
}

#[test]
fn sync_up_sends_only_what_differs_and_deletes_extras() {
    let env = Env::start();
    env.write("site/index.html", b"<h1>hello</h1>");
    env.write("site/css/s.css", b"body{color:red}");
    env.write("site/img/x.bin", &bytes(300_000, 4));
    let dst = remote("/www/");
    let sync = |extra: &[&str]| {
        let mut cmd = env.wantu();
        cmd.args(["--json", "sync"])
            .args(extra)
            .args(["site", &dst]);
        run(&mut cmd)
    };

    let (code, out, err) = sync(&[]);
    assert_eq!(code, 0, "{err}");
    let first = statuses(&out);
    assert_eq!(first.len(), 3, "{out}");
    assert!(first.values().all(|a| a == "uploaded"), "{out}");
    assert_eq!(env.download("/www/css", "s.css"), b"body{color:red}");

    // Second run: every file skipped, nothing sent.
    let (code, out, err) = sync(&[]);
    assert_eq!(code, 0, "{err}");
    let (lines, summary) = lines_by_path(&out);
    assert_eq!(lines.len(), 3);
    assert!(lines.values().all(|l| l["status"] == "skipped"), "{out}");
    assert_eq!(
        (summary["uploaded"].as_u64(), summary["skipped"].as_u64()),
        (Some(0), Some(3))
    );

    // Same size, other bytes: only the MD5 tells, and only it is sent.
    env.write("site/css/s.css", b"body{color:RED}");
    let (code, out, err) = sync(&[]);
    assert_eq!(code, 0, "{err}");
    let a = statuses(&out);
    assert_eq!(a["site/css/s.css"], "uploaded", "{out}");
    assert_eq!(a.values().filter(|a| *a == "skipped").count(), 2, "{out}");
    assert_eq!(env.download("/www/css", "s.css"), b"body{color:RED}");

    // Extras on the server: a file, a folder with a file, a deleted local file.
    env.put("/www", "stale.txt", b"old");
    env.put("/www/gone/deeper", "x", b"x");
    std::fs::remove_file(env.local().join("site/img/x.bin")).unwrap();

    let (code, out, err) = sync(&["--delete", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    let a = statuses(&out);
    for p in [
        "/www/stale.txt",
        "/www/gone/deeper/x",
        "/www/img/x.bin",
        "/www/gone/deeper/",
    ] {
        assert_eq!(
            a.get(&remote(p)).map(String::as_str),
            Some("would_delete"),
            "{p}: {out}"
        );
    }
    assert!(
        env.stat("/www", "stale.txt").is_some(),
        "a dry run deletes nothing"
    );
    assert!(env.stat("/www/img", "x.bin").is_some());

    let (code, out, err) = sync(&["--delete"]);
    assert_eq!(code, 0, "{err}");
    let (lines, summary) = lines_by_path(&out);
    assert_eq!(
        lines[&remote("/www/stale.txt")]["status"],
        "deleted",
        "{out}"
    );
    // 3 files and 2 folders; the emptied local img/ keeps its remote one.
    assert_eq!(summary["deleted"].as_u64(), Some(5), "{out}");
    assert!(env.stat("/www", "stale.txt").is_none());
    assert!(env.stat("/www/img", "x.bin").is_none());
    assert!(env.stat("/www/gone/deeper", "x").is_none());
    assert!(!env.folder_exists("/www/gone"));
    assert!(
        env.stat("/www", "index.html").is_some(),
        "what the source has stays"
    );
    assert!(env.stat("/www/css", "s.css").is_some());

    // A missing source folder is named, exit 1; a file is a usage error.
    let (code, _, err) = run(env.wantu().args(["sync", "nothing-here", &dst]));
    assert_eq!(code, 1);
    assert!(err.contains("nothing-here"), "{err}");
    let (code, _, err) = run(env.wantu().args(["sync", "site/index.html", &dst]));
    assert_eq!(code, 2);
    assert!(err.contains("not a folder"), "{err}");
}

#[test]
fn sync_down_fetches_only_what_differs_and_deletes_extras() {
    let env = Env::start();
    env.put("/d", "a.txt", b"alpha");
    env.put("/d/sub", "b.bin", &bytes(200_000, 5));
    let src = remote("/d/");
    let sync = |extra: &[&str]| {
        let mut cmd = env.wantu();
        cmd.args(["--json", "sync"])
            .args(extra)
            .args([&src, "mirror"]);
        run(&mut cmd)
    };
    let mirror = env.local().join("mirror");

    let (code, out, err) = sync(&[]);
    assert_eq!(code, 0, "{err}");
    let a = statuses(&out);
    assert_eq!(a.len(), 2, "{out}");
    assert!(a.values().all(|a| a == "downloaded"), "{out}");
    assert_eq!(read(&mirror.join("a.txt")), b"alpha");
    assert_eq!(read(&mirror.join("sub/b.bin")), bytes(200_000, 5));

    let (code, out, err) = sync(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(statuses(&out).values().all(|a| a == "skipped"), "{out}");

    // Same size on the server, other bytes: only that file comes again.
    env.put("/d", "a.txt", b"ALPHA");
    let (code, out, err) = sync(&[]);
    assert_eq!(code, 0, "{err}");
    let a = statuses(&out);
    assert_eq!(a[&remote("/d/a.txt")], "downloaded", "{out}");
    assert_eq!(a[&remote("/d/sub/b.bin")], "skipped", "{out}");
    assert_eq!(read(&mirror.join("a.txt")), b"ALPHA");

    // Local extras: a file, and a folder with a file.
    std::fs::write(mirror.join("local-only.txt"), b"mine").unwrap();
    std::fs::create_dir_all(mirror.join("old/deep")).unwrap();
    std::fs::write(mirror.join("old/deep/f"), b"f").unwrap();
    let (code, out, err) = sync(&["--delete", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    let a = statuses(&out);
    let extra = "mirror/local-only.txt".to_string();
    assert_eq!(
        a.get(&extra).map(String::as_str),
        Some("would_delete"),
        "{out}"
    );
    assert!(
        mirror.join("local-only.txt").exists(),
        "a dry run deletes nothing"
    );

    let (code, out, err) = sync(&["--delete"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(statuses(&out)[&extra], "deleted", "{out}");
    assert!(!mirror.join("local-only.txt").exists());
    assert!(!mirror.join("old").exists());
    assert_eq!(read(&mirror.join("a.txt")), b"ALPHA");
    assert!(mirror.join("sub/b.bin").exists());

    // A remote folder that does not exist is named.
    let (code, _, err) = run(env.wantu().args(["sync", &remote("/nowhere/"), "m2"]));
    assert_ne!(code, 0);
    assert!(err.contains("/nowhere"), "{err}");
}

#[test]
fn include_and_exclude_filter_both_ways_and_delete() {
    let env = Env::start();
    env.write("src/a.jpg", b"jpeg");
    env.write("src/deep/b.jpg", b"jpeg2");
    env.write("src/notes.txt", b"text");
    env.write("src/raw/c.jpg", b"raw jpeg");
    let dst = remote("/f/");
    let up = |extra: &[&str]| {
        let mut cmd = env.wantu();
        cmd.args(["--json", "sync", "--include", "*.jpg", "--exclude", "raw/*"])
            .args(extra)
            .args(["src", &dst]);
        run(&mut cmd)
    };
    let (code, out, err) = up(&[]);
    assert_eq!(code, 0, "{err}");
    let a = statuses(&out);
    // `*.jpg` matches names at any depth; `raw/*` the path under raw/.
    assert_eq!(a.len(), 2, "{out}");
    assert!(env.stat("/f/deep", "b.jpg").is_some());
    assert!(env.stat("/f", "notes.txt").is_none());
    assert!(env.stat("/f/raw", "c.jpg").is_none());

    // Remote files the filters leave out are not deleted, nor their folder.
    env.put("/f", "keep.txt", b"not synced");
    env.put("/f/raw", "kept.jpg", b"excluded");
    env.put("/f/old", "gone.jpg", b"extra");
    let (code, out, err) = up(&["--delete"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        statuses(&out)[&remote("/f/old/gone.jpg")],
        "deleted",
        "{out}"
    );
    assert!(env.stat("/f/old", "gone.jpg").is_none());
    assert!(env.stat("/f", "keep.txt").is_some(), "{out}");
    assert!(env.stat("/f/raw", "kept.jpg").is_some(), "{out}");

    // Down, the same rules: only the included files arrive.
    let (code, out, err) =
        run(env
            .wantu()
            .args(["--json", "cp", "-r", "--exclude", "deep/*", &dst, "back"]));
    assert_eq!(code, 0, "{err}");
    // cp -r keeps the folder's own name, as cp does.
    let back = env.local().join("back/f");
    assert!(back.join("a.jpg").exists(), "{out}");
    assert!(back.join("keep.txt").exists(), "{out}");
    assert!(!back.join("deep/b.jpg").exists(), "{out}");

    // A bad glob is a usage error naming the flag, before anything is sent.
    let (code, _, err) = run(env.wantu().args(["sync", "--include", "a[", "src", &dst]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--include"), "{err}");
}

#[test]
fn folder_progress_bars_on_a_terminal_only() {
    let env = Env::start();
    env.write("big/one.bin", &bytes(3_000_000, 6));
    env.write("big/two.bin", &bytes(1000, 7));
    let up = [
        "cp",
        "-r",
        "--part-size",
        "256KiB",
        "big",
        &remote("/bars/"),
    ];
    let (ok, tty) = run_in_pty(&env, &up);
    assert!(ok, "{tty}");
    assert!(
        tty.contains("ETA") && tty.contains("files"),
        "no bars: {tty:?}"
    );
    assert!(tty.contains("2.86 MiB"), "bytes shown: {tty:?}");
    let down = ["sync", &remote("/bars/big/"), "back"];
    let (ok, tty) = run_in_pty(&env, &down);
    assert!(ok, "{tty}");
    assert!(
        tty.contains("ETA") && tty.contains("2.86 MiB"),
        "no bars: {tty:?}"
    );

    // With stderr a pipe: lines and a summary, no bars.
    let (code, out, err) = run(env.wantu().args(["sync", &remote("/bars/big/"), "back"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("skipped    wantu://"), "{out}");
    assert!(!err.contains("ETA") && !err.contains('\u{1b}'), "{err:?}");
    assert_eq!(err, "2 skipped, 0 failed\n");
}

#[test]
fn ctrl_c_stops_a_sync_and_the_same_sync_continues() {
    let env = Env::start();
    let files: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| (format!("many/f{i}.bin"), bytes(300_000, 10 + i)))
        .collect();
    for (rel, data) in &files {
        env.write(rel, data);
    }
    env.put("/m", "extra.txt", b"would be deleted");
    slow(&env, 100);
    let args = [
        "--json",
        "sync",
        "--delete",
        "--part-size",
        "100KiB",
        "--concurrency",
        "1",
        "many",
        &remote("/m/"),
    ];
    let child = spawn(&env, &args);
    // Wait until the first file is on the server, then interrupt.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while env.stat("/m", "f0.bin").is_none() {
        assert!(std::time::Instant::now() < deadline, "f0.bin never arrived");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let interrupted = std::time::Instant::now();
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    assert!(
        interrupted.elapsed() < std::time::Duration::from_secs(5),
        "Ctrl-C took {:?}",
        interrupted.elapsed()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let (lines, summary) = lines_by_path(&stdout);
    assert!(summary["failed"].as_u64().unwrap() >= 1, "{stdout}");
    assert!(summary["uploaded"].as_u64().unwrap() < 6, "{stdout}");
    assert!(lines.values().all(|l| l["status"] != "deleted"), "{stdout}");
    assert!(stderr.contains("nothing was deleted"), "{stderr}");
    assert!(env.stat("/m", "extra.txt").is_some());
    env.server.set_faults(wantu_server::FaultConfig::default());

    // The same command again: what arrived is skipped, the rest is sent,
    // and only now the extra file goes.
    let (code, out, err) = run(env.wantu().args(args));
    assert_eq!(code, 0, "{err}");
    let (lines, summary) = lines_by_path(&out);
    assert_eq!(lines["many/f0.bin"]["status"], "skipped", "{out}");
    assert_eq!(
        summary["uploaded"].as_u64().unwrap() + summary["skipped"].as_u64().unwrap(),
        6,
        "{out}"
    );
    assert_eq!(lines[&remote("/m/extra.txt")]["status"], "deleted", "{out}");
    for (rel, data) in &files {
        let name = rel.strip_prefix("many/").unwrap();
        assert_eq!(&env.download("/m", name), data, "{rel}");
    }
}

#[test]
fn a_wrong_secret_stops_folder_commands_naming_the_key() {
    let env = Env::start();
    env.write("w/a.txt", b"a");
    env.put("/w", "b.txt", b"b");
    let (up, down, file) = (remote("/w/"), remote("/x/"), remote("/w/b.txt"));
    for args in [
        vec!["sync", "w", &up],
        vec!["sync", &up, "back"],
        vec!["cp", "-r", "w", &down],
        vec!["cp", &file, "b.txt"],
    ] {
        let (code, _, err) = run(env.wantu().env("WANTU_SK", "wrong").args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(AK) && err.contains(&env.url()),
            "{args:?}: {err}"
        );
    }
    assert!(!env.local().join("back").exists() && !env.local().join("b.txt").exists());
}
