//! Generates the C header from the exported functions' doc comments.
//!
//! The header is written to OUT_DIR on every build; `make header` (which sets
//! WANTU_WRITE_HEADER=1) also writes `include/wantu.h`, the committed copy.
//! A test compares the two, so a stale committed header fails the tests.

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let version = env::var("CARGO_PKG_VERSION").unwrap();
    let mut numbers = version.split(['.', '-']);
    let mut next = || numbers.next().unwrap_or("0").to_string();
    let (major, minor, patch) = (next(), next(), next());
    let macros = format!(
        "#define WANTU_VERSION_MAJOR {major}\n#define WANTU_VERSION_MINOR {minor}\n\
         #define WANTU_VERSION_PATCH {patch}\n#define WANTU_VERSION_STRING \"{version}\"\n"
    );

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=WANTU_WRITE_HEADER");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .with_after_include(macros)
        .generate()
        .expect("cbindgen can generate the header");
    bindings.write_to_file(out_dir.join("wantu.h"));
    if env::var_os("WANTU_WRITE_HEADER").is_some() {
        bindings.write_to_file(crate_dir.join("include/wantu.h"));
    }
}
