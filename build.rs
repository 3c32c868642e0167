//! Generates the C header from the exported functions' doc comments.
//!
//! The header is written to OUT_DIR on every build; `make header` (which sets
//! WANTU_WRITE_HEADER=1) also writes `include/wantu.h`, the committed copy.
//! A test compares the two, so a stale committed header fails the tests.

use std::env;
use std::path::PathBuf;

#[path = "build/network_calls.rs"]
mod network_calls;

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

    soname(&major, &out_dir);

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-env-changed=WANTU_WRITE_HEADER");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .with_after_include(macros)
        .generate()
        .expect("cbindgen can generate the header");
    let mut text = Vec::new();
    bindings.write(&mut text);
    let text = String::from_utf8(text).expect("cbindgen writes UTF-8");
    let calls = network_calls::prototypes(&crate_dir.join("src/ffi"));
    let header = network_calls::insert(&text, &calls);
    write_if_changed(&out_dir.join("wantu.h"), &header);
    if env::var_os("WANTU_WRITE_HEADER").is_some() {
        write_if_changed(&crate_dir.join("include/wantu.h"), &header);
    }
}

fn write_if_changed(path: &std::path::Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// Gives the shared library the ELF soname `libwantu.so.MAJOR`, so programs
/// linked against one release keep loading compatible later ones (`make
/// install` adds the `libwantu.so.MAJOR` and `libwantu.so` links). Programs
/// linked against the build tree record that soname too, so the same link is
/// made next to the build's `libwantu.so` for them to load at run time.
fn soname(major: &str, out_dir: &std::path::Path) {
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if !matches!(
        os.as_str(),
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly"
    ) {
        return;
    }
    let soname = format!("libwantu.so.{major}");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    // OUT_DIR is <profile dir>/build/wantu-<hash>/out.
    if let Some(profile_dir) = out_dir.ancestors().nth(3) {
        let link = profile_dir.join(&soname);
        if std::fs::symlink_metadata(&link).is_err() {
            #[cfg(unix)]
            let _ = std::os::unix::fs::symlink("libwantu.so", &link);
        }
    }
}
