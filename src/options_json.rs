//! Options given as JSON text (the `options_json` of the C calls, and the
//! options of the Rust calls that take text): one parser for every call,
//! so that every malformed options text is refused alike, naming
//! `options_json`. The option types refuse unknown keys themselves
//! (`deny_unknown_fields`), so a typo never falls back to a default.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// An options object from JSON text: `None`, `""` or `null` give the
/// defaults; anything but an object is refused, with `example` showing the
/// form (serde would also fill a struct from an array, by position).
pub(crate) fn parse<T: DeserializeOwned + Default>(text: Option<&str>, example: &str) -> Result<T> {
    let t = match text.map(str::trim) {
        None | Some("") | Some("null") => return Ok(T::default()),
        Some(t) => t,
    };
    let value: Value = serde_json::from_str(t).map_err(unusable)?;
    if !value.is_object() {
        return Err(unusable(format!(
            "expected an object such as {example}, not {value}"
        )));
    }
    serde_json::from_value(value).map_err(unusable)
}

/// The one error for options text that cannot be used, and why.
pub(crate) fn unusable(why: impl std::fmt::Display) -> Error {
    Error::invalid(format!("`options_json` is not usable: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Opts {
        n: u32,
    }

    #[test]
    fn one_style_for_every_refusal() {
        for text in [None, Some(""), Some("  "), Some("null")] {
            assert_eq!(parse::<Opts>(text, "{}").unwrap(), Opts::default());
        }
        assert_eq!(
            parse::<Opts>(Some(r#"{"n":3}"#), "{}").unwrap(),
            Opts { n: 3 }
        );
        for (text, needle) in [
            ("{", "EOF"),
            ("[1]", r#"expected an object such as {"n":1}, not [1]"#),
            (r#"{"m":1}"#, "unknown field `m`"),
            (r#"{"n":-1}"#, "invalid value"),
        ] {
            let e = parse::<Opts>(Some(text), r#"{"n":1}"#).unwrap_err();
            assert_eq!(e.name(), "InvalidArgument");
            let m = e.message();
            assert!(m.starts_with("`options_json` is not usable: "), "{m}");
            assert!(m.contains(needle), "{text}: {m}");
        }
    }
}
