//! `--limit-rate`: one bandwidth budget for the whole command. Only lower
//! bounds on time are asserted here (a loaded machine is slower, never
//! faster); the precise figure is measured by bench/limit_rate.sh.

mod common;
use common::*;
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;

fn timed(cmd: &mut assert_cmd::Command) -> (i32, String, Duration) {
    let started = Instant::now();
    let (code, out, err) = run(cmd);
    (code, format!("{out}{err}"), started.elapsed())
}

#[test]
fn one_file_up_and_down_keeps_to_the_rate() {
    let env = Env::start();
    let data = bytes(3 * MIB, 1);
    env.write("big.bin", &data);
    // 3 MiB at 1 MiB/s: 3 s, less the first burst; unlimited it takes
    // a fraction of a second on loopback.
    let (code, out, took) =
        timed(
            env.wantu()
                .args(["cp", "--limit-rate", "1MiB", "big.bin", &remote("/r/")]),
        );
    assert_eq!(code, 0, "{out}");
    assert!(took >= Duration::from_secs(2), "up in {took:?}");
    assert_eq!(env.download("/r", "big.bin"), data);

    let (code, out, took) = timed(env.wantu().args([
        "cp",
        "--limit-rate",
        "1MiB/s",
        &remote("/r/big.bin"),
        "back.bin",
    ]));
    assert_eq!(code, 0, "{out}");
    assert!(took >= Duration::from_secs(2), "down in {took:?}");
    assert_eq!(std::fs::read(env.local().join("back.bin")).unwrap(), data);
}

/// Parallel transfers of a folder share the one budget: 4 files of
/// 768 KiB at once still take 3 s at 1 MiB/s.
#[test]
fn the_files_of_a_folder_share_one_budget() {
    let env = Env::start();
    for i in 0..4 {
        env.write(&format!("tree/f{i}"), &bytes(768 * 1024, i));
    }
    let (code, out, took) = timed(env.wantu().args([
        "sync",
        "--limit-rate",
        "1024K",
        "--concurrency",
        "4",
        "tree",
        &remote("/t/"),
    ]));
    assert_eq!(code, 0, "{out}");
    assert!(took >= Duration::from_secs(2), "up in {took:?}");
    let (code, out, took) =
        timed(
            env.wantu()
                .args(["sync", "--limit-rate", "1MiB", &remote("/t/"), "copy"]),
        );
    assert_eq!(code, 0, "{out}");
    assert!(took >= Duration::from_secs(2), "down in {took:?}");
    assert!(env.local().join("copy/f3").exists());
}

#[test]
fn a_rate_of_zero_or_garbage_is_a_usage_error() {
    let env = Env::start();
    env.write("a", b"a");
    for bad in ["0", "0K", "fast", "", "-5", "1.5M", "2MiB/h"] {
        let flag = format!("--limit-rate={bad}");
        let (code, _, err) = run(env.wantu().args(["cp", &flag, "a", &remote("/z/")]));
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(
            err.contains("--limit-rate") && err.contains("not a rate"),
            "{bad}: {err}"
        );
    }
    assert!(env.stat("/z", "a").is_none(), "nothing was sent");
}

/// The library's client option: 0 is refused by name when the client is
/// made, and the option is read from the options JSON.
#[test]
fn the_client_option_refuses_zero() {
    let mut config = wantu::ClientConfig::new("ak", "sk", None, None, None).unwrap();
    config.options =
        wantu::ClientOptions::from_json(Some(r#"{"limit_rate_bytes_per_sec":0}"#)).unwrap();
    let err = wantu::Client::new(config).err().expect("0 is refused");
    assert!(
        err.message().contains("limit_rate_bytes_per_sec"),
        "{err:?}"
    );
    let o =
        wantu::ClientOptions::from_json(Some(r#"{"limit_rate_bytes_per_sec":2097152}"#)).unwrap();
    assert_eq!(o.limit_rate_bytes_per_sec, Some(2_097_152));
    assert!(wantu::ClientOptions::from_json(Some(r#"{"limit_rate_bytes_per_sec":"2M"}"#)).is_err());
}
