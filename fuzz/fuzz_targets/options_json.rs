//! The option and dictionary JSON arguments: the one-call uploader's
//! `options_json`, the client's `options_json`, and `meta_json`/`var_json`.
//! Each text is either usable, within the documented ranges, or an
//! `InvalidArgument` error; none panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wantu::client::ClientOptions;
use wantu::transfer::TransferOptions;
use wantu::upload::string_map;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match TransferOptions::from_json(Some(text)) {
        Ok(o) => {
            assert!(o.validate().is_ok());
            assert!((1..=64).contains(&o.concurrency));
            assert!((1..=100).contains(&o.max_attempts));
            assert!(o.backoff_base_ms <= o.backoff_max_ms);
            if let Some(ps) = o.part_size {
                assert!((102_400..=64 << 20).contains(&ps));
            }
            let _ = o.retry_limits();
        }
        Err(e) => assert_eq!(e.name(), "InvalidArgument", "{e}"),
    }
    if let Err(e) = ClientOptions::from_json(Some(text)) {
        assert_eq!(e.name(), "InvalidArgument", "{e}");
    }
    match string_map("meta", Some(text)) {
        Ok(pairs) => assert!(pairs.iter().all(|(k, _)| !k.is_empty())),
        Err(e) => assert_eq!(e.name(), "InvalidArgument", "{e}"),
    }
});
