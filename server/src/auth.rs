//! Authentication: lenient Base64, upload tokens, manage signatures and
//! resource ids (docs/protocol.md, authentication).

use std::collections::HashMap;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::http::error::{ApiError, ApiResult};
use crate::paths;
use crate::upload::policy::Policy;

/// Shipping SDKs disagree on the alphabet and on padding, so decoding maps
/// everything onto the standard alphabet and ignores padding entirely.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes Base64 in either alphabet, padded or not. Whitespace is dropped
/// (line-wrapped encoders) and a space stands for `+` (a `+` that went
/// through form decoding in a query string).
pub fn b64_decode_lenient(s: &str) -> Option<Vec<u8>> {
    let mapped: String = s
        .trim()
        .chars()
        .filter(|c| *c != '\n' && *c != '\r' && *c != '\t')
        .map(|c| match c {
            '-' | ' ' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    LENIENT.decode(mapped.trim_end_matches('=')).ok()
}

/// Unpadded URL-safe Base64, the form the protocol sends.
pub fn b64u_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hmac_sha1_hex(key: &[u8], msg: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(msg);
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time comparison of a computed lower-case hex signature with the
/// one the client sent (upper-case hex is accepted too).
fn signature_matches(expected: &str, given: &str) -> bool {
    let given = given.to_ascii_lowercase();
    bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// A verified upload token.
#[derive(Debug, Clone)]
pub struct UploadAuth {
    pub access_key: String,
    pub policy: Policy,
}

/// Checks the scheme of `<PREFIX>_TOP|<PREFIX>_CLOUD <base64>` and answers
/// the decoded credentials text; `kind` ("upload", "manage") names the token in
/// messages.
fn open_token(token: &str, kind: &str, prefix: &str) -> ApiResult<String> {
    let (scheme, creds) = token.split_once(' ').ok_or_else(|| {
        ApiError::invalid_token(format!(
            "{kind} token must look like '{prefix}_TOP <credentials>'"
        ))
    })?;
    if scheme != format!("{prefix}_TOP") && scheme != format!("{prefix}_CLOUD") {
        return Err(ApiError::invalid_token(format!(
            "unknown {kind} token scheme '{}': expected {prefix}_TOP or {prefix}_CLOUD",
            truncate(scheme)
        )));
    }
    let decoded = b64_decode_lenient(creds)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            ApiError::invalid_token(format!("{kind} token credentials are not valid Base64"))
        })?;
    Ok(decoded)
}

/// Verifies an upload token (`UPLOAD_AK_TOP …` or `UPLOAD_AK_CLOUD …`) and
/// parses its policy, checking `expiration` against `now_ms`.
pub fn verify_upload_token(
    token: &str,
    keys: &HashMap<String, String>,
    now_ms: i64,
) -> ApiResult<UploadAuth> {
    let token = token.trim();
    let decoded = open_token(token, "upload", "UPLOAD_AK")?;
    let pieces: Vec<&str> = decoded.split(':').collect();
    let [ak, encoded_policy, sign] = pieces[..] else {
        return Err(ApiError::invalid_token(
            "upload token must decode to 'AK:encodedPolicy:sign'",
        ));
    };
    let sk = keys
        .get(ak)
        .ok_or_else(|| ApiError::invalid_token(format!("unknown access key '{}'", truncate(ak))))?;
    let expected = hmac_sha1_hex(sk.as_bytes(), encoded_policy.as_bytes());
    if !signature_matches(&expected, sign) {
        return Err(ApiError::invalid_token(
            "upload token signature does not match (wrong secret key or altered policy)",
        ));
    }
    let policy_json = b64_decode_lenient(encoded_policy)
        .ok_or_else(|| ApiError::invalid_policy("encoded policy is not valid Base64"))?;
    let policy = Policy::parse(&policy_json).map_err(ApiError::invalid_policy)?;
    if policy.expiration != -1 && policy.expiration < now_ms {
        return Err(ApiError::token_expired(format!(
            "policy expired at {} ms, server time is {} ms",
            policy.expiration, now_ms
        )));
    }
    Ok(UploadAuth {
        access_key: ak.to_string(),
        policy,
    })
}

/// Allowed distance between a millisecond `Date` and the server clock.
const MAX_SKEW_MS: i64 = 15 * 60 * 1000;

/// Verifies a manage token (`ACL_TOP …`/`ACL_CLOUD …`) over
/// `target + "\n" + body + "\n" + date`; returns the access key.
pub fn verify_manage_token(
    authorization: Option<&[u8]>,
    target: &str,
    body: &[u8],
    date: &[u8],
    keys: &HashMap<String, String>,
    now_ms: i64,
) -> ApiResult<String> {
    let auth = authorization
        .ok_or_else(|| ApiError::invalid_token("missing Authorization header (manage token)"))?;
    let auth = std::str::from_utf8(auth)
        .map_err(|_| ApiError::invalid_token("Authorization header is not UTF-8"))?
        .trim();
    let decoded = open_token(auth, "manage", "ACL")?;
    let (ak, sign) = decoded
        .split_once(':')
        .ok_or_else(|| ApiError::invalid_token("manage token must decode to 'AK:sign'"))?;
    let sk = keys
        .get(ak)
        .ok_or_else(|| ApiError::invalid_token(format!("unknown access key '{}'", truncate(ak))))?;
    let mut msg = Vec::with_capacity(target.len() + body.len() + date.len() + 2);
    msg.extend_from_slice(target.as_bytes());
    msg.push(b'\n');
    msg.extend_from_slice(body);
    msg.push(b'\n');
    msg.extend_from_slice(date);
    let expected = hmac_sha1_hex(sk.as_bytes(), &msg);
    if !signature_matches(&expected, sign) {
        return Err(ApiError::invalid_token(
            "manage signature does not match: it must cover the request target as sent, \
             the exact body and the Date header",
        ));
    }
    // [server choice] only a millisecond epoch is checked for skew: any other
    // Date value is accepted as it is.
    if date.len() == 13 && date.iter().all(u8::is_ascii_digit) {
        let ms: i64 = std::str::from_utf8(date)
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        if (ms - now_ms).abs() > MAX_SKEW_MS {
            return Err(ApiError::time_skewed(format!(
                "Date {ms} is more than 15 minutes away from server time {now_ms}"
            )));
        }
    }
    Ok(ak.to_string())
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Decodes a resource id into its JSON string array. JSON parsing makes `\/`
/// and `\uXXXX` escapes equivalent to the plain characters.
fn decode_rid(rid: &str) -> ApiResult<Vec<String>> {
    let raw = percent_encoding::percent_decode_str(rid).decode_utf8_lossy();
    let bytes = b64_decode_lenient(&raw).ok_or_else(|| {
        ApiError::invalid_argument(format!("resource id '{}' is not Base64", truncate(rid)))
    })?;
    let items: Vec<serde_json::Value> = serde_json::from_slice(&bytes).map_err(|_| {
        ApiError::invalid_argument(format!(
            "resource id '{}' is not a Base64 JSON array",
            truncate(rid)
        ))
    })?;
    items
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Ok(s),
            _ => Err(ApiError::invalid_argument(
                "resource id array must hold only strings",
            )),
        })
        .collect()
}

/// A file resource id `[namespace, dir, name]`, validated and normalised.
pub fn decode_file_rid(rid: &str) -> ApiResult<(String, String, String)> {
    let items = decode_rid(rid)?;
    let [ns, dir, name] = <[String; 3]>::try_from(items).map_err(|_| {
        ApiError::invalid_argument("file resource id must be [namespace, dir, name]")
    })?;
    paths::validate_namespace(&ns)?;
    let dir = paths::normalize_dir(&dir)?;
    paths::validate_name(&name)?;
    Ok((ns, dir, name))
}

/// A folder resource id `[namespace, dir]` (a trailing empty name is tolerated).
pub fn decode_folder_rid(rid: &str) -> ApiResult<(String, String)> {
    let mut items = decode_rid(rid)?;
    if items.len() == 3 && items[2].is_empty() {
        items.pop();
    }
    let [ns, dir] = <[String; 2]>::try_from(items)
        .map_err(|_| ApiError::invalid_argument("folder resource id must be [namespace, dir]"))?;
    paths::validate_namespace(&ns)?;
    let dir = paths::normalize_dir(&dir)?;
    Ok((ns, dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = "12345678";
    const SK: &str = "0123456789abcdef0123456789abcdef";

    fn keys() -> HashMap<String, String> {
        HashMap::from([(AK.to_string(), SK.to_string())])
    }

    #[test]
    fn known_answer_tokens_verify() {
        let compact = "UPLOAD_AK_TOP MTIzNDU2Nzg6ZXlKdVlXMWxjM0JoWTJVaU9pSmtaVzF2SWl3aVpYaHdhWEpoZEdsdmJpSTZMVEVzSW1sdWMyVnlkRTl1YkhraU9qQXNJbVJsZEdWamRFMXBiV1VpT2pFc0ltUnBjaUk2SWk5MFpYTjBJaXdpYm1GdFpTSTZJblJsYzNRdWFuQm5JbjA6OTliNDcwYTJlNTUxNzljOTQwNWU0MDE3MTUyYTAzYjYzOTk4MmRjZg";
        let python = "UPLOAD_AK_TOP MTIzNDU2Nzg6ZXlKdVlXMWxjM0JoWTJVaU9pQWlaR1Z0YnlJc0lDSmxlSEJwY21GMGFXOXVJam9nTFRFc0lDSnBibk5sY25SUGJteDVJam9nTUN3Z0ltUmxkR1ZqZEUxcGJXVWlPaUF4TENBaVpHbHlJam9nSWk5MFpYTjBJaXdnSW01aGJXVWlPaUFpZEdWemRDNXFjR2NpZlE9PToxOTQyZTIzNmU0MTk0NzgwOTU1YzQzN2QwNzM3ZWI5MjI1Y2YwOTM3";
        for t in [compact, python] {
            let a = verify_upload_token(t, &keys(), 1_700_000_000_000).unwrap();
            assert_eq!(a.access_key, AK);
            assert_eq!(a.policy.namespace, "demo");
            assert_eq!(a.policy.dir.as_deref(), Some("/test"));
            assert_eq!(a.policy.name.as_deref(), Some("test.jpg"));
            assert!(a.policy.detect_mime && !a.policy.insert_only);
        }
    }

    #[test]
    fn known_answer_manage_token() {
        let target = "/3.0/files/WyJkZW1vIiwiL3Rlc3QiLCJ0ZXN0LmpwZyJd/exist";
        let auth = b"ACL_TOP MTIzNDU2Nzg6YTAwY2YyNzY4NTA4MGFlZDU0MzAxMjQ1NTA0ZmM5YzY3Y2Y4NWQ5OA";
        let date = b"1437535493816";
        let ak =
            verify_manage_token(Some(auth), target, b"", date, &keys(), 1437535493816).unwrap();
        assert_eq!(ak, AK);
        let err = verify_manage_token(Some(auth), target, b"", date, &keys(), 1_700_000_000_000)
            .unwrap_err();
        assert_eq!(err.code, "RequestTimeTooSkewed");
        let err =
            verify_manage_token(Some(auth), "/x", b"", date, &keys(), 1437535493816).unwrap_err();
        assert_eq!(err.code, "InvalidToken");
    }

    #[test]
    fn resource_id_known_answer() {
        let (ns, dir, name) = decode_file_rid("WyJkZW1vIiwiL3Rlc3QiLCJ0ZXN0LmpwZyJd").unwrap();
        assert_eq!(
            (ns.as_str(), dir.as_str(), name.as_str()),
            ("demo", "/test", "test.jpg")
        );
        let escaped = b64u_encode(br#"["demo","\/test","t\u00e9st.jpg"]"#);
        let (_, dir, name) = decode_file_rid(&escaped).unwrap();
        assert_eq!((dir.as_str(), name.as_str()), ("/test", "tést.jpg"));
    }

    #[test]
    fn lenient_base64() {
        for s in ["aGk_Pz4-", "aGk/Pz4+", "aGk_Pz4-==", "aGk/Pz4+"] {
            assert_eq!(b64_decode_lenient(s).unwrap(), b"hi??>>");
        }
        assert_eq!(b64_decode_lenient("YQ").unwrap(), b"a");
        assert_eq!(b64_decode_lenient("YQ==").unwrap(), b"a");
        assert!(b64_decode_lenient("!!!").is_none());
    }
}
