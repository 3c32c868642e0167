//! Multipart uploads driven by the caller, as the service's Python SDK
//! exposes them
//! (docs/protocol.md §4: blockInit, blockUpload, blockComplete, blockCancel).

use crate::auth::b64_decode_lenient;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::upload::{check_md5, push, Content, Fields, Target};
use base64::engine::general_purpose::URL_SAFE;
use base64::Engine;
use serde_json::Value;

pub const MAX_PART_NUMBER: u32 = 10_000;
/// Every part but the last must be at least this large (docs/protocol.md §4).
pub const MIN_PART_SIZE: u64 = 102_400;

/// One finished part: what `blockComplete` checks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartTag {
    pub part_number: u32,
    pub e_tag: String,
}

/// Reads `parts` in every form users produce: the Python SDK's Base64 (either
/// alphabet, padded or not) of a JSON array, or the plain JSON array; keys
/// `part_number`/`e_tag` or `partNumber`/`eTag`; numbers or numeric strings.
pub fn parse_parts(text: &str) -> Result<Vec<PartTag>> {
    let text = text.trim();
    let json_text = if text.starts_with('[') {
        text.to_string()
    } else {
        b64_decode_lenient(text)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Error::invalid("`parts` is neither a JSON array nor Base64 of one"))?
    };
    let items: Vec<Value> = serde_json::from_str(&json_text)
        .map_err(|e| Error::invalid(format!("`parts` is not a JSON array: {e}")))?;
    if items.is_empty() {
        return Err(Error::invalid("`parts` is empty: list every uploaded part"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = |a: &str, b: &str| item.get(a).or_else(|| item.get(b));
            let number = match field("part_number", "partNumber") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            }
            .filter(|n| (1..=MAX_PART_NUMBER as u64).contains(n))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "`parts`[{i}] needs a part_number from 1 to {MAX_PART_NUMBER}"
                ))
            })?;
            let e_tag = field("e_tag", "eTag")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| Error::invalid(format!("`parts`[{i}] needs an e_tag string")))?;
            Ok(PartTag {
                part_number: number as u32,
                e_tag: e_tag.to_string(),
            })
        })
        .collect()
}

/// The wire form, exactly as the service's manual builds it and its Python SDK
/// sends it: `base64.urlsafe_b64encode(json.dumps([{"e_tag": …,
/// "part_number": 1}, …]))` — snake_case keys in that order, json.dumps'
/// spacing, URL-safe Base64 with padding. (wantu-server reads this and the
/// camelCase form alike; see docs and `parse_parts`.)
pub fn encode_parts(parts: &[PartTag]) -> String {
    let items: Vec<String> = parts
        .iter()
        .map(|p| {
            format!(
                r#"{{"e_tag": {}, "part_number": {}}}"#,
                Value::from(p.e_tag.as_str()),
                p.part_number
            )
        })
        .collect();
    URL_SAFE.encode(format!("[{}]", items.join(", ")))
}

fn check_ids(id: &str, upload_id: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::invalid(
            "`id` is empty: pass the id that multipart_init answered",
        ));
    }
    if upload_id.trim().is_empty() {
        return Err(Error::invalid(
            "`upload_id` is empty: pass the upload_id that multipart_init answered",
        ));
    }
    Ok(())
}

fn id_fields(fields: &mut Fields, id: &str, upload_id: &str) {
    push(fields, "id", id);
    push(fields, "uploadId", upload_id);
}

impl Client {
    /// `blockInit`: starts an upload and stores its part 1.
    pub async fn multipart_init(
        &self,
        policy: &Policy,
        target: &Target,
        part: Content,
        md5: Option<&str>,
    ) -> Result<Value> {
        self.post_new_file(
            "/api/proxy/blockInit",
            policy,
            target,
            part,
            md5,
            "multipart_init",
        )
        .await
    }

