//! The request log: one line per request on stderr.

use std::io::Write;
use std::time::Duration;

/// Upload tokens may travel in the query string; they are credentials and
/// must not end up in logs.
fn redact(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else {
        return target.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("authorization") => format!("{k}=<redacted>"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// `METHOD TARGET STATUS in=BYTES out=BYTES MS` where `in` counts request
/// body bytes read and `out` the response length when known.
pub fn request(
    method: &str,
    target: &str,
    status: &str,
    bytes_in: u64,
    bytes_out: Option<u64>,
    elapsed: Duration,
) {
    let out = bytes_out.map_or_else(|| "-".to_string(), |n| n.to_string());
    let line = format!(
        "{method} {} {status} in={bytes_in} out={out} {:.1}ms\n",
        redact(target),
        elapsed.as_secs_f64() * 1000.0
    );
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

pub fn note(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "wantu-server: {message}");
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_redacted() {
        assert_eq!(
            super::redact("/api/proxy/upload?a=1&Authorization=UPLOAD_AK_TOP+xyz"),
            "/api/proxy/upload?a=1&Authorization=<redacted>"
        );
        assert_eq!(super::redact("/files/x"), "/files/x");
    }
}
