//! Keys and endpoints: each value comes from its flag, else the
//! environment, else the config file that `wantu config` writes.
//!
//! The config file is plain `key = value` lines (`ak`, `sk`, `type`,
//! `upload_endpoint`, `manage_endpoint`; `#` starts a comment). It lives at
//! `--config PATH`, else `$WANTU_CONFIG`, else `$XDG_CONFIG_HOME/wantu/config`,
//! else `~/.config/wantu/config`, and is written with mode 0600 because it
//! holds the secret key. The secret is never printed.

use crate::fail::{Fail, Outcome};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The keys a config file may hold, in the order they are written.
pub const KEYS: [&str; 5] = ["ak", "sk", "type", "upload_endpoint", "manage_endpoint"];
/// A config file larger than this is not a config file.
const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// What the command line says about keys and endpoints.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub ak: Option<String>,
    pub sk: Option<String>,
    pub key_type: Option<String>,
    pub endpoint: Option<String>,
    pub upload_endpoint: Option<String>,
    pub manage_endpoint: Option<String>,
    pub config: Option<PathBuf>,
}

impl Flags {
    /// The values given by flags, as config-file keys.
    pub fn given(&self) -> BTreeMap<&'static str, String> {
        let mut out = BTreeMap::new();
        let mut put = |k, v: &Option<String>| {
            if let Some(v) = v {
                out.insert(k, v.clone());
            }
        };
        put("ak", &self.ak);
        put("sk", &self.sk);
        put("type", &self.key_type);
        put("upload_endpoint", &self.endpoint);
        put("manage_endpoint", &self.endpoint);
        put("upload_endpoint", &self.upload_endpoint);
        put("manage_endpoint", &self.manage_endpoint);
        out
    }
}

/// Where the config file is (whether or not it exists).
pub fn config_path(flags: &Flags) -> Outcome<PathBuf> {
    if let Some(p) = &flags.config {
        return Ok(p.clone());
    }
    if let Some(p) = env("WANTU_CONFIG") {
        return Ok(PathBuf::from(p));
    }
    let base = match env("XDG_CONFIG_HOME") {
        Some(x) => PathBuf::from(x),
        None => match env("HOME") {
            Some(h) => Path::new(&h).join(".config"),
            None => {
                return Err(Fail::Config(
                    "cannot place the config file: neither XDG_CONFIG_HOME nor HOME is set; \
                     give --config PATH or WANTU_CONFIG"
                        .into(),
                ))
            }
        },
    };
    Ok(base.join("wantu").join("config"))
}

/// A non-empty environment variable.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Reads a config file; a missing file is an empty one.
pub fn read_config(path: &Path) -> Outcome<BTreeMap<String, String>> {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => {
            return Err(Fail::Config(format!(
                "cannot read config file {shown}: {e}"
            )))
        }
    };
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(Fail::Config(format!(
            "config file {shown} is larger than {MAX_CONFIG_BYTES} bytes; is it the right file?"
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Fail::Config(format!("cannot read config file {shown}: {e}")))?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| Fail::Config(format!("config file {shown}, line {}: {why}", i + 1));
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| bad("expected `key = value`"))?;
        let key = key.trim();
        if !KEYS.contains(&key) {
            return Err(bad(&format!(
                "unknown key {key:?} (known: {})",
                KEYS.join(", ")
            )));
        }
        out.insert(key.to_string(), value.trim().to_string());
    }
    Ok(out)
}

/// Writes the config file with mode 0600 (created so, and tightened if it
/// existed), through a temporary file and a rename.
pub fn write_config(path: &Path, values: &BTreeMap<String, String>) -> Outcome {
    let shown = path.display();
    let fail = |e: std::io::Error| Fail::Config(format!("cannot write config file {shown}: {e}"));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut text = String::from("# wantu configuration, written by `wantu config`\n");
    for key in KEYS {
        if let Some(v) = values.get(key) {
            if v.contains('\n') {
                return Err(Fail::Usage(format!(
                    "the value of {key} contains a line break"
                )));
            }
            text.push_str(&format!("{key} = {v}\n"));
        }
    }
    let temp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temp).map_err(fail)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(fail)?;
        }
        file.write_all(text.as_bytes()).map_err(fail)?;
        file.sync_all().map_err(fail)?;
    }
    std::fs::rename(&temp, path).map_err(fail)
}

/// Builds the client configuration: flag, then environment, then file.
pub fn client_config(flags: &Flags) -> Outcome<wantu::ClientConfig> {
    let path = config_path(flags)?;
    let file = read_config(&path)?;
    let from_file = |k: &str| file.get(k).filter(|v| !v.is_empty()).cloned();
    let ak = flags
        .ak
        .clone()
        .or_else(|| env("WANTU_AK"))
        .or_else(|| from_file("ak"));
    let sk = flags
        .sk
        .clone()
        .or_else(|| env("WANTU_SK"))
        .or_else(|| from_file("sk"));
    let key_type = flags
        .key_type
        .clone()
        .or_else(|| env("WANTU_TYPE"))
        .or_else(|| from_file("type"));
    let endpoint = |specific: &Option<String>, var: &str, key: &str| {
        specific
            .clone()
            .or_else(|| flags.endpoint.clone())
            .or_else(|| env(var))
            .or_else(|| env("WANTU_ENDPOINT"))
            .or_else(|| from_file(key))
    };
    let upload = endpoint(
        &flags.upload_endpoint,
        "WANTU_UPLOAD_ENDPOINT",
        "upload_endpoint",
    );
    let manage = endpoint(
        &flags.manage_endpoint,
        "WANTU_MANAGE_ENDPOINT",
        "manage_endpoint",
    );
    let shown = path.display();
    let (Some(ak), Some(sk)) = (ak, sk) else {
        return Err(Fail::Config(format!(
            "no access key and secret key: give --ak and --sk, set WANTU_AK and WANTU_SK, \
             or run `wantu config --ak AK --sk-stdin` (config file: {shown})"
        )));
    };
    wantu::ClientConfig::new(
        &ak,
        &sk,
        key_type.as_deref(),
        upload.as_deref(),
        manage.as_deref(),
    )
    .map_err(|e| Fail::Config(format!("{} (config file: {shown})", e.message())))
}
