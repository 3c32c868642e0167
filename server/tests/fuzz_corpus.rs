//! The committed fuzz corpora of wantu-server's targets (`fuzz/corpus/`),
//! replayed through the same entry points on the stable toolchain, so that
//! `make test` checks them too: every seed, and every input that once
//! crashed (kept there as a regression), must pass the fuzz target's
//! checks. `make fuzz` explores beyond them.

use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

#[test]
fn committed_corpora_pass_the_fuzz_checks() {
    // The form target keeps a store under the temporary directory; give
    // it one that is removed afterwards (the only test in this binary, so
    // no other thread reads the variable).
    let tmp = tempfile::tempdir().unwrap();
    std::env::set_var("TMPDIR", tmp.path());

    for (name, data) in inputs("server_form") {
        println!("server_form/{name}");
        wantu_server::fuzz::upload_form(&data);
    }
    for (name, data) in inputs("server_token") {
        println!("server_token/{name}");
        wantu_server::fuzz::upload_token(&data);
    }
    let mut read = 0;
    for (name, data) in inputs("parts") {
        println!("parts/{name}");
        if let Ok(text) = std::str::from_utf8(&data) {
            read += usize::from(wantu_server::fuzz::parts(text).is_some());
        }
    }
    assert!(read > 0, "the parts seeds are readable lists");
}
