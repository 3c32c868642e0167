//! Modification times: uploads record them in the file's meta
//! (`wantu-mtime`, milliseconds), downloads set them back, and `sync`
//! skips by size and time (rsync's quick check) unless told otherwise.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const KEY: &str = "wantu-mtime";

fn set_mtime(p: &Path, ms: u64) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_millis(ms))
        .unwrap();
}

fn mtime_ms(p: &Path) -> u64 {
    let t = std::fs::metadata(p).unwrap().modified().unwrap();
    t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// The recorded time of a stored file, as the file object's meta has it.
fn recorded(env: &Env, dir: &str, name: &str) -> Option<String> {
    let f = env.stat(dir, name).expect("the file is stored");
    f["meta"][KEY].as_str().map(str::to_string)
}

fn statuses(stdout: &str) -> BTreeMap<String, String> {
    json_lines(stdout)
        .into_iter()
        .filter(|l| l["summary"] != true)
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap_or_default().to_string();
            (s("path"), s("status"))
        })
        .collect()
}

#[test]
fn uploads_record_the_time_and_downloads_restore_it() {
    let env = Env::start();
    let small = env.write("one.txt", b"one");
    let big = env.write("big.bin", &bytes(350_000, 1));
    let tree_file = env.write("tree/sub/t.txt", b"tree");
    set_mtime(&small, 1_600_000_000_123);
    set_mtime(&big, 1_500_000_000_007);
    set_mtime(&tree_file, 1_400_000_000_999);

    // One file (simple upload), one multipart file, one folder.
    let (code, _, err) = run(env.wantu().args([
        "cp",
        "--part-size",
        "100KiB",
        "one.txt",
        "big.bin",
        &remote("/m/"),
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(env.wantu().args(["cp", "-r", "tree", &remote("/m/")]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        recorded(&env, "/m", "one.txt").as_deref(),
        Some("1600000000123")
    );
    assert_eq!(
        recorded(&env, "/m", "big.bin").as_deref(),
        Some("1500000000007")
    );
    let t = recorded(&env, "/m/tree/sub", "t.txt");
    assert_eq!(t.as_deref(), Some("1400000000999"));

    // Down again: one file in parallel ranges, and a folder.
    let (code, _, err) = run(env.wantu().args([
        "cp",
        "--part-size",
        "100KiB",
        &remote("/m/big.bin"),
        &remote("/m/one.txt"),
        "back/",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        mtime_ms(&env.local().join("back/one.txt")),
        1_600_000_000_123
    );
    assert_eq!(
        mtime_ms(&env.local().join("back/big.bin")),
        1_500_000_000_007
    );
    let (code, _, err) = run(env.wantu().args(["cp", "-r", &remote("/m/tree/"), "back/"]));
    assert_eq!(code, 0, "{err}");
    let down = env.local().join("back/tree/sub/t.txt");
    assert_eq!(mtime_ms(&down), 1_400_000_000_999);

    // A stored file without a recorded time comes down with the time of
    // its download, as before.
    env.put("/plain", "p.txt", b"p");
    let before = SystemTime::now() - Duration::from_secs(5);
    let (code, _, err) = run(env.wantu().args(["cp", &remote("/plain/p.txt"), "p.txt"]));
    assert_eq!(code, 0, "{err}");
    let t = std::fs::metadata(env.local().join("p.txt")).unwrap();
    assert!(t.modified().unwrap() > before);
}

#[test]
fn sync_up_skips_by_size_and_time() {
    let env = Env::start();
    let a = env.write("s/a.txt", b"aaaa");
    let b = env.write("s/b.txt", b"bbbb");
    set_mtime(&a, 1_000_000_000_000);
    set_mtime(&b, 1_000_000_000_000);
    let sync = |extra: &[&str]| {
        let mut cmd = env.wantu();
        cmd.args(["--json", "sync"])
            .args(extra)
            .args(["s", &remote("/q/")]);
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, 0, "{out}{err}");
        statuses(&out)
    };
    assert!(sync(&[]).values().all(|a| a == "uploaded"));

    // Other bytes of the same size under the same time: the quick check
    // does not read the file, so it is skipped (as rsync does)…
    std::fs::write(&a, b"AAAA").unwrap();
    set_mtime(&a, 1_000_000_000_000);
    let got = sync(&[]);
    assert_eq!(got["s/a.txt"], "skipped");
    assert_eq!(env.download("/q", "a.txt"), b"aaaa");
    // …and --checksum reads it and sends it.
    assert_eq!(sync(&["--checksum"])["s/a.txt"], "uploaded");
    assert_eq!(env.download("/q", "a.txt"), b"AAAA");

    // Another time: the MD5 decides. The same bytes are skipped, other
    // bytes are sent.
    set_mtime(&b, 1_000_000_500_000);
    assert_eq!(sync(&[])["s/b.txt"], "skipped");
    std::fs::write(&b, b"BBBB").unwrap();
    assert_eq!(sync(&[])["s/b.txt"], "uploaded");
    assert_eq!(env.download("/q", "b.txt"), b"BBBB");

    // --size-only: other bytes of the same size, another time: skipped.
    std::fs::write(&b, b"bbbb").unwrap();
    assert_eq!(sync(&["--size-only"])["s/b.txt"], "skipped");
    assert_eq!(env.download("/q", "b.txt"), b"BBBB");

    // A remote file without a recorded time (uploaded by something else):
    // the MD5 decides, as before.
    env.put("/q", "c.txt", b"cccc");
    let c = env.write("s/c.txt", b"cccc");
    assert_eq!(sync(&[])["s/c.txt"], "skipped");
    std::fs::write(&c, b"CCCC").unwrap();
    assert_eq!(sync(&[])["s/c.txt"], "uploaded");

    let (code, _, err) =
        run(env
            .wantu()
            .args(["sync", "--size-only", "--checksum", "s", &remote("/q/")]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn sync_down_skips_by_size_and_time_and_restores_times() {
    let env = Env::start();
    let a = env.write("src/a.txt", b"aaaa");
    set_mtime(&a, 1_200_000_000_000);
    let (code, _, err) = run(env.wantu().args(["sync", "src", &remote("/d/")]));
    assert_eq!(code, 0, "{err}");
    let sync = |extra: &[&str]| {
        let mut cmd = env.wantu();
        cmd.args(["--json", "sync"])
            .args(extra)
            .args([&remote("/d/"), "dst"]);
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, 0, "{out}{err}");
        statuses(&out)
    };
    let local = env.local().join("dst/a.txt");
    let first = sync(&[]);
    assert_eq!(
        first.values().next().map(String::as_str),
        Some("downloaded")
    );
    assert_eq!(mtime_ms(&local), 1_200_000_000_000);

    // Same size, same time, other bytes: skipped without reading…
    std::fs::write(&local, b"AAAA").unwrap();
    set_mtime(&local, 1_200_000_000_000);
    assert!(sync(&[]).values().all(|a| a == "skipped"));
    assert_eq!(std::fs::read(&local).unwrap(), b"AAAA");
    // …fetched with --checksum.
    assert!(sync(&["--checksum"]).values().all(|a| a == "downloaded"));
    assert_eq!(std::fs::read(&local).unwrap(), b"aaaa");

    // Same bytes under another time: skipped by MD5, and the recorded
    // time is set, so the next run needs no hashing.
    set_mtime(&local, 1_300_000_000_000);
    assert!(sync(&[]).values().all(|a| a == "skipped"));
    assert_eq!(mtime_ms(&local), 1_200_000_000_000);
}
