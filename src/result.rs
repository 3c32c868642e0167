//! Shapes server answers and errors into the result JSON contract of
//! docs/design.md ("The result contract"): an object with an integer `code`,
//! a string `message` and a string `request_id`, keys in snake_case like the
//! service's Python SDK.

use crate::error::Error;
use serde_json::{Map, Value};

/// `requestId` → `request_id`, `eTag` → `e_tag`, `isImage` → `is_image`.
pub fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, ch) in key.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

/// Converts the keys of a server object to snake_case, recursively, except
/// under `meta`: user metadata keys are the user's own and stay as given.
pub fn snake_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, v) in map {
                let v = if key == "meta" { v } else { snake_keys(v) };
                out.insert(snake_case(&key), v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(snake_keys).collect()),
        other => other,
    }
}

/// A success result: the server's fields in snake_case, `code` 200, and
/// `message` / `request_id` always present.
pub fn success(server_body: Value) -> Value {
    let mut map = match snake_keys(server_body) {
        Value::Object(map) => map,
        // A non-object body (e.g. a `returnBody` template) is kept whole.
        other => {
            let mut map = Map::new();
            map.insert("body".into(), other);
            map
        }
    };
    map.insert("code".into(), Value::from(200));
    map.entry("message").or_insert_with(|| Value::from("OK"));
    map.entry("request_id").or_insert_with(|| Value::from(""));
    Value::Object(map)
}

/// A success result built by the library itself (no server answer).
pub fn local_success(fields: Map<String, Value>) -> Value {
    success(Value::Object(fields))
}

/// The error result: `code` (HTTP status or 0), `error`, `message`, `request_id`.
pub fn error(err: &Error) -> Value {
    let request_id = match err {
        Error::Server { request_id, .. } => request_id.as_str(),
        _ => "",
    };
    serde_json::json!({
        "code": err.code(),
        "error": err.name(),
        "message": err.message(),
        "request_id": request_id,
    })
}

/// One result document for either outcome.
pub fn to_json(outcome: crate::Result<Value>) -> Value {
    match outcome {
        Ok(v) => v,
        Err(e) => error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_server_keys() {
        for (camel, snake) in [
            ("requestId", "request_id"),
            ("eTag", "e_tag"),
            ("fileSize", "file_size"),
            ("fileModified", "file_modified"),
            ("mimeType", "mime_type"),
            ("uploadId", "upload_id"),
            ("partNumber", "part_number"),
            ("isImage", "is_image"),
            ("totalCount", "total_count"),
            ("name", "name"),
        ] {
            assert_eq!(snake_case(camel), snake);
        }
    }

    #[test]
    fn success_has_contract_fields_and_keeps_meta_keys() {
        let v = success(json!({"code":"OK","message":"OK","requestId":"r1",
            "fileSize":"3","meta":{"fooBar":"1"}}));
        assert_eq!(v["code"], 200);
        assert_eq!(v["request_id"], "r1");
        assert_eq!(v["file_size"], "3");
        assert_eq!(v["meta"]["fooBar"], "1");
    }

    #[test]
    fn error_shapes() {
        let e = Error::Server {
            status: 401,
            code: "InvalidToken".into(),
            message: "bad".into(),
            request_id: "x".into(),
        };
        assert_eq!(
            error(&e),
            json!({"code":401,"error":"InvalidToken","message":"bad","request_id":"x"})
        );
        let e = Error::invalid("`dir` is NULL");
        assert_eq!(error(&e)["code"], 0);
        assert_eq!(error(&e)["error"], "InvalidArgument");
    }
}
