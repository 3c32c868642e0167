//! What makes `sync` safe to point at production data: no deletions after
//! a failure, a cap on deletions (`--max-delete`).

mod common;
use common::*;
use serde_json::Value;

fn statuses(stdout: &str) -> Vec<(String, String)> {
    json_lines(stdout)
        .into_iter()
        .filter(|l| l["summary"] != true)
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap_or_default().to_string();
            (s("path"), s("status"))
        })
        .collect()
}

fn summary(stdout: &str) -> Value {
    json_lines(stdout).pop().expect("a summary line")
}

/// A name the service cannot store (not UTF-8) is a walk error: the sync
/// reports it, and `--delete` then deletes nothing, says so, and exits 1.
#[cfg(unix)]
#[test]
fn a_walk_error_stops_every_deletion() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::start();
    env.write("src/a.txt", b"a");
    let bad = env
        .local()
        .join("src")
        .join(std::ffi::OsStr::from_bytes(b"bad\xffname"));
    std::fs::write(&bad, b"x").unwrap();
    env.put("/d", "extra.txt", b"stays");
    env.put("/d/old", "x", b"stays too");

    let (code, out, err) =
        run(env
            .wantu()
            .args(["--json", "sync", "--delete", "src", &remote("/d/")]));
    assert_eq!(code, 1, "{out}{err}");
    let a = statuses(&out);
    assert!(
        a.iter().any(|(p, x)| p.contains("bad") && x == "failed"),
        "{out}"
    );
    assert!(a.iter().all(|(_, x)| x != "deleted"), "{out}");
    assert!(err.contains("nothing was deleted"), "{err}");
    assert!(env.stat("/d", "extra.txt").is_some());
    assert!(env.stat("/d/old", "x").is_some());
    // What could be sent was sent.
    assert_eq!(env.download("/d", "a.txt"), b"a");

    // Without the bad name the same sync deletes.
    std::fs::remove_file(&bad).unwrap();
    let (code, out, err) =
        run(env
            .wantu()
            .args(["--json", "sync", "--delete", "src", &remote("/d/")]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(env.stat("/d", "extra.txt").is_none(), "{out}");
}

/// A FIFO in the source is skipped with a note, not an error: it has no
/// remote copy to protect, so `--delete` still deletes the extras.
#[cfg(unix)]
#[test]
fn a_skipped_fifo_does_not_stop_deletions() {
    let env = Env::start();
    env.write("src/a.txt", b"a");
    let fifo = env.local().join("src/pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success(), "mkfifo");
    env.put("/d", "extra.txt", b"goes");
    let (code, out, err) =
        run(env
            .wantu()
            .args(["--json", "sync", "--delete", "src", &remote("/d/")]));
    assert_eq!(code, 0, "{out}{err}");
    let a = statuses(&out);
    assert!(
        a.iter().any(|(p, x)| p.ends_with("pipe") && x == "skipped"),
        "{out}"
    );
    assert!(env.stat("/d", "extra.txt").is_none(), "{out}");
}

/// A failed download on the way down stops the deletion of local extras.
#[test]
fn a_failed_download_stops_local_deletions() {
    let env = Env::start();
    env.put("/r/sub", "f", b"remote file");
    // Where the remote has a folder `sub`, the local side has a file: the
    // download of sub/f fails, and `sub` (an extra) must stay.
    env.write("dst/sub", b"a local file where a folder goes");
    env.write("dst/extra.txt", b"local extra");
    let (code, out, err) =
        run(env
            .wantu()
            .args(["--json", "sync", "--delete", &remote("/r/"), "dst"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(statuses(&out).iter().any(|(_, x)| x == "failed"), "{out}");
    assert!(statuses(&out).iter().all(|(_, x)| x != "deleted"), "{out}");
    assert!(err.contains("nothing was deleted"), "{err}");
    assert!(env.local().join("dst/extra.txt").exists());
    assert!(env.local().join("dst/sub").is_file());
}

#[test]
fn max_delete_refuses_the_whole_deletion_phase() {
    let env = Env::start();
    env.write("src/keep.txt", b"k");
    for i in 0..3 {
        env.put("/m", &format!("extra{i}.txt"), b"x");
    }
    let sync = |extra: &[&str]| {
        let mut cmd = env.wantu();
        cmd.args(["--json", "sync", "--delete"])
            .args(extra)
            .args(["src", &remote("/m/")]);
        run(&mut cmd)
    };

    let (code, out, err) = sync(&["--max-delete", "2"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(statuses(&out).iter().all(|(_, x)| x != "deleted"), "{out}");
    assert!(err.contains("3") && err.contains("--max-delete 2"), "{err}");
    assert!(err.contains("nothing was deleted"), "{err}");
    for i in 0..3 {
        assert!(env.stat("/m", &format!("extra{i}.txt")).is_some());
    }
    // The transfers still happened, and the summary was printed.
    assert_eq!(summary(&out)["uploaded"], 1, "{out}");

    // A dry run refuses alike.
    let (code, _, err) = sync(&["--max-delete", "2", "--dry-run"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nothing was deleted"), "{err}");

    // At the cap, the deletions go ahead.
    let (code, out, err) = sync(&["--max-delete", "3"]);
    assert_eq!(code, 0, "{out}{err}");
    let deleted = statuses(&out)
        .iter()
        .filter(|(_, x)| x == "deleted")
        .count();
    assert_eq!(deleted, 3, "{out}");
}

#[test]
fn max_delete_must_be_a_number_and_goes_with_delete() {
    let env = Env::start();
    env.write("src/a", b"a");
    for bad in ["many", "-1", "1.5", ""] {
        let flag = format!("--max-delete={bad}");
        let (code, _, err) =
            run(env
                .wantu()
                .args(["sync", "--delete", &flag, "src", &remote("/m/")]));
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("--max-delete"), "{bad}: {err}");
    }
    let (code, _, err) =
        run(env
            .wantu()
            .args(["sync", "--max-delete", "1", "src", &remote("/m/")]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--delete"), "{err}");
    assert!(env.stat("/m", "a").is_none(), "nothing was sent");
}
