//! wantu-server's token parsing: upload and manage tokens, the policy a
//! signed upload token carries, and resource ids.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wantu_server::fuzz::upload_token(data);
});
