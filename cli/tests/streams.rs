//! Pipes: `cat` and `cp … -` write only the bytes to stdout (MD5-checked,
//! ranges exact), `cp - …` uploads stdin, a closed stdout stops quietly,
//! and the mistakes are usage errors.

mod common;
use common::*;
use std::io::Read;
use std::process::Stdio;

#[test]
fn cat_writes_only_the_bytes_to_stdout() {
    let env = Env::start();
    let big = bytes(700_000, 1);
    env.put("/p", "big.bin", &big);
    env.put("/p", "small.txt", b"hello\n");

    let out = env
        .wantu()
        .args(["cat", &remote("/p/big.bin")])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == big, "stdout holds exactly the file");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Several files, one after the other.
    let out = env
        .wantu()
        .args(["cat", &remote("/p/small.txt"), &remote("/p/small.txt")])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"hello\nhello\n");

    // `cp … -` is the same; no file named `-` appears.
    let out = env
        .wantu()
        .args(["cp", &remote("/p/big.bin"), "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == big);
    assert!(!exists(&env.local().join("-")));
}

#[test]
fn cat_ranges_are_inclusive_and_checked() {
    let env = Env::start();
    let data = bytes(300_000, 2);
    env.put("/p", "r.bin", &data);
    let cat = |range: &str| {
        let out = env
            .wantu()
            .args(["cat", "--range", range, &remote("/p/r.bin")])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code().unwrap(), out.stdout, err)
    };
    let (code, out, _) = cat("100000-199999");
    assert_eq!(code, 0);
    assert!(out == data[100_000..200_000]);
    let (code, out, _) = cat("299990-");
    assert_eq!((code, out.as_slice()), (0, &data[299_990..]));
    let (code, out, err) = cat("10-5");
    assert_eq!(code, 2, "{err}");
    assert!(
        out.is_empty() && err.contains("ends before it starts"),
        "{err}"
    );
    let (code, _, err) = cat("-5");
    assert_eq!(code, 2, "{err}");
    let (code, out, err) = cat("300000-300010");
    assert_eq!(code, 2, "{err}");
    assert!(
        out.is_empty() && err.contains("holds 300000 bytes"),
        "{err}"
    );

    let (code, _, err) = run(env.wantu().args([
        "cat",
        "--range",
        "0-1",
        &remote("/p/r.bin"),
        &remote("/p/r.bin"),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("for one file"), "{err}");
    let (code, _, err) = run(env.wantu().args(["cat", &remote("/p/")]));
    assert_eq!(code, 2);
    assert!(err.contains("is a folder"), "{err}");
    let (code, _, err) = run(env.wantu().args(["cat", &remote("/p/none.bin")]));
    assert_eq!(code, 1);
    assert!(err.contains("none.bin"), "{err}");
}

#[test]
fn cp_dash_uploads_stdin_and_needs_a_file_name() {
    let env = Env::start();
    let data = bytes(700_000, 3);
    let (code, out, err) = run(env
        .wantu()
        .args([
            "--json",
            "cp",
            "--part-size",
            "100KiB",
            "-",
            &remote("/in/piped.bin"),
        ])
        .write_stdin(data.clone()));
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines[0]["status"], "uploaded", "{out}");
    assert_eq!(lines[0]["multipart"], true, "{out}");
    // The size sent, in the line and in the summary's byte count.
    assert_eq!(lines[0]["size"], 700_000, "{out}");
    assert_eq!(lines[1]["bytes"], 700_000, "{out}");
    let stored = env.stat("/in", "piped.bin").expect("stored");
    assert_eq!(stored["md5"], wantu::auth::md5_hex(&data));
    assert!(env.download("/in", "piped.bin") == data);

    // An empty stdin is an empty file.
    let (code, _, err) = run(env
        .wantu()
        .args(["cp", "-", &remote("/in/empty")])
        .write_stdin(""));
    assert_eq!(code, 0, "{err}");
    assert_eq!(env.stat("/in", "empty").unwrap()["size"], 0);

    for (args, needle) in [
        (vec!["cp", "-", &remote("/in/")[..]], "no file name"),
        (vec!["cp", "-", "local.bin"], "stored file"),
        (vec!["cp", "-", "-"], "both"),
        (vec!["cp", "-r", "-", &remote("/in/x")[..]], "-r"),
        (
            vec!["--json", "cp", &remote("/in/empty")[..], "-"],
            "--json",
        ),
    ] {
        let (code, out, err) = run(env.wantu().args(&args).write_stdin("never read"));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.is_empty());
    }
    assert!(env.stat("/in", "x").is_none());
}

#[test]
fn a_closed_stdout_stops_quietly_with_a_failure() {
    let env = Env::start();
    let data = bytes(6_000_000, 4);
    env.put("/p", "long.bin", &data);
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("wantu"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", env.home())
        .env("WANTU_AK", AK)
        .env("WANTU_SK", SK)
        .env("WANTU_ENDPOINT", env.url())
        .args(["cat", &remote("/p/long.bin")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut head = [0u8; 10];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    assert_eq!(head, data[..10]);
    drop(child.stdout.take()); // the reader goes away, as `| head -c 10` does
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn cp_of_a_fifo_streams_what_is_written_to_it() {
    let env = Env::start();
    let fifo = env.local().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let data = bytes(300_000, 5);
    let (path, body) = (fifo.clone(), data.clone());
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        std::fs::write(path, body).unwrap();
    });
    let (code, _, err) = run(env.wantu().args(["cp", "pipe", &remote("/in/fifo.bin")]));
    assert_eq!(code, 0, "{err}");
    writer.join().unwrap();
    assert!(env.download("/in", "fifo.bin") == data);
}
