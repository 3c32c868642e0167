//! Why a command stopped, and its exit code: 0 all done, 1 some files or
//! the operation failed, 2 a usage or configuration error (clap's own
//! usage errors also exit 2).

use std::fmt;

#[derive(Debug)]
pub enum Fail {
    /// The command line is wrong; nothing was attempted.
    Usage(String),
    /// Keys, endpoints or the config file are missing or wrong.
    Config(String),
    /// The operation was attempted and failed.
    Failed(String),
    /// Some files or paths failed, each reported already as it happened.
    Reported,
}

pub type Outcome<T = ()> = Result<T, Fail>;

impl Fail {
    pub fn exit_code(&self) -> i32 {
        match self {
            Fail::Usage(_) | Fail::Config(_) => 2,
            Fail::Failed(_) | Fail::Reported => 1,
        }
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fail::Usage(m) | Fail::Config(m) | Fail::Failed(m) => f.write_str(m),
            Fail::Reported => f.write_str("some files failed"),
        }
    }
}

/// Which host a call went to, so errors can name it.
#[derive(Debug, Clone, Copy)]
pub enum Host {
    Upload,
    Manage,
}

/// Turns a library error into a message that says what failed and how to
/// fix it. Refused keys are a configuration error (exit 2) naming the
/// access key and the endpoint; everything else is a failure (exit 1).
pub fn explain(err: &wantu::Error, client: &wantu::Client, host: Host) -> Fail {
    let config = client.config();
    let endpoint = match host {
        Host::Upload => &config.upload_endpoint,
        Host::Manage => &config.manage_endpoint,
    };
    let (flag, var) = match host {
        Host::Upload => ("--upload-endpoint", "WANTU_UPLOAD_ENDPOINT"),
        Host::Manage => ("--manage-endpoint", "WANTU_MANAGE_ENDPOINT"),
    };
    match err {
        // 401 refuses the keys; 403 refuses one operation (e.g. across
        // namespaces) and is an ordinary failure.
        wantu::Error::Server { status: 401, .. } => Fail::Config(format!(
            "the server at {endpoint} refused access key {ak:?} ({name}: {msg}); \
                 check the secret key that belongs to it (--sk, WANTU_SK or `wantu config`)",
            ak = config.access_key,
            name = err.name(),
            msg = err.message(),
        )),
        wantu::Error::Connect(m) | wantu::Error::Timeout(m) => Fail::Failed(format!(
            "{m}; check that the endpoint is right ({flag}, --endpoint, {var} or WANTU_ENDPOINT) \
             and reachable"
        )),
        wantu::Error::InvalidArgument(m) => Fail::Usage(m.clone()),
        other => Fail::Failed(other.message().to_string()),
    }
}
