//! What lands in Redis: encrypted values, hashed key names, no lock left
//! behind; and the store switched on by environment variables alone.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use payauth_runtime::redis_store::{RedisStore, RedisStoreConfig};
use payauth_sandbox::{Provider, Sandbox};
use pledg::Secret;
use serde_json::Value;
use workspace_tests::redis_server::RedisServer;

const KEY: [u8; 32] = [0x42; 32];

/// The secret that names keys, shared by every process of the fleet
/// whatever its encryption keys.
const NAMING: [u8; 32] = [0x11; 32];

fn config(redis: &RedisServer, keys: Vec<(String, [u8; 32])>) -> RedisStoreConfig {
    let mut cfg = RedisStoreConfig::new(redis.url(), keys);
    cfg.naming_key = Some(NAMING);
    cfg
}

fn store(redis: &RedisServer) -> Arc<RedisStore> {
    Arc::new(RedisStore::new(config(redis, vec![("k1".into(), KEY)])).expect("store"))
}

/// Every `(key, value)` in the server.
async fn dump(redis: &RedisServer) -> Vec<(String, String)> {
    let client = redis::Client::open(redis.url()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    let mut out = Vec::new();
    for k in keys {
        let v: Option<String> = redis::cmd("GET")
            .arg(&k)
            .query_async(&mut conn)
            .await
            .expect("GET");
        out.push((k, v.unwrap_or_default()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_tokens_are_encrypted_and_keys_hashed() {
    let redis = RedisServer::start();
    let sandbox = Sandbox::start().await.expect("sandbox");
    let store = store(&redis);

    let (api_key, api_secret) = workspace_tests::fleet::pledg_credentials(&sandbox);
    let pledg = pledg::builder()
        .base_url(sandbox.base_url(Provider::Pledg))
        .credentials(pledg::Credentials::new(
            api_key.clone(),
            Secret::new(api_secret.clone()),
        ))
        .shared_cache(false)
        .token_store(store.clone())
        .build()
        .expect("pledg client");
    let resp = pledg
        .send(pledg.request(reqwest::Method::GET, "/sandbox/protected"))
        .await
        .expect("protected call");
    assert!(resp.status().is_success());
    let pledg_token = pledg
        .bearer()
        .await
        .expect("bearer")
        .secret()
        .expose()
        .to_string();

    let creds = sandbox.credentials(Provider::Institution);
    let email = creds.text("email").to_owned();
    let password = creds.text("password").to_owned();
    let merchant_id = creds.text("merchant_id").to_owned();
    let inst = institution::builder()
        .base_url(sandbox.base_url(Provider::Institution))
        .credentials(institution::Credentials::login(
            email.clone(),
            Secret::new(password.clone()),
            merchant_id.clone(),
        ))
        .shared_cache(false)
        .token_store(store.clone())
        .build()
        .expect("institution client");
    let inst_token = inst
        .bearer()
        .await
        .expect("bearer")
        .secret()
        .expose()
        .to_string();

    let entries = dump(&redis).await;
    eprintln!(
        "keys in Redis: {:?}",
        entries.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    assert_eq!(
        entries.len(),
        2,
        "one token per principal, no lock left: {entries:?}"
    );
    for (k, v) in &entries {
        assert!(k.starts_with("auth-runtime:v1:token:{"), "{k}");
        for secret in [&api_key, &api_secret, &email, &password, &merchant_id] {
            assert!(!k.contains(secret.as_str()), "key {k} names a credential");
            assert!(
                !v.contains(secret.as_str()),
                "value of {k} holds a credential"
            );
        }
        for token in [&pledg_token, &inst_token] {
            assert!(!v.contains(token.as_str()), "value of {k} holds a token");
            // Not even one part of the JWT (claims, signature).
            for part in token.split('.').filter(|p| p.len() > 8) {
                assert!(!v.contains(part), "value of {k} holds part of a token");
            }
        }
        let b64 = v
            .strip_prefix("v1:k1:")
            .unwrap_or_else(|| panic!("value layout: {v}"));
        assert!(STANDARD.decode(b64).is_ok(), "base64 payload");
        let ttl = redis_ttl(&redis, k).await;
        assert!(ttl > 0, "{k} has no expiry ({ttl})");
    }
    // Another process with the same key reads them back (no new login).
    let logins = sandbox.counters().logins(Provider::Pledg);
    let second = pledg::builder()
        .base_url(sandbox.base_url(Provider::Pledg))
        .credentials(pledg::Credentials::new(
            api_key.clone(),
            Secret::new(api_secret.clone()),
        ))
        .shared_cache(false)
        .token_store(store.clone())
        .build()
        .expect("pledg client");
    let again = second.bearer().await.expect("bearer");
    assert_eq!(again.secret().expose(), pledg_token);
    assert_eq!(sandbox.counters().logins(Provider::Pledg), logins);
    assert!(store.stats().hits >= 1, "{:?}", store.stats());

    // A store with another key cannot read them: it fetches its own.
    let before = dump(&redis).await;
    let stranger =
        Arc::new(RedisStore::new(config(&redis, vec![("k9".into(), [9; 32])])).expect("store"));
    let third = pledg::builder()
        .base_url(sandbox.base_url(Provider::Pledg))
        .credentials(pledg::Credentials::new(api_key, Secret::new(api_secret)))
        .shared_cache(false)
        .token_store(stranger.clone())
        .build()
        .expect("pledg client");
    let own = third.bearer().await.expect("bearer");
    assert_ne!(own.secret().expose(), pledg_token);
    // Read twice: before taking the lock and again holding it.
    assert!(
        stranger.stats().undecryptable >= 1,
        "{:?}",
        stranger.stats()
    );
    // …and leaves the value it cannot read in place.
    let token_values = |d: &[(String, String)]| {
        d.iter()
            .filter(|(k, _)| k.contains(":token:"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(token_values(&dump(&redis).await), token_values(&before));
}

async fn redis_ttl(redis: &RedisServer, key: &str) -> i64 {
    let client = redis::Client::open(redis.url()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .expect("PTTL")
}

async fn worker(sandbox: &Sandbox, env: &[(&str, String)]) -> Value {
    let (api_key, api_secret) = workspace_tests::fleet::pledg_credentials(sandbox);
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_fleet_worker"));
    cmd.args(["--provider", "pledg"])
        .args(["--base-url", &sandbox.base_url(Provider::Pledg)])
        .args(["--api-key", &api_key])
        .args(["--api-secret", &api_secret])
        .args(["--redis", "env"])
        .args(["--duration-ms", "1000"])
        .args(["--concurrency", "10"])
        .env_remove("AUTH_RUNTIME_REDIS_URL")
        .env_remove("AUTH_RUNTIME_REDIS_KEYS")
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("worker in time")
        .expect("worker output");
    assert!(out.status.success(), "worker failed: {}", out.status);
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_alone_switches_the_store_on() {
    let redis = RedisServer::start();
    let sandbox = Sandbox::start().await.expect("sandbox");
    let keys = format!("k1:{}", STANDARD.encode(KEY));

    // URL without keys: no store at all (never plaintext), requests still work.
    let report = worker(&sandbox, &[("AUTH_RUNTIME_REDIS_URL", redis.url())]).await;
    assert_eq!(report["failed"], 0, "{report}");
    assert!(report["ok"].as_u64().unwrap_or(0) > 0, "{report}");
    assert!(dump(&redis).await.is_empty(), "nothing stored without keys");

    // URL and keys: the builder picks the store up; a token lands in Redis.
    let report = worker(
        &sandbox,
        &[
            ("AUTH_RUNTIME_REDIS_URL", redis.url()),
            ("AUTH_RUNTIME_REDIS_KEYS", keys),
        ],
    )
    .await;
    assert_eq!(report["failed"], 0, "{report}");
    let entries = dump(&redis).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(
        entries[0].0.starts_with("auth-runtime:v1:token:{pledg:"),
        "{entries:?}"
    );
    assert!(entries[0].1.starts_with("v1:k1:"), "{entries:?}");

    // A second process reuses it: no new login.
    let logins = sandbox.counters().logins(Provider::Pledg);
    let report = worker(
        &sandbox,
        &[
            ("AUTH_RUNTIME_REDIS_URL", redis.url()),
            (
                "AUTH_RUNTIME_REDIS_KEYS",
                format!("k1:{}", STANDARD.encode(KEY)),
            ),
        ],
    )
    .await;
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["logins"], 0, "{report}");
    assert_eq!(sandbox.counters().logins(Provider::Pledg), logins);
}
