//! `wantu config` and where keys come from: flags, then the environment,
//! then the config file.

mod common;
use common::*;
use std::io::Write;

#[test]
fn config_writes_a_private_file_and_never_prints_the_secret() {
    let env = Env::start();
    let mut cmd = env.bare();
    cmd.args(["config", "--ak", AK, "--sk-stdin", "--endpoint", &env.url()])
        .write_stdin(format!("{SK}\n"));
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains(SK) && !err.contains(SK), "{out}{err}");
    assert!(out.contains("sk = (set)"), "{out}");

    let path = env.home().join("config/wantu/config");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&format!("sk = {SK}")));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // The tool now works with no keys in flags or environment.
    env.put("/", "f.txt", b"f");
    let (code, out, err) = run(env.bare().args(["ls", &remote("/")]));
    assert_eq!((code, out.as_str()), (0, "f.txt\n"), "{err}");
    let (_, out, err) = run(env.bare().args(["--json", "config"]));
    assert!(!out.contains(SK) && !err.contains(SK));
    let v = &json_lines(&out)[0];
    assert_eq!(
        (v["ak"].as_str(), v["sk"].as_str()),
        (Some(AK), Some("(set)"))
    );
}

#[test]
fn flags_beat_the_environment_which_beats_the_file() {
    let env = Env::start();
    env.put("/", "f.txt", b"f");
    let file = env.root.path().join("other.conf");
    let mut f = std::fs::File::create(&file).unwrap();
    writeln!(
        f,
        "ak = {AK}\nsk = wrong-in-file\nupload_endpoint = {}\nmanage_endpoint = {}",
        env.url(),
        env.url()
    )
    .unwrap();
    drop(f);
    let conf = file.to_str().unwrap();

    // The file's secret is wrong: refused, naming the key.
    let (code, _, err) = run(env.bare().args(["--config", conf, "ls", &remote("/")]));
    assert_eq!(code, 2, "{err}");
    // The environment's secret wins over the file's…
    let (code, _, err) = run(env
        .bare()
        .env("WANTU_CONFIG", conf)
        .env("WANTU_SK", SK)
        .args(["ls", &remote("/")]));
    assert_eq!(code, 0, "{err}");
    // …and the flag's over the environment's.
    let (code, _, err) = run(env
        .bare()
        .env("WANTU_CONFIG", conf)
        .env("WANTU_SK", "wrong-in-env")
        .args(["--sk", SK, "ls", &remote("/")]));
    assert_eq!(code, 0, "{err}");
    // Separate host variables beat WANTU_ENDPOINT.
    let (code, _, err) = run(env
        .wantu()
        .env("WANTU_ENDPOINT", "http://127.0.0.1:9")
        .env("WANTU_MANAGE_ENDPOINT", env.url())
        .args(["ls", &remote("/")]));
    assert_eq!(code, 0, "{err}");

    let mut f = std::fs::File::create(&file).unwrap();
    writeln!(f, "ak = x\nsecret = y").unwrap();
    let (code, _, err) = run(env.bare().args(["--config", conf, "ls", &remote("/")]));
    assert_eq!(code, 2);
    assert!(err.contains("line 2") && err.contains("secret"), "{err}");
}
