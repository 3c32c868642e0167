//! The committed C header is what build.rs generates, and the versions agree.

use std::ffi::CStr;
use std::path::Path;

/// What build.rs generated from the current sources on this build.
const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/wantu.h"));

fn committed() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/wantu.h");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn committed_header_is_current() {
    let committed = committed();
    if committed != GENERATED {
        let first_difference = committed
            .lines()
            .zip(GENERATED.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| {
                format!(
                    "line {}:\n  include/wantu.h: {a}\n  generated:       {b}",
                    i + 1
                )
            })
            .unwrap_or_else(|| {
                format!(
                    "one is a prefix of the other ({} vs {} lines)",
                    committed.lines().count(),
                    GENERATED.lines().count()
                )
            });
        panic!(
            "include/wantu.h is stale: the C surface changed. Run `make header` and commit \
             include/wantu.h. First difference at {first_difference}"
        );
    }
}

/// `#define NAME VALUE` from the committed header.
fn define(header: &str, name: &str) -> String {
    header
        .lines()
        .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
        .unwrap_or_else(|| panic!("include/wantu.h has no {name}"))
        .trim()
        .to_string()
}

/// `version = "…"` of the [package] section of Cargo.toml.
fn cargo_version() -> String {
    let toml =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let package = toml.split("[package]").nth(1).expect("a [package] section");
    let section = package.split("\n[").next().unwrap();
    section
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == "version").then(|| v.trim().trim_matches('"').to_string())
        })
        .expect("a package version")
}

#[test]
fn versions_agree_with_cargo_toml() {
    let version = cargo_version();
    let header = committed();
    let library = unsafe { CStr::from_ptr(wantu::ffi::client::wantu_version()) };
    assert_eq!(library.to_str().unwrap(), version, "wantu_version()");
    assert_eq!(wantu::VERSION, version);
    let numbers: Vec<&str> = version.split(['.', '-', '+']).collect();
    assert_eq!(define(&header, "WANTU_VERSION_MAJOR"), numbers[0]);
    assert_eq!(define(&header, "WANTU_VERSION_MINOR"), numbers[1]);
    assert_eq!(define(&header, "WANTU_VERSION_PATCH"), numbers[2]);
    assert_eq!(
        define(&header, "WANTU_VERSION_STRING"),
        format!("\"{version}\"")
    );
}

#[test]
fn every_declared_function_is_documented() {
    let header = committed();
    let lines: Vec<&str> = header.lines().collect();
    let mut functions = 0;
    for (i, line) in lines.iter().enumerate() {
        let is_declaration = !line.starts_with(' ')
            && !line.starts_with('#')
            && !line.starts_with('*')
            && !line.starts_with('/')
            && line.contains(" wantu_")
            || line.contains("*wantu_") && !line.starts_with(' ') && !line.starts_with('*');
        if !is_declaration || !line.contains('(') {
            continue;
        }
        functions += 1;
        let previous = lines[..i]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap();
        assert!(
            previous.trim_end().ends_with("*/"),
            "{line} has no doc comment in include/wantu.h"
        );
    }
    assert!(
        functions >= 12,
        "found only {functions} functions in include/wantu.h"
    );
}
