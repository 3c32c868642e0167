//! Client options beyond the seed's constructor (proxy and timeouts observed
//! against wantu-server, CA file and User-Agent checked at construction),
//! and request ids taken from the response header.

mod common;

use common::TestEnv;
use serde_json::json;
use wantu::upload::{Content, Target};
use wantu::{Client, ClientConfig, ClientOptions};
use wantu_server::FaultConfig;

fn named(name: &str) -> Target {
    Target {
        dir: Some("/opts".into()),
        name: Some(name.into()),
        ..Target::default()
    }
}

#[test]
fn proxy_option_routes_every_request_through_the_proxy() {
    let env = TestEnv::start();
    // The endpoints name a host that does not resolve; only a proxy that
    // receives the absolute-form request can deliver it. wantu-server
    // plays that proxy: it routes on the path of the absolute URI.
    let mut config = ClientConfig::new(
        common::AK,
        common::SK,
        None,
        Some("http://wantu-upload.invalid"),
        Some("http://wantu-manage.invalid"),
    )
    .unwrap();
    config.options = ClientOptions {
        proxy: Some(env.base_url()),
        ..ClientOptions::default()
    };
    let client = Client::new(config).unwrap();
    let policy = env.policy(json!({}));
    let body = Content::Bytes(bytes::Bytes::from_static(b"via proxy"));
    let ok = client
        .run(client.upload(&policy, &named("proxied.txt"), body, None))
        .unwrap()
        .unwrap();
    assert_eq!(ok["code"], 200, "{ok}");
    assert_eq!(env.download("/opts", "proxied.txt"), b"via proxy");

    // Without the proxy the same client configuration cannot connect.
    let direct = ClientConfig::new(
        common::AK,
        common::SK,
        None,
        Some("http://wantu-upload.invalid"),
        None,
    )
    .unwrap();
    let direct = Client::new(direct).unwrap();
    let body = Content::Bytes(bytes::Bytes::from_static(b"x"));
    let err = direct
        .run(direct.upload(&policy, &named("direct.txt"), body, None))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.name(), "ConnectError", "{err}");
    assert!(err.message().contains("wantu-upload.invalid"), "{err}");
}

#[test]
fn request_timeout_gives_a_timeout_error() {
    let env = TestEnv::start();
    env.server().set_faults(FaultConfig {
        delay_rate: 1.0,
        delay_ms: 3_000,
        seed: Some(1),
        ..FaultConfig::default()
    });
    let client = env.client_with(ClientOptions {
        request_timeout_ms: 300,
        ..ClientOptions::default()
    });
    let started = std::time::Instant::now();
    let body = Content::Bytes(bytes::Bytes::from_static(b"slow"));
    let err = client
        .run(client.upload(&env.policy(json!({})), &named("slow.txt"), body, None))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.name(), "Timeout", "{err}");
    assert_eq!(err.code(), 0);
    assert!(started.elapsed().as_millis() < 2_500, "the timeout fired");
    env.server().set_faults(FaultConfig::default());
}

#[test]
fn ca_file_must_hold_pem_certificates() {
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/test-ca.pem");
    let build = |path: &str| {
        let mut c = ClientConfig::new("ak", "sk", None, None, None).unwrap();
        c.options = ClientOptions {
            ca_file: Some(path.into()),
            ..ClientOptions::default()
        };
        Client::new(c)
    };
    assert!(build(ca).is_ok(), "a PEM certificate is accepted");
    let err = build("/nonexistent/ca.pem").err().unwrap();
    assert_eq!(err.name(), "IoError");
    assert!(err.message().contains("/nonexistent/ca.pem"), "{err}");
    let junk = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(junk.path(), "not a certificate").unwrap();
    let err = build(junk.path().to_str().unwrap()).err().unwrap();
    assert_eq!(err.name(), "InvalidArgument", "{err}");
    assert!(err.message().contains("certificate"), "{err}");
}

#[test]
fn user_agent_follows_the_key_type_and_can_be_replaced() {
    let top = ClientConfig::new("ak", "sk", None, None, None).unwrap();
    let ua = Client::new(top).unwrap().user_agent().to_string();
    assert_eq!(ua, format!("ALIMEDIASDK_C_TAE/{}", wantu::VERSION));
    let cloud = ClientConfig::new("ak", "sk", Some("CLOUD"), None, None).unwrap();
    let ua = Client::new(cloud).unwrap().user_agent().to_string();
    assert_eq!(ua, format!("ALIMEDIASDK_C_CLOUD/{}", wantu::VERSION));
    let env = TestEnv::start();
    let custom = env.client_with(ClientOptions {
        user_agent: Some("myapp/2".into()),
        ..ClientOptions::default()
    });
    assert_eq!(custom.user_agent(), "myapp/2");
}

#[test]
fn manage_answers_carry_the_servers_request_id() {
    // Manage bodies (`{"exist":false}`, `{}`) have no requestId field; the
    // id comes from the response header instead.
    let env = TestEnv::start();
    let c = &env.client;
    let exists = c
        .run(c.file_exists(common::NS, "/rid", "none.txt"))
        .unwrap()
        .unwrap();
    assert_eq!(exists["exist"], false);
    let id = exists["request_id"].as_str().unwrap();
    assert!(!id.is_empty(), "{exists}");
    let created = c.run(c.dir_create(common::NS, "/rid")).unwrap().unwrap();
    let other = created["request_id"].as_str().unwrap();
    assert!(!other.is_empty() && other != id, "{created}");
}
