//! Harness for the `wantu` tool's tests: a wantu-server per test (in this
//! process, on a free port), the tool run as a child process with a clean
//! environment, and a library client to check the server's state.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use wantu::{Client, ClientConfig};
use wantu_server::{Config, ServerHandle};

pub const AK: &str = "cli-ak";
pub const SK: &str = "cli-sk-0123456789abcdef";
pub const NS: &str = "clins";

pub struct Env {
    pub server: ServerHandle,
    /// The server's data, the tool's home (config, cache) and local files.
    pub root: tempfile::TempDir,
    pub client: Client,
}

impl Env {
    pub fn start() -> Env {
        let root = tempfile::tempdir().expect("temp dir");
        let config = Config::new(
            root.path().join("server"),
            vec![(AK.to_string(), SK.to_string())],
        );
        let server = wantu_server::spawn(config).expect("wantu-server starts");
        let url = server.base_url();
        let client =
            Client::new(ClientConfig::new(AK, SK, None, Some(&url), Some(&url)).unwrap()).unwrap();
        std::fs::create_dir_all(root.path().join("home")).unwrap();
        std::fs::create_dir_all(root.path().join("local")).unwrap();
        Env {
            server,
            root,
            client,
        }
    }

    pub fn url(&self) -> String {
        self.server.base_url()
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// A folder for local files.
    pub fn local(&self) -> PathBuf {
        self.root.path().join("local")
    }

    /// Writes a local file (creating folders) and answers its path.
    pub fn write(&self, rel: &str, data: &[u8]) -> PathBuf {
        let p = self.local().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        p
    }

    /// The tool with nothing from the caller's environment: HOME and the
    /// XDG folders in the test's temp dir, no WANTU_* variables.
    pub fn bare(&self) -> Command {
        let mut cmd = Command::cargo_bin("wantu").expect("the wantu binary");
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join("config"))
            .env("XDG_CACHE_HOME", self.home().join("cache"))
            .current_dir(self.local());
        cmd
    }

    /// The tool with keys and endpoint of this server in the environment.
    pub fn wantu(&self) -> Command {
        let mut cmd = self.bare();
        cmd.env("WANTU_AK", AK)
            .env("WANTU_SK", SK)
            .env("WANTU_ENDPOINT", self.url());
        cmd
    }

    /// The stored file object, or None.
    pub fn stat(&self, dir: &str, name: &str) -> Option<Value> {
        self.client
            .run(self.client.file_get(NS, dir, name))
            .unwrap()
            .ok()
    }

    pub fn folder_exists(&self, dir: &str) -> bool {
        let v = self
            .client
            .run(self.client.dir_exists(NS, dir))
            .unwrap()
            .unwrap();
        v["exist"] == true
    }

    /// Downloads a stored file through its URL.
    pub fn download(&self, dir: &str, name: &str) -> Vec<u8> {
        let info = self.stat(dir, name).expect("the file exists");
        let url = info["url"].as_str().unwrap().to_string();
        self.fetch(&url)
    }

    pub fn fetch(&self, url: &str) -> Vec<u8> {
        self.client
            .run(async {
                let r = self.client.http().get(url).send().await.expect("GET");
                assert_eq!(r.status().as_u16(), 200, "GET {url}");
                r.bytes().await.unwrap().to_vec()
            })
            .unwrap()
    }

    /// Uploads bytes with the library, to set up server state.
    pub fn put(&self, dir: &str, name: &str, data: &[u8]) {
        let policy = wantu::policy::Policy::parse(
            &serde_json::json!({"namespace": NS, "expiration": -1}).to_string(),
        )
        .unwrap();
        let target = wantu::upload::Target {
            dir: Some(dir.into()),
            name: Some(name.into()),
            ..Default::default()
        };
        let content = wantu::upload::Content::Bytes(data.to_vec().into());
        self.client
            .run(self.client.upload(&policy, &target, content, None))
            .unwrap()
            .unwrap();
    }
}

/// Runs the command; answers (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("wantu runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every stdout line as JSON.
pub fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn remote(path: &str) -> String {
    format!("wantu://{NS}{path}")
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// `s` quoted for sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Runs the tool under a pseudo-terminal (util-linux `script`), as at a
/// terminal; answers whether it succeeded and everything it drew.
pub fn run_in_pty(env: &Env, args: &[&str]) -> (bool, String) {
    let bin = assert_cmd::cargo::cargo_bin("wantu");
    let command = std::iter::once(bin.to_str().unwrap().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .map(|a| sh_quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("WANTU_AK", AK)
        .env("WANTU_SK", SK)
        .env("WANTU_ENDPOINT", env.url())
        .env("HOME", env.home())
        .env("TERM", "xterm")
        .current_dir(env.local())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("`script` (util-linux) runs; scripts/ensure-deps.sh installs it");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Starts the tool with stdout piped (for `--json`).
pub fn spawn(env: &Env, args: &[&str]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("wantu"))
        .args(args)
        .env_clear()
        .env("WANTU_AK", AK)
        .env("WANTU_SK", SK)
        .env("WANTU_ENDPOINT", env.url())
        .env("HOME", env.home())
        .current_dir(env.local())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

pub fn signal(child: &std::process::Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

/// Every request waits `ms` first, so an upload takes a while.
pub fn slow(env: &Env, ms: u64) {
    env.server.set_faults(wantu_server::FaultConfig {
        delay_rate: 1.0,
        delay_ms: ms,
        ..wantu_server::FaultConfig::default()
    });
}
