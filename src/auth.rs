//! Tokens and resource ids, exactly as docs/protocol.md §2 specifies.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Which kind of key pair this is; it names the token schemes and User-Agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Top,
    Cloud,
}

impl KeyType {
    /// Parses the `type` argument of the service's Python SDK; `None` means
    /// TOP, its default.
    pub fn parse(text: Option<&str>) -> Option<KeyType> {
        match text.map(str::trim) {
            None | Some("") => Some(KeyType::Top),
            Some(t) if t.eq_ignore_ascii_case("TOP") => Some(KeyType::Top),
            Some(t) if t.eq_ignore_ascii_case("CLOUD") => Some(KeyType::Cloud),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Top => "TOP",
            KeyType::Cloud => "CLOUD",
        }
    }
}

/// URL-safe Base64 without padding: what the client always sends.
pub fn b64u(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Decodes any Base64 variant (either alphabet, padded or not), as the
/// users of the service's Python SDK produce with `base64.urlsafe_b64encode`
/// or plain `b64encode`.
pub fn b64_decode_lenient(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    [URL_SAFE_NO_PAD, URL_SAFE, STANDARD_NO_PAD, STANDARD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

/// Lower-case hex HMAC-SHA1 of `message` under `secret`.
pub fn hmac_sha1_hex(secret: &str, message: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// The upload token for a policy JSON text, used verbatim.
pub fn upload_token(ak: &str, sk: &str, key_type: KeyType, policy_json: &str) -> String {
    let encoded_policy = b64u(policy_json.as_bytes());
    let sign = hmac_sha1_hex(sk, encoded_policy.as_bytes());
    let inner = format!("{ak}:{encoded_policy}:{sign}");
    format!("UPLOAD_AK_{} {}", key_type.as_str(), b64u(inner.as_bytes()))
}

/// The manage token over the request target as sent, the exact urlencoded
/// body ("" when none) and the exact `Date` header value.
pub fn manage_token(
    ak: &str,
    sk: &str,
    key_type: KeyType,
    path_with_query: &str,
    body: &str,
    date: &str,
) -> String {
    let string_to_sign = format!("{path_with_query}\n{body}\n{date}");
    let sign = hmac_sha1_hex(sk, string_to_sign.as_bytes());
    format!(
        "ACL_{} {}",
        key_type.as_str(),
        b64u(format!("{ak}:{sign}").as_bytes())
    )
}

/// Resource id of a file: b64u of the JSON array `[namespace, dir, name]`.
pub fn file_resource_id(namespace: &str, dir: &str, name: &str) -> String {
    b64u(
        serde_json::json!([namespace, dir, name])
            .to_string()
            .as_bytes(),
    )
}

/// Resource id of a folder: b64u of the JSON array `[namespace, dir]`.
pub fn dir_resource_id(namespace: &str, dir: &str) -> String {
    b64u(serde_json::json!([namespace, dir]).to_string().as_bytes())
}

/// Lower-case hex MD5.
pub fn md5_hex(data: &[u8]) -> String {
    crate::transfer::digest::md5_hex(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = "12345678";
    const SK: &str = "0123456789abcdef0123456789abcdef";
    const POLICY: &str = r#"{"namespace":"demo","expiration":-1,"insertOnly":0,"detectMime":1,"dir":"/test","name":"test.jpg"}"#;

    #[test]
    fn upload_token_known_answer() {
        assert_eq!(
            upload_token(AK, SK, KeyType::Top, POLICY),
            "UPLOAD_AK_TOP MTIzNDU2Nzg6ZXlKdVlXMWxjM0JoWTJVaU9pSmtaVzF2SWl3aVpYaHdhWEpoZEdsdmJpSTZMVEVzSW1sdWMyVnlkRTl1YkhraU9qQXNJbVJsZEdWamRFMXBiV1VpT2pFc0ltUnBjaUk2SWk5MFpYTjBJaXdpYm1GdFpTSTZJblJsYzNRdWFuQm5JbjA6OTliNDcwYTJlNTUxNzljOTQwNWU0MDE3MTUyYTAzYjYzOTk4MmRjZg"
        );
    }

    #[test]
    fn python_style_token_decodes_to_a_valid_signature() {
        // The old Python SDK's padded token: its signature covers the padded
        // encoded policy verbatim, which our HMAC reproduces.
        let token = "MTIzNDU2Nzg6ZXlKdVlXMWxjM0JoWTJVaU9pQWlaR1Z0YnlJc0lDSmxlSEJwY21GMGFXOXVJam9nTFRFc0lDSnBibk5sY25SUGJteDVJam9nTUN3Z0ltUmxkR1ZqZEUxcGJXVWlPaUF4TENBaVpHbHlJam9nSWk5MFpYTjBJaXdnSW01aGJXVWlPaUFpZEdWemRDNXFjR2NpZlE9PToxOTQyZTIzNmU0MTk0NzgwOTU1YzQzN2QwNzM3ZWI5MjI1Y2YwOTM3";
        let inner = String::from_utf8(b64_decode_lenient(token).unwrap()).unwrap();
        let parts: Vec<&str> = inner.split(':').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], AK);
        assert_eq!(hmac_sha1_hex(SK, parts[1].as_bytes()), parts[2]);
    }

    #[test]
    fn resource_id_known_answer() {
        assert_eq!(
            file_resource_id("demo", "/test", "test.jpg"),
            "WyJkZW1vIiwiL3Rlc3QiLCJ0ZXN0LmpwZyJd"
        );
    }

    #[test]
    fn manage_token_known_answer() {
        let path = "/3.0/files/WyJkZW1vIiwiL3Rlc3QiLCJ0ZXN0LmpwZyJd/exist";
        assert_eq!(
            manage_token(AK, SK, KeyType::Top, path, "", "1437535493816"),
            "ACL_TOP MTIzNDU2Nzg6YTAwY2YyNzY4NTA4MGFlZDU0MzAxMjQ1NTA0ZmM5YzY3Y2Y4NWQ5OA"
        );
    }

    #[test]
    fn key_type_parsing() {
        assert_eq!(KeyType::parse(None), Some(KeyType::Top));
        assert_eq!(KeyType::parse(Some("cloud")), Some(KeyType::Cloud));
        assert_eq!(KeyType::parse(Some("OSS")), None);
    }
}
