//! The `parts` argument of `wantu_multipart_complete` (every form users
//! produce), and the round trip through the wire form: what the client
//! accepts and sends, the server reads back as the same parts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wantu::multipart::{encode_parts, parse_parts};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The server reads the field as it comes, whatever the client does.
    let _ = wantu_server::fuzz::parts(text);
    let parts = match parse_parts(text) {
        Ok(p) => p,
        Err(e) => {
            assert_eq!(e.name(), "InvalidArgument");
            assert!(e.message().contains("`parts`"), "{e}");
            return;
        }
    };
    assert!(!parts.is_empty());
    let wire = encode_parts(&parts);
    assert_eq!(parse_parts(&wire).expect("the wire form parses"), parts);
    let mut want: Vec<(u32, String)> = parts
        .iter()
        .map(|p| (p.part_number, p.e_tag.clone()))
        .collect();
    want.sort_by_key(|p| p.0);
    let got = wantu_server::fuzz::parts(&wire).expect("the server reads the wire form");
    assert_eq!(got, want, "the server reads what the client sent");
});
