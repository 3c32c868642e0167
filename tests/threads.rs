//! One client shared by many threads: 8 threads x 50 uploads, every one
//! downloaded again and compared byte for byte.

mod common;

use common::*;
use serde_json::json;
use std::sync::Arc;
use wantu::upload::{Content, Target};

const THREADS: usize = 8;
const UPLOADS: usize = 50;

#[test]
fn eight_threads_share_one_client() {
    let env = Arc::new(TestEnv::start());
    let policy = Arc::new(env.policy(json!({})));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (env, policy) = (Arc::clone(&env), Arc::clone(&policy));
            std::thread::spawn(move || {
                for i in 0..UPLOADS {
                    // Sizes vary so that bodies of different lengths interleave.
                    let data =
                        test_bytes(1 + (t * 7919 + i * 104_729) % 20_000, (t * 1000 + i) as u64);
                    let name = format!("t{t}-{i}.bin");
                    let target = Target::new(Some("/threads"), Some(&name), None, None).unwrap();
                    let content = Content::Bytes(bytes::Bytes::from(data.clone()));
                    let r = env
                        .client
                        .run(env.client.upload(&policy, &target, content, None))
                        .unwrap()
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(r["e_tag"], md5_hex(&data).to_uppercase(), "{name}");
                    assert_eq!(env.download("/threads", &name), data, "{name}");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker thread");
    }
}

#[test]
fn threads_share_one_ffi_handle() {
    use std::ffi::CString;
    use wantu::ffi::client::{wantu_client_free, wantu_client_new};
    use wantu::ffi::upload::wantu_upload_content;

    struct Shared(*mut wantu::ffi::boundary::wantu_client);
    // The handle is documented thread-safe; this is what a C program relies on.
    unsafe impl Send for Shared {}
    unsafe impl Sync for Shared {}

    let env = TestEnv::start();
    let url = cs(&env.base_url());
    let handle = Arc::new(Shared(unsafe {
        wantu_client_new(
            cs(AK).as_ptr(),
            cs(SK).as_ptr(),
            std::ptr::null(),
            url.as_ptr(),
            url.as_ptr(),
        )
    }));
    assert!(!handle.0.is_null());
    let policy = cs(&policy_json(json!({})));
    std::thread::scope(|s| {
        for t in 0..4 {
            let (handle, policy, env) = (Arc::clone(&handle), &policy, &env);
            s.spawn(move || {
                for i in 0..10 {
                    let data = test_bytes(5000 + i, (t * 100 + i) as u64);
                    let name = CString::new(format!("ffi-t{t}-{i}")).unwrap();
                    let r = unsafe {
                        take_json(wantu_upload_content(
                            handle.0,
                            policy.as_ptr(),
                            cs("/threads").as_ptr(),
                            name.as_ptr(),
                            data.as_ptr(),
                            data.len(),
                            std::ptr::null(),
                            std::ptr::null(),
                            std::ptr::null(),
                        ))
                    };
                    assert_eq!(r["code"], 200, "{r}");
                    assert_eq!(env.download("/threads", name.to_str().unwrap()), data);
                }
            });
        }
    });
    unsafe { wantu_client_free(handle.0) };
}
