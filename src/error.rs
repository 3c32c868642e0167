//! The error model shared by every call.
//!
//! Two families, as docs/design.md ("The result contract") says: the server
//! answered with a non-200 status (`Server`), or no usable HTTP answer exists
//! (everything else, reported with `code` 0 and a stable `error` name).

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A caller-supplied argument is missing or malformed.
    InvalidArgument(String),
    /// A local file could not be read (missing, a directory, no permission).
    Io(String),
    /// A local file changed (size, content or times) while it was being
    /// uploaded; nothing was stored.
    FileChanged(String),
    /// The connection could not be made or broke off.
    Connect(String),
    /// A connect or request timeout elapsed.
    Timeout(String),
    /// The caller cancelled the operation.
    Cancelled(String),
    /// The server answered something that is not the protocol.
    InvalidResponse(String),
    /// A bug or an unexpected state inside the library.
    Internal(String),
    /// A client's cap on pending non-blocking operations was reached.
    TooManyOperations(String),
    /// The server answered with a non-200 status.
    Server {
        status: u16,
        code: String,
        message: String,
        request_id: String,
    },
}

impl Error {
    /// The stable `error` name of the result JSON.
    pub fn name(&self) -> &str {
        match self {
            Error::InvalidArgument(_) => "InvalidArgument",
            Error::Io(_) => "IoError",
            Error::FileChanged(_) => "FileChanged",
            Error::Connect(_) => "ConnectError",
            Error::Timeout(_) => "Timeout",
            Error::Cancelled(_) => "Cancelled",
            Error::InvalidResponse(_) => "InvalidResponse",
            Error::Internal(_) => "Internal",
            Error::TooManyOperations(_) => "TooManyOperations",
            Error::Server { code, .. } => code,
        }
    }

    /// The `code` of the result JSON: the HTTP status, or 0 when there was none.
    pub fn code(&self) -> u16 {
        match self {
            Error::Server { status, .. } => *status,
            _ => 0,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Error::InvalidArgument(m)
            | Error::Io(m)
            | Error::FileChanged(m)
            | Error::Connect(m)
            | Error::Timeout(m)
            | Error::Cancelled(m)
            | Error::InvalidResponse(m)
            | Error::Internal(m)
            | Error::TooManyOperations(m) => m,
            Error::Server { message, .. } => message,
        }
    }

    /// Whether repeating the same request may succeed: connection trouble,
    /// timeouts, 429 and 5xx. Other 4xx answers are final, and so are 501
    /// (an operation the server does not implement stays unimplemented) and
    /// 507 (a full disk does not empty itself within a retry budget).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Connect(_) | Error::Timeout(_) => true,
            Error::Server { status, .. } => {
                *status == 429 || (*status >= 500 && !matches!(*status, 501 | 507))
            }
            _ => false,
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    /// Turns a reqwest failure into our model, naming the host that failed.
    pub fn from_http(err: reqwest::Error, what: &str) -> Self {
        let target = err
            .url()
            .map(|u| format!("{}://{}", u.scheme(), u.authority()))
            .unwrap_or_else(|| "the server".to_string());
        let detail = error_chain(&err);
        if err.is_timeout() {
            Error::Timeout(format!(
                "{what}: no answer from {target} in time ({detail})"
            ))
        } else if err.is_connect() {
            Error::Connect(format!("{what}: cannot connect to {target} ({detail})"))
        } else if err.is_builder() {
            Error::InvalidArgument(format!("{what}: cannot build the request ({detail})"))
        } else if err.is_body() && !err.is_request() {
            Error::Io(format!("{what}: cannot read the request body ({detail})"))
        } else {
            Error::Connect(format!("{what}: transfer to {target} failed ({detail})"))
        }
    }
}

/// The messages of an error and all its sources, joined: reqwest's top-level
/// text alone ("error sending request") does not say what went wrong.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.name(), self.code(), self.message())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