    /// `blockUpload`: stores part `part_number` (2…10000) of an upload.
    pub async fn multipart_upload(
        &self,
        policy: &Policy,
        id: &str,
        upload_id: &str,
        part_number: u32,
        part: Content,
        md5: Option<&str>,
    ) -> Result<Value> {
        check_ids(id, upload_id)?;
        if !(1..=MAX_PART_NUMBER).contains(&part_number) {
            return Err(Error::invalid(format!(
                "`part_number` must be from 1 to {MAX_PART_NUMBER}, not {part_number} \
                 (part 1 is sent by multipart_init)"
            )));
        }
        let md5 = check_md5(md5)?;
        let mut fields = Fields::new();
        id_fields(&mut fields, id, upload_id);
        push(&mut fields, "partNumber", part_number.to_string());
        if let Some(m) = md5 {
            push(&mut fields, "md5", m);
        }
        let file_name = format!("part-{part_number}");
        self.post_upload(
            "/api/proxy/blockUpload",
            policy,
            fields,
            Some((part, &file_name)),
            "multipart_upload",
        )
        .await
    }

    /// `blockComplete`: assembles the listed parts into the file.
    pub async fn multipart_complete(
        &self,
        policy: &Policy,
        id: &str,
        upload_id: &str,
        parts: &[PartTag],
        md5: Option<&str>,
    ) -> Result<Value> {
        check_ids(id, upload_id)?;
        let md5 = check_md5(md5)?;
        let mut fields = Fields::new();
        id_fields(&mut fields, id, upload_id);
        push(&mut fields, "parts", encode_parts(parts));
        if let Some(m) = md5 {
            push(&mut fields, "md5", m);
        }
        self.post_upload(
            "/api/proxy/blockComplete",
            policy,
            fields,
            None,
            "multipart_complete",
        )
        .await
    }

    /// `blockCancel`: discards an upload and its parts.
    pub async fn multipart_cancel(
        &self,
        policy: &Policy,
        id: &str,
        upload_id: &str,
    ) -> Result<Value> {
        check_ids(id, upload_id)?;
        let mut fields = Fields::new();
        id_fields(&mut fields, id, upload_id);
        self.post_upload(
            "/api/proxy/blockCancel",
            policy,
            fields,
            None,
            "multipart_cancel",
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn tags() -> Vec<PartTag> {
        vec![
            PartTag {
                part_number: 1,
                e_tag: "A".into(),
            },
            PartTag {
                part_number: 2,
                e_tag: "B".into(),
            },
        ]
    }

    #[test]
    fn parts_in_every_form() {
        let sdk_json = r#"[{"e_tag": "A", "part_number": 1}, {"e_tag": "B", "part_number": 2}]"#;
        let sdk_b64 = base64::engine::general_purpose::URL_SAFE.encode(sdk_json);
        let std_b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(sdk_json);
        let camel = r#"[{"eTag":"A","partNumber":"1"},{"eTag":"B","partNumber":2}]"#;
        for text in [sdk_json, &sdk_b64, &std_b64, camel] {
            assert_eq!(parse_parts(text).unwrap(), tags(), "{text}");
        }
    }

    #[test]
    fn bad_parts_are_named() {
        for bad in [
            "",
            "[]",
            "!!!",
            "[{\"e_tag\":\"A\"}]",
            "[{\"part_number\":0,\"e_tag\":\"A\"}]",
            "[{\"part_number\":1}]",
            "{}",
        ] {
            let e = parse_parts(bad).unwrap_err();
            assert!(e.message().contains("`parts`"), "{bad}: {e}");
        }
    }

    #[test]
    fn wire_form_is_the_python_sdks() {
        // What the service's manual builds: base64.urlsafe_b64encode(json.dumps(
        // [{'e_tag': …, 'part_number': 1}, …])), padded, json.dumps spacing.
        let sdk_json = r#"[{"e_tag": "A", "part_number": 1}, {"e_tag": "B", "part_number": 2}]"#;
        let wire = encode_parts(&tags());
        assert_eq!(
            wire,
            base64::engine::general_purpose::URL_SAFE.encode(sdk_json)
        );
        let odd = vec![PartTag {
            part_number: 10_000,
            e_tag: "ABC".into(),
        }];
        assert!(encode_parts(&odd).ends_with('='), "padded");
        assert_eq!(parse_parts(&wire).unwrap(), tags());
        assert_eq!(parse_parts(&encode_parts(&odd)).unwrap(), odd);
    }
}
