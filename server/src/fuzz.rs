//! Entry points for the fuzz targets in `fuzz/` (see docs/design.md,
//! "Tests and fuzzing"); not part of the server's API. Each one drives the
//! real parsers with arbitrary bytes, the way a request would reach them,
//! and checks what must hold whatever the input. A panic is a bug.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::body::Body;
use bytes::Bytes;

use crate::auth::{b64u_encode, decode_file_rid, decode_folder_rid, hmac_sha1_hex};
use crate::auth::{verify_manage_token, verify_upload_token};
use crate::paths;
use crate::storage::Store;
use crate::upload::answer::{check_policy_urls, upper};
use crate::upload::fields::{meta_of, take_checked_content, MAX_METADATA};
use crate::upload::form::{read_form, Limit};
use crate::upload::mime::detect_mime;
use crate::upload::multipart::parts::{parse_part_number, parse_parts};
use crate::upload::policy::{extension, Policy};
use crate::upload::target::{
    base_vars, check_final_name_and_type, original_name, resolve_target, set_content_vars, vars_of,
};

const AK: &str = "fuzz-ak";
const SK: &str = "fuzz-sk-0123456789";
/// A fixed clock, so that a run is repeatable.
const NOW_MS: i64 = 1_700_000_000_000;

struct Env {
    runtime: tokio::runtime::Runtime,
    store: Store,
}

/// One runtime and one store for the whole fuzzing process, under the
/// temporary directory (scripts/fuzz.sh points TMPDIR at a scratch
/// directory in shared memory, since content is fsynced, and removes it).
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("wantu-fuzz-{}", std::process::id()));
        Env {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime"),
            store: Store::open(&root, NOW_MS).expect("a store for the form fuzzer"),
        }
    })
}

fn keys() -> HashMap<String, String> {
    HashMap::from([(AK.to_string(), SK.to_string())])
}

/// An upload-host request body, read as the server reads it, then taken
/// through the checks a simple upload makes on its fields (and those a
/// multipart request makes on `partNumber` and `parts`). The first byte
/// chooses the Content-Type (multipart with the boundary `fuzz`,
/// urlencoded, or the first line of the input), a small content limit, and
/// the size of the chunks the body arrives in.
pub fn upload_form(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (content_type, body) = match selector % 3 {
        0 => ("multipart/form-data; boundary=fuzz".to_string(), rest),
        1 => ("application/x-www-form-urlencoded".to_string(), rest),
        _ => {
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let line = String::from_utf8_lossy(&rest[..end]).into_owned();
            (line, rest.get(end + 1..).unwrap_or_default())
        }
    };
    let size_limit = if selector & 0x4 != 0 { 64 } else { 0 };
    let limit = Limit::for_upload(1 << 30, size_limit, None);
    let chunk = 1 + (selector >> 3) as usize * 8;
    let chunks: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let env = env();
    let read = env
        .runtime
        .block_on(read_form(body, Some(&content_type), &env.store, limit));
    let mut form = match read {
        Ok(form) => form,
        Err(e) => {
            // Whatever a client sends, the answer blames the request.
            assert!(e.status.is_client_error(), "{} {}", e.status, e.message);
            return;
        }
    };
    if let Some(c) = &form.content {
        assert!(c.written.size <= limit.max, "content beyond its limit");
    }

    // What the upload handlers do with the fields (upload/simple.rs).
    let policy = Policy {
        namespace: "fuzz".into(),
        expiration: -1,
        detect_mime: selector & 0x8 != 0,
        ..Policy::default()
    };
    if let Ok(meta) = meta_of(&form) {
        let size: usize = meta
            .iter()
            .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
            .sum();
        assert!(size <= MAX_METADATA, "metadata beyond its limit");
    }
    let _ = form.require("id");
    if let Some(n) = form.get("partNumber") {
        let _ = parse_part_number(n);
    }
    if let Some(p) = form.get("parts") {
        let _ = parse_parts(p);
    }
    let Ok(content) = take_checked_content(&mut form, "the content") else {
        return;
    };
    let w = &content.written;
    let orig = original_name(&form, content.filename.as_deref(), &policy);
    let etag = upper(&w.md5);
    let mut vars = base_vars(&policy.namespace, vars_of(&form));
    vars.set("ext", extension(&orig));
    let mime = detect_mime(policy.detect_mime, &w.head, &[&orig]);
    set_content_vars(&mut vars, w.size, &etag, &mime);
    let fallback = form.get("name").or(content.filename.as_deref());
    if let Ok((dir, name)) = resolve_target(&policy, form.get("dir"), fallback, &mut vars) {
        assert!(dir.starts_with('/'), "a resolved dir is absolute: {dir:?}");
        assert!(paths::validate_name(&name).is_ok(), "{name:?}");
        let mime = detect_mime(policy.detect_mime, &w.head, &[&name, &orig]);
        let _ = check_final_name_and_type(&policy, &mut vars, &name, &mime);
    }
}

/// An `Authorization` value as an upload token, and as a manage token; then
/// the input as the policy of a correctly signed upload token (the fuzzer
/// cannot forge signatures, so this is how it reaches the policy parser
/// through the token), and as a resource id.
pub fn upload_token(data: &[u8]) {
    let keys = keys();
    let text = String::from_utf8_lossy(data);
    let _ = verify_upload_token(&text, &keys, NOW_MS);
    let _ = verify_manage_token(
        Some(data),
        "/3.0/files",
        b"",
        b"1700000000000",
        &keys,
        NOW_MS,
    );
    let _ = decode_file_rid(&text);
    let _ = decode_folder_rid(&text);

    let encoded_policy = b64u_encode(data);
    let sign = hmac_sha1_hex(SK.as_bytes(), encoded_policy.as_bytes());
    let scheme = if data.first().is_some_and(|b| b & 1 == 1) {
        "CLOUD"
    } else {
        "TOP"
    };
    let creds = b64u_encode(format!("{AK}:{encoded_policy}:{sign}").as_bytes());
    let token = format!("UPLOAD_AK_{scheme} {creds}");
    let verified = verify_upload_token(&token, &keys, NOW_MS);
    match Policy::parse(data) {
        Ok(p) if p.expiration == -1 || p.expiration >= NOW_MS => {
            let auth = verified.expect("a signed token with a usable policy verifies");
            assert_eq!(auth.access_key, AK);
            assert_eq!(auth.policy.namespace, p.namespace);
            let _ = paths::validate_namespace(&auth.policy.namespace);
            let _ = auth.policy.mime_allowed("image/png");
            let _ = check_policy_urls(&auth.policy);
        }
        _ => assert!(verified.is_err(), "an unusable policy is refused"),
    }
}

/// The server's reading of a blockComplete `parts` field.
pub fn parts(text: &str) -> Option<Vec<(u32, String)>> {
    parse_parts(text).ok()
}
