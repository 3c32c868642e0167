//! wantu-server's upload-host form parsing (multipart and urlencoded) and
//! the field checks that follow it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wantu_server::fuzz::upload_form(data);
});
