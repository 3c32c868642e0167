//! Part numbers, and the `parts` field of blockComplete: Base64 (any alphabet, padded or not)
//! of a JSON array of `{"partNumber","eTag"}` objects, or the JSON itself.
//! Key spellings and number-or-string values vary between SDKs.

use serde_json::Value;

use crate::auth::b64_decode_lenient;
use crate::http::error::{ApiError, ApiResult};

pub const MAX_PART_NUMBER: u32 = 10_000;

pub fn parse_part_number(raw: &str) -> ApiResult<u32> {
    raw.trim()
        .parse()
        .ok()
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            ApiError::invalid_argument(format!(
                "partNumber must be an integer from 1 to {MAX_PART_NUMBER}"
            ))
        })
}

const NUMBER_KEYS: [&str; 4] = ["partNumber", "part_number", "PartNumber", "partnumber"];
const ETAG_KEYS: [&str; 5] = ["eTag", "e_tag", "etag", "ETag", "Etag"];

fn bad(why: impl std::fmt::Display) -> ApiError {
    ApiError::invalid_argument(format!("malformed 'parts': {why}"))
}

/// Parses the list, sorted by part number (order on the wire is free).
pub fn parse_parts(raw: &str) -> ApiResult<Vec<(u32, String)>> {
    let raw = raw.trim();
    let json = if raw.starts_with('[') {
        raw.as_bytes().to_vec()
    } else {
        b64_decode_lenient(raw).ok_or_else(|| bad("neither a JSON array nor Base64"))?
    };
    let value: Value = serde_json::from_slice(&json).map_err(|e| bad(format!("not JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(bad("expected a JSON array"));
    };
    let mut parts = Vec::with_capacity(items.len());
    for item in &items {
        let Value::Object(obj) = item else {
            return Err(bad("every element must be an object"));
        };
        let number = NUMBER_KEYS
            .iter()
            .find_map(|k| obj.get(*k))
            .ok_or_else(|| bad("an element has no partNumber"))?;
        let number = match number {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|n| (1..=u64::from(MAX_PART_NUMBER)).contains(n))
        .ok_or_else(|| {
            bad(format!(
                "partNumber {number} is not an integer from 1 to {MAX_PART_NUMBER}"
            ))
        })?;
        let etag = ETAG_KEYS
            .iter()
            .find_map(|k| obj.get(*k))
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("part {number} has no eTag string")))?;
        parts.push((number as u32, etag.to_string()));
    }
    parts.sort_by_key(|p| p.0);
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn every_variant() {
        let camel = r#"[{"partNumber":2,"eTag":"B"},{"partNumber":"1","eTag":"A"}]"#;
        let snake = "[\n  {\"e_tag\": \"A\", \"part_number\": 1},\n  {\"e_tag\": \"B\", \"part_number\": 2}\n]";
        let want = vec![(1, "A".to_string()), (2, "B".to_string())];
        for json in [camel, snake] {
            let engines = [
                base64::engine::general_purpose::STANDARD,
                base64::engine::general_purpose::STANDARD_NO_PAD,
                base64::engine::general_purpose::URL_SAFE,
                base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ];
            for e in engines {
                assert_eq!(parse_parts(&e.encode(json)).unwrap(), want);
            }
            assert_eq!(parse_parts(json).unwrap(), want);
        }
        assert!(parse_parts("e30").is_err());
        assert!(parse_parts(r#"[{"partNumber":0,"eTag":"A"}]"#).is_err());
        assert!(parse_parts(r#"[{"partNumber":1}]"#).is_err());
    }
}
