//! Upload policies (docs/protocol.md §3). The policy text the caller gives is
//! signed verbatim, so the token matches what any other SDK would produce for
//! the same text; we only check that it is usable before anything is sent.

use crate::error::{Error, Result};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    text: String,
    namespace: String,
    /// Whether the policy's own `name` decides the stored file name.
    names_file: bool,
}

impl Policy {
    /// Checks a policy JSON text: an object with a `namespace` (or `bucket`,
    /// for CLOUD keys) and an `expiration` (number or numeric string).
    pub fn parse(text: &str) -> Result<Policy> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("policy is not valid JSON: {e}")))?;
        let obj = value.as_object().ok_or_else(|| {
            Error::invalid(
                "policy must be a JSON object such as {\"namespace\":\"ns\",\"expiration\":-1}",
            )
        })?;
        let namespace = ["namespace", "bucket"]
            .iter()
            .find_map(|k| obj.get(*k).and_then(Value::as_str))
            .filter(|ns| !ns.is_empty())
            .ok_or_else(|| {
                Error::invalid("policy has no \"namespace\": name the space to upload into")
            })?
            .to_string();
        match obj.get("expiration") {
            Some(Value::Number(_)) => {}
            Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => {}
            Some(Value::Null) | None => {
                return Err(Error::invalid(
                    "policy has no \"expiration\": give Unix milliseconds, or -1 for never",
                ))
            }
            Some(other) => {
                return Err(Error::invalid(format!(
                    "policy \"expiration\" must be a number of milliseconds, not {other}"
                )))
            }
        }
        let names_file = obj
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        Ok(Policy {
            text: text.to_string(),
            namespace,
            names_file,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn names_file(&self) -> bool {
        self.names_file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_seed_policy_and_numeric_strings() {
        let p = Policy::parse(r#"{"namespace":"demo","expiration":"-1"}"#).unwrap();
        assert_eq!(p.namespace(), "demo");
        assert!(Policy::parse(r#"{"bucket":"b","expiration":-1}"#).is_ok());
    }

    #[test]
    fn refuses_unusable_policies() {
        for (text, needle) in [
            ("{", "not valid JSON"),
            ("[1]", "must be a JSON object"),
            (r#"{"expiration":-1}"#, "namespace"),
            (r#"{"namespace":"","expiration":-1}"#, "namespace"),
            (r#"{"namespace":"d"}"#, "expiration"),
            (r#"{"namespace":"d","expiration":null}"#, "expiration"),
            (r#"{"namespace":"d","expiration":"soon"}"#, "expiration"),
        ] {
            let err = Policy::parse(text).unwrap_err();
            assert!(err.message().contains(needle), "{text}: {err}");
        }
    }
}
