//! Errors name their cause, and exit codes follow `--help`: 1 when files
//! or the operation failed, 2 for usage and configuration errors.

mod common;
use common::*;

/// An endpoint where nothing listens: a port bound and then released.
fn refused_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn wrong_secret_names_the_key_and_the_endpoint() {
    let env = Env::start();
    env.write("a.txt", b"a");
    for args in [
        vec!["ls".to_string(), remote("/")],
        vec!["cp".to_string(), "a.txt".to_string(), remote("/")],
    ] {
        let (code, _, err) = run(env.wantu().env("WANTU_SK", "not-the-secret").args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(AK) && err.contains(&env.url()),
            "{args:?}: {err}"
        );
        assert!(err.contains("secret key"), "{err}");
    }
    assert!(env.stat("/", "a.txt").is_none());
}

#[test]
fn unreachable_endpoint_names_the_host() {
    let env = Env::start();
    env.write("a.txt", b"a");
    let dead = refused_endpoint();
    for args in [
        vec!["ls".to_string(), remote("/")],
        vec!["cp".to_string(), "a.txt".to_string(), remote("/")],
    ] {
        let (code, _, err) = run(env.wantu().env("WANTU_ENDPOINT", &dead).args(&args));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(&dead), "{args:?}: {err}");
    }
}

#[test]
fn missing_local_file_names_the_path() {
    let env = Env::start();
    env.write("here.txt", b"here");
    let (code, out, err) =
        run(env
            .wantu()
            .args(["--json", "cp", "here.txt", "not-here.txt", &remote("/d/")]));
    assert_eq!(code, 1, "{err}");
    let lines = json_lines(&out);
    let failed: Vec<_> = lines.iter().filter(|v| v["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{out}");
    assert_eq!(failed[0]["path"], "not-here.txt");
    assert!(failed[0]["error"]
        .as_str()
        .unwrap()
        .contains("not-here.txt"));
    assert_eq!(lines.last().unwrap()["uploaded"], 1, "the other file went");
    assert!(env.stat("/d", "here.txt").is_some());

    let (code, _, err) = run(env.wantu().args(["cp", "not-here.txt", &remote("/d/")]));
    assert_eq!(code, 1);
    assert!(err.contains("not-here.txt"), "{err}");
}

#[test]
fn remote_path_without_namespace_is_a_usage_error() {
    let env = Env::start();
    env.write("a.txt", b"a");
    for args in [
        vec!["ls", "wantu:///dir/"],
        vec!["cp", "a.txt", "wantu:///dir/a.txt"],
        vec!["stat", "wantu://"],
    ] {
        // Named even with no keys configured at all.
        let (code, _, err) = run(env.bare().args(&args));
        assert_eq!(code, 2, "{args:?}");
        let arg = args.last().unwrap();
        assert!(err.contains(arg) && err.contains("no namespace"), "{err}");
    }
}

#[test]
fn missing_keys_and_bad_usage_exit_2() {
    let env = Env::start();
    let (code, _, err) = run(env.bare().args(["ls", &remote("/")]));
    assert_eq!(code, 2);
    assert!(
        err.contains("WANTU_AK") && err.contains("wantu config"),
        "{err}"
    );
    let (code, _, _) = run(env.wantu().args(["ls"]));
    assert_eq!(code, 2, "clap's usage errors");
    let (code, _, err) = run(env
        .wantu()
        .args(["cp", "--part-size", "1KiB", "a", &remote("/")]));
    assert_eq!(code, 2);
    assert!(err.contains("--part-size"), "{err}");
    let (code, _, err) = run(env.wantu().args(["cp", "a", "b"]));
    assert_eq!(code, 2);
    assert!(err.contains("remote path"), "{err}");
}

#[test]
fn help_shows_examples_and_exit_codes() {
    let env = Env::start();
    let (code, out, _) = run(env.bare().arg("--help"));
    assert_eq!(code, 0);
    assert!(out.contains("Exit codes:") && out.contains("2  usage or configuration"));
    for cmd in [
        "config",
        "ls",
        "stat",
        "rm",
        "mv",
        "mkdir",
        "url",
        "token",
        "cp",
        "sync",
        "completions",
    ] {
        let (code, out, _) = run(env.bare().args([cmd, "--help"]));
        assert_eq!(code, 0, "{cmd}");
        let examples = out.split("Examples:\n").nth(1).unwrap_or_default();
        assert!(
            examples.contains(&format!("wantu {cmd} ")),
            "{cmd} --help: {out}"
        );
    }
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, _) = run(env.bare().args(["completions", shell]));
        assert_eq!(code, 0);
        assert!(out.contains("wantu") && out.contains("sync"), "{shell}");
    }
}
