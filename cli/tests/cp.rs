//! `cp` of local files: byte-exact uploads, `--json`, progress bars only on
//! a terminal, Ctrl-C cancelling on the server, and resuming after a kill.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use wantu_server::FaultConfig;

#[test]
fn cp_uploads_files_byte_exact_with_json_lines() {
    let env = Env::start();
    let small = bytes(1000, 1);
    let big = bytes(700_000, 2);
    env.write("small.bin", &small);
    env.write("big.bin", &big);

    let (code, out, err) = run(env.wantu().args([
        "--json",
        "cp",
        "--part-size",
        "100KiB",
        "--concurrency",
        "3",
        "small.bin",
        "big.bin",
        &remote("/up/"),
    ]));
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0]["path"], "small.bin");
    assert_eq!(lines[0]["status"], "uploaded");
    assert_eq!(lines[0]["to"], remote("/up/small.bin"));
    assert_eq!(lines[1]["status"], "uploaded");
    assert_eq!(lines[1]["multipart"], true);
    assert_eq!(lines[1]["parts"], 7);
    assert_eq!(lines[1]["md5"], wantu::auth::md5_hex(&big));
    let summary = &lines[2];
    assert_eq!(summary["summary"], true);
    assert_eq!(
        (summary["uploaded"].as_u64(), summary["failed"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(summary["bytes"], 701_000);
    assert_eq!(env.download("/up", "small.bin"), small);
    assert_eq!(env.download("/up", "big.bin"), big);

    // A file name as the destination renames; a later copy overwrites.
    let (code, out, err) = run(env
        .wantu()
        .args(["cp", "small.bin", &remote("/up/renamed.bin")]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&remote("/up/renamed.bin")), "{out}");
    assert_eq!(env.download("/up", "renamed.bin"), small);
    env.write("small.bin", b"new content");
    run(env
        .wantu()
        .args(["-q", "cp", "small.bin", &remote("/up/renamed.bin")]));
    assert_eq!(env.download("/up", "renamed.bin"), b"new content");

    let (code, _, err) =
        run(env
            .wantu()
            .args(["cp", "small.bin", "big.bin", &remote("/up/x.bin")]));
    assert_eq!(code, 2, "several sources need a folder");
    assert!(err.contains("end"), "{err}");
}

#[test]
fn progress_bars_on_a_terminal_only() {
    let env = Env::start();
    env.write("p.bin", &bytes(3_000_000, 3));
    let args = ["cp", "--part-size", "256KiB", "p.bin", &remote("/p/")];

    // Under a pseudo-terminal (util-linux `script`): bars are drawn.
    let (ok, tty) = run_in_pty(&env, &args);
    assert!(ok, "{tty}");
    assert!(
        tty.contains("files 1/1") && tty.contains("ETA"),
        "no bars: {tty:?}"
    );
    assert!(tty.contains("2.86 MiB"), "bytes shown: {tty:?}");

    // With stderr a pipe: no bars, no control sequences.
    let (code, out, err) = run(env.wantu().args(args));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("uploaded   p.bin -> {}\n", remote("/p/p.bin")));
    assert!(
        !err.contains("ETA") && !err.contains("files 1/1") && !err.contains('\u{1b}'),
        "{err:?}"
    );
    assert_eq!(err, "1 uploaded, 0 failed\n");

    // -q: nothing at all on success.
    let (code, out, err) = run(env.wantu().args(["-q"]).args(args));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
}

/// The finished parts a checkpoint records: after its header line, one
/// `[part_number,"eTag"]` line each (a line being written is not counted).
fn checkpoint_parts(text: &[u8]) -> Option<usize> {
    let mut lines = text.split(|b| *b == b'\n');
    serde_json::from_slice::<Value>(lines.next()?).ok()?;
    Some(
        lines
            .map_while(|l| serde_json::from_slice::<(u64, String)>(l).ok())
            .count(),
    )
}

/// Waits until a checkpoint in `dir` records at least `parts` parts.
fn wait_for_parts(dir: &Path, parts: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                e.path().extension().is_some_and(|x| x == "json")
                    && std::fs::read(e.path())
                        .ok()
                        .and_then(|b| checkpoint_parts(&b))
                        .is_some_and(|n| n >= parts)
            });
        if done {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint with {parts} parts"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_cancels_the_multipart_upload_on_the_server() {
    let env = Env::start();
    env.write("c.bin", &bytes(2_048_000, 4));
    let checkpoints = env.root.path().join("ckpt");
    slow(&env, 150);
    let child = spawn(
        &env,
        &[
            "--json",
            "cp",
            "--part-size",
            "100KiB",
            "--concurrency",
            "1",
            "--checkpoint-dir",
            checkpoints.to_str().unwrap(),
            "c.bin",
            &remote("/c/"),
        ],
    );
    wait_for_parts(&checkpoints, 2);
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let lines = json_lines(&stdout);
    let failed = &lines[0];
    assert_eq!(failed["status"], "failed", "{stdout}");
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("cancelled on the server"), "{error}");
    assert_eq!(lines[1]["failed"], 1);
    env.server.set_faults(FaultConfig::default());

    // The server no longer has the upload: a part for it is refused.
    let policy =
        wantu::policy::Policy::parse(&format!(r#"{{"namespace":"{NS}","expiration":-1}}"#))
            .unwrap();
    let part = env.client.run(env.client.multipart_upload(
        &policy,
        failed["id"].as_str().unwrap(),
        failed["upload_id"].as_str().unwrap(),
        3,
        wantu::upload::Content::Bytes(vec![0u8; 102_400].into()),
        None,
    ));
    assert!(
        part.unwrap().is_err(),
        "the cancelled upload still takes parts"
    );
    assert!(env.stat("/c", "c.bin").is_none());
}

#[test]
fn a_killed_upload_resumes_from_its_checkpoint() {
    let env = Env::start();
    let data = bytes(2_048_000, 5);
    env.write("r.bin", &data);
    let checkpoints = env.root.path().join("ckpt");
    let dir = checkpoints.to_str().unwrap();
    let args = [
        "--json",
        "cp",
        "--part-size",
        "100KiB",
        "--concurrency",
        "1",
        "--checkpoint-dir",
        dir,
        "r.bin",
        &remote("/r/"),
    ];
    slow(&env, 150);
    let mut child = spawn(&env, &args);
    wait_for_parts(&checkpoints, 3);
    signal(&child, "-KILL");
    child.wait().unwrap();
    env.server.set_faults(FaultConfig::default());

    let (code, out, err) = run(env.wantu().args(args));
    assert_eq!(code, 0, "{err}");
    let first = &json_lines(&out)[0];
    assert_eq!(first["status"], "uploaded", "{out}");
    assert!(first["resumed_parts"].as_u64().unwrap() >= 3, "{out}");
    assert_eq!(env.download("/r", "r.bin"), data);
    let left = std::fs::read_dir(&checkpoints).unwrap().count();
    assert_eq!(left, 0, "the checkpoint is removed after success");
}
