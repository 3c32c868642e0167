//! The upload policy the caller gives (`policy_json` of every upload call):
//! any text is either a usable policy or an `InvalidArgument` error, and a
//! usable one is signed verbatim.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wantu::auth::KeyType;
use wantu::policy::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Policy::parse(text) {
        Ok(p) => {
            assert!(!p.namespace().is_empty());
            assert_eq!(p.text(), text, "the policy is kept verbatim");
            let token = wantu::auth::upload_token("ak", "sk", KeyType::Top, p.text());
            assert!(token.starts_with("UPLOAD_AK_TOP "));
        }
        Err(e) => {
            assert_eq!(e.name(), "InvalidArgument");
            let json = wantu::result::error(&e);
            assert_eq!(json["code"], 0);
            assert!(json["message"]
                .as_str()
                .is_some_and(|m| m.contains("policy")));
        }
    }
});
