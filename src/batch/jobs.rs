//! `jobs_json` of `wantu_transfer_batch`: an array of
//! `{"path"|"content_base64", "dir", "name", "meta", "var"}` objects.

use crate::error::{Error, Result};
use crate::upload::{string_map, Target};
use base64::Engine;
use bytes::Bytes;
use serde_json::Value;
use std::path::PathBuf;

/// Jobs per call; each costs a result object in memory.
pub const MAX_JOBS: usize = 1_000_000;

#[derive(Debug, Clone)]
pub enum JobSource {
    File(PathBuf),
    Memory(Bytes),
}

#[derive(Debug, Clone)]
pub struct Job {
    pub index: usize,
    pub source: JobSource,
    pub target: Target,
}

const KEYS: [&str; 6] = ["path", "content_base64", "dir", "name", "meta", "var"];

fn text<'a>(
    job: &'a serde_json::Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<&'a str>> {
    match job.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Error::invalid(format!(
            "{at}: `{key}` must be a string, not {other}"
        ))),
    }
}

fn map(job: &serde_json::Map<String, Value>, key: &str, at: &str) -> Result<Vec<(String, String)>> {
    match job.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => string_map(key, Some(&v.to_string()))
            .map_err(|e| Error::invalid(format!("{at}: {}", e.message()))),
    }
}

/// Parses and checks every job before anything is sent.
pub fn parse(jobs_json: &str) -> Result<Vec<Job>> {
    let value: Value = serde_json::from_str(jobs_json)
        .map_err(|e| Error::invalid(format!("`jobs_json` is not valid JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(Error::invalid(
            "`jobs_json` must be a JSON array of jobs such as \
             [{\"path\":\"/tmp/a.jpg\",\"dir\":\"/photos\"}]",
        ));
    };
    if items.len() > MAX_JOBS {
        return Err(Error::invalid(format!(
            "`jobs_json` holds {} jobs; at most {MAX_JOBS} fit in one call",
            items.len()
        )));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let at = format!("`jobs_json`[{index}]");
            let Value::Object(job) = item else {
                return Err(Error::invalid(format!("{at} must be an object, not {item}")));
            };
            if let Some(k) = job.keys().find(|k| !KEYS.contains(&k.as_str())) {
                return Err(Error::invalid(format!(
                    "{at}: unknown key `{k}` (expected path or content_base64, dir, name, meta, var)"
                )));
            }
            let path = text(&job, "path", &at)?;
            let content = text(&job, "content_base64", &at)?;
            let mut name = text(&job, "name", &at)?.map(str::to_string);
            let source = match (path, content) {
                (Some(p), None) if !p.is_empty() => {
                    let p = PathBuf::from(p);
                    if name.is_none() {
                        name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                    }
                    JobSource::File(p)
                }
                (None, Some(c)) => JobSource::Memory(Bytes::from(
                    base64::engine::general_purpose::STANDARD
                        .decode(c)
                        .map_err(|e| {
                            Error::invalid(format!("{at}: `content_base64` is not Base64: {e}"))
                        })?,
                )),
                (Some(_), Some(_)) => {
                    return Err(Error::invalid(format!(
                        "{at}: give either `path` or `content_base64`, not both"
                    )))
                }
                _ => {
                    return Err(Error::invalid(format!(
                        "{at}: give `path` (a local file) or `content_base64` (the bytes)"
                    )))
                }
            };
            if let Some(n) = name.as_deref() {
                crate::manage::check_name(&format!("{at}.name"), n)?;
            }
            let target = Target {
                dir: text(&job, "dir", &at)?.map(str::to_string),
                name,
                meta: map(&job, "meta", &at)?,
                vars: map(&job, "var", &at)?,
            };
            Ok(Job {
                index,
                source,
                target,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_files_and_contents() {
        let jobs = parse(
            r#"[{"path":"/tmp/a b.jpg","dir":"/p","meta":{"k":1}},
                {"content_base64":"aGVsbG8=","name":"h.txt","var":{"v":"x"}}]"#,
        )
        .unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].target.name.as_deref(), Some("a b.jpg"));
        assert_eq!(jobs[0].target.meta, vec![("k".into(), "1".into())]);
        match &jobs[1].source {
            JobSource::Memory(b) => assert_eq!(&b[..], b"hello"),
            other => panic!("{other:?}"),
        }
        assert!(parse("[]").unwrap().is_empty());
    }

    #[test]
    fn malformed_jobs_are_named() {
        for (json, needle) in [
            ("{", "`jobs_json` is not valid JSON"),
            (r#"{"path":"x"}"#, "must be a JSON array"),
            ("[1]", "`jobs_json`[0] must be an object"),
            (
                r#"[{"path":"a"},{"pth":"b"}]"#,
                "`jobs_json`[1]: unknown key `pth`",
            ),
            (r#"[{"dir":"/x"}]"#, "give `path`"),
            (r#"[{"path":"a","content_base64":"eA=="}]"#, "not both"),
            (r#"[{"content_base64":"***"}]"#, "not Base64"),
            (r#"[{"path":7}]"#, "`path` must be a string"),
            (r#"[{"path":"a","meta":[1]}]"#, "`jobs_json`[0]: `meta`"),
            (r#"[{"path":"a","name":"x/y"}]"#, "contains '/'"),
        ] {
            let e = parse(json).unwrap_err();
            assert_eq!(e.name(), "InvalidArgument");
            assert!(e.message().contains(needle), "{json}: {e}");
        }
    }
}
