//! The Redis store's unit tests (no server).

use super::*;
use crate::base::secret::Secret;
use crate::token::store::Record;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealing::{NONCE_LEN, Opened, TAG_LEN};

const KEY: &str = "auth-runtime:v1:token:{pledg:0123456789abcdef}";

fn record() -> Record {
    Record {
        access_token: Secret::new("eyJhbGciOi.access-token-value.sig"),
        refresh_token: Some(Secret::new("refresh-token-value")),
        expires_at_unix_ms: 1_900_000_000_000,
        refresh_at_unix_ms: 1_899_999_000_000,
        refresh_token_expires_at_unix_ms: Some(1_900_100_000_000),
    }
}

fn sealer(keys: &[(&str, u8)]) -> Sealer {
    let keys: Vec<_> = keys
        .iter()
        .map(|(id, b)| (id.to_string(), [*b; 32]))
        .collect();
    Sealer::new(&keys).expect("valid keys")
}

#[test]
fn round_trip() {
    let s = sealer(&[("k1", 1)]);
    let value = s.seal(&record(), KEY).expect("sealed");
    assert!(value.starts_with("v1:k1:"), "{value}");
    assert!(!value.contains("access-token-value"));
    assert!(!value.contains("refresh-token-value"));
    assert_eq!(s.open(&value, KEY), Opened::Record(record()));
    // Random nonce: two seals differ.
    assert_ne!(s.seal(&record(), KEY), Some(value));
}

#[test]
fn no_refresh_token_round_trip() {
    let s = sealer(&[("k1", 1)]);
    let mut r = record();
    r.refresh_token = None;
    let value = s.seal(&r, KEY).expect("sealed");
    assert_eq!(s.open(&value, KEY), Opened::Record(r));
}

#[test]
fn rotation_old_key_still_decrypts() {
    let old = sealer(&[("k0", 7)]);
    let value = old.seal(&record(), KEY).expect("sealed");
    let rotated = sealer(&[("k1", 9), ("k0", 7)]);
    assert_eq!(rotated.open(&value, KEY), Opened::Record(record()));
    // The current key encrypts.
    let new_value = rotated.seal(&record(), KEY).expect("sealed");
    assert!(new_value.starts_with("v1:k1:"));
    // Once the old key is dropped, its values are absent.
    let dropped = sealer(&[("k1", 9)]);
    assert_eq!(dropped.open(&value, KEY), Opened::Undecryptable);
    assert_eq!(dropped.open(&new_value, KEY), Opened::Record(record()));
}

#[test]
fn tampering_is_absence() {
    let s = sealer(&[("k1", 1)]);
    let value = s.seal(&record(), KEY).expect("sealed");
    let (head, b64) = value.rsplit_once(':').expect("layout");
    let mut blob = STANDARD.decode(b64).expect("base64");
    for i in [0, NONCE_LEN, blob.len() - 1] {
        let mut bad = blob.clone();
        bad[i] ^= 1;
        let tampered = format!("{head}:{}", STANDARD.encode(&bad));
        assert_eq!(s.open(&tampered, KEY), Opened::Undecryptable, "byte {i}");
    }
    blob.truncate(NONCE_LEN + TAG_LEN - 1);
    assert_eq!(
        s.open(&format!("{head}:{}", STANDARD.encode(&blob)), KEY),
        Opened::Undecryptable
    );
    // Another principal's key (associated data) does not open it.
    assert_eq!(
        s.open(&value, "auth-runtime:v1:token:{other}"),
        Opened::Undecryptable
    );
    // Same key material under another id, an unknown id, a wrong key.
    assert_eq!(
        s.open(&value.replacen("v1:k1:", "v1:k2:", 1), KEY),
        Opened::Undecryptable
    );
    assert_eq!(
        sealer(&[("k1", 2)]).open(&value, KEY),
        Opened::Undecryptable
    );
    // Garbage and plaintext.
    for v in ["", "v1", "v1:k1", "v1:k1:!!!", "v2:k1:AAAA", "plain-token"] {
        assert_eq!(s.open(v, KEY), Opened::Undecryptable, "{v}");
    }
}

#[test]
fn debug_never_shows_keys_or_password() {
    let key = [0x5au8; 32];
    let b64 = STANDARD.encode(key);
    let cfg = RedisStoreConfig::new(
        "redis://user:hunter2@127.0.0.1:6379/0",
        vec![("current".into(), key), ("previous".into(), [0xa5; 32])],
    );
    let shown = format!("{cfg:?}");
    assert!(
        shown.contains("current") && shown.contains("previous"),
        "{shown}"
    );
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains(&b64), "{shown}");
    assert!(!shown.contains("90, 90"), "{shown}");
    let store = RedisStore::new(cfg).expect("store");
    let shown = format!("{store:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains(&b64), "{shown}");
    assert!(!shown.contains("90, 90"), "{shown}");
}

#[test]
fn keys_from_env() {
    let k1 = STANDARD.encode([1u8; 32]);
    let k0 = URL_SAFE_NO_PAD.encode([0u8; 32]);
    let keys = parse_keys(&format!("k1:{k1}, k0:{k0}")).expect("keys");
    assert_eq!(
        keys,
        vec![("k1".into(), [1u8; 32]), ("k0".into(), [0u8; 32])]
    );
    for bad in [
        "".to_string(),
        "k1".to_string(),
        format!(":{k1}"),
        "k1:c2hvcnQ=".to_string(),
        format!("k:1:{k1}"),
        format!("k1:{k1},k1:{k0}"),
    ] {
        let err = parse_keys(&bad).expect_err(&bad);
        assert!(!err.to_string().contains(&k1), "{err}");
    }
}

#[test]
fn config_from_env() {
    let k1 = STANDARD.encode([1u8; 32]);
    let env = |pairs: Vec<(&'static str, String)>| {
        move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    };
    assert!(
        RedisStoreConfig::from_env_with(&env(vec![]))
            .expect("no url")
            .is_none()
    );
    let url_only = env(vec![(ENV_URL, "redis://127.0.0.1:1".into())]);
    assert!(RedisStoreConfig::from_env_with(&url_only).is_err());
    // No store, never a plaintext one.
    assert!(from_env_with(&url_only).is_none());
    let bad_keys = env(vec![
        (ENV_URL, "redis://127.0.0.1:1".into()),
        (ENV_KEYS, "k1:not-base64".into()),
    ]);
    assert!(from_env_with(&bad_keys).is_none());
    let full = env(vec![
        (ENV_URL, "redis://127.0.0.1:1".into()),
        (ENV_KEYS, format!("k1:{k1}")),
        (ENV_TIMEOUT_MS, "40".into()),
    ]);
    let cfg = RedisStoreConfig::from_env_with(&full)
        .expect("valid")
        .expect("configured");
    assert_eq!(cfg.op_timeout, Duration::from_millis(40));
    // No runtime and no Redis needed to build it; one store per config.
    let a = from_env_with(&full).expect("store");
    let b = from_env_with(&full).expect("store");
    assert!(Arc::ptr_eq(&a, &b));
}

#[test]
fn keys_share_a_hash_tag() {
    let store = RedisStore::new(RedisStoreConfig::new(
        "redis://127.0.0.1:1",
        vec![("k".into(), [3; 32])],
    ))
    .expect("store");
    let tag = |k: &str| {
        let start = k.find('{').expect("{") + 1;
        let end = start + k[start..].find('}').expect("}");
        k[start..end].to_string()
    };
    let p = "pledg:0123456789abcdef";
    assert_eq!(
        store.token_key(p),
        "auth-runtime:v1:token:{pledg:0123456789abcdef}"
    );
    assert_eq!(tag(&store.token_key(p)), tag(&store.lock_key(p)));
}

#[tokio::test]
async fn redis_down_is_a_direct_fetch() {
    // Nothing listens on port 1.
    let mut cfg = RedisStoreConfig::new("redis://127.0.0.1:1", vec![("k".into(), [3; 32])]);
    cfg.op_timeout = Duration::from_millis(100);
    cfg.min_backoff = Duration::from_secs(60);
    let store = RedisStore::new(cfg).expect("store");
    let yes = |_: &Record| true;
    for _ in 0..3 {
        let started = Instant::now();
        let fetch: FetchFn<'_> = Box::new(|stored| {
            Box::pin(async move {
                assert!(stored.is_none());
                Ok(record())
            })
        });
        let wanted = Wanted {
            fresh: &yes,
            serviceable: &yes,
            give_up_when_busy: false,
        };
        let got = store
            .get_or_fetch("p", wanted, fetch)
            .await
            .expect("fetched");
        assert!(matches!(got, Outcome::Fetched(r) if r == record()));
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    let stats = store.stats();
    assert_eq!(stats.fallbacks, 3, "{stats:?}");
    // One failed attempt, then the backoff gate skips Redis.
    assert_eq!(stats.redis_errors, 1, "{stats:?}");
    assert!(store.ping().await.is_err());
}

#[test]
fn cluster_tls_and_naming_from_env() {
    let k1 = STANDARD.encode([1u8; 32]);
    let naming = STANDARD.encode([8u8; 32]);
    let env = |pairs: Vec<(&'static str, String)>| {
        move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    };
    let seeds = env(vec![
        (ENV_URL, "redis://127.0.0.1:1, redis://127.0.0.1:2".into()),
        (ENV_KEYS, format!("k1:{k1}")),
    ]);
    let cfg = RedisStoreConfig::from_env_with(&seeds)
        .expect("valid")
        .expect("configured");
    assert!(cfg.cluster);
    assert_eq!(cfg.urls().len(), 2);
    assert!(cfg.naming_key.is_none() && cfg.ca_file.is_none());
    RedisStore::new(cfg).expect("a cluster store, built lazily");

    let flagged = env(vec![
        (ENV_URL, "rediss://user:pw@127.0.0.1:1".into()),
        (ENV_KEYS, format!("k1:{k1}")),
        (ENV_CLUSTER, "true".into()),
        (ENV_NAMING_KEY, naming.clone()),
        (ENV_CA_FILE, "/nonexistent/ca.pem".into()),
    ]);
    let cfg = RedisStoreConfig::from_env_with(&flagged)
        .expect("valid")
        .expect("configured");
    assert!(cfg.cluster);
    assert_eq!(cfg.naming_key, Some([8u8; 32]));
    let shown = format!("{cfg:?}");
    assert!(
        !shown.contains(&naming) && !shown.contains("pw@"),
        "{shown}"
    );
    // An unreadable CA file is a configuration error, not a silent
    // fallback to the system roots.
    assert!(RedisStore::new(cfg).is_err());

    for (name, bad) in [(ENV_CLUSTER, "maybe"), (ENV_NAMING_KEY, "c2hvcnQ=")] {
        let get = env(vec![
            (ENV_URL, "redis://127.0.0.1:1".into()),
            (ENV_KEYS, format!("k1:{k1}")),
            (name, bad.into()),
        ]);
        assert!(RedisStoreConfig::from_env_with(&get).is_err(), "{name}");
    }
    // Several URLs without cluster mode make no sense.
    let mut cfg = RedisStoreConfig::new("redis://127.0.0.1:1,redis://127.0.0.1:2", vec![]);
    cfg.keys = vec![("k".into(), [1; 32])];
    cfg.cluster = false;
    assert!(RedisStore::new(cfg).is_err());
}

#[test]
fn an_explicit_naming_key_survives_a_change_of_primary() {
    let a = sealing::naming_key(Some(&[5; 32]), &[1; 32]);
    let b = sealing::naming_key(Some(&[5; 32]), &[2; 32]);
    assert_eq!(a, b);
    assert_ne!(
        sealing::naming_key(None, &[1; 32]),
        sealing::naming_key(None, &[2; 32])
    );
    assert_ne!(a, sealing::naming_key(None, &[5; 32]));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Whatever Redis returns (a hostile or corrupted value) opens to a
    /// record or to "undecryptable", never a panic.
    #[test]
    fn any_stored_value_opens_without_panicking(value in ".{0,300}", b64 in "[A-Za-z0-9+/=]{0,200}") {
        let s = sealer(&[("k1", 1)]);
        let _ = s.open(&value, KEY);
        let _ = s.open(&format!("v1:k1:{b64}"), KEY);
    }

    /// Bit flips anywhere in a sealed value are detected.
    #[test]
    fn flipped_bits_never_open(index in 0usize..400, bit in 0u8..8) {
        let s = sealer(&[("k1", 1)]);
        let value = s.seal(&record(), KEY).expect("sealed");
        let mut bytes = value.into_bytes();
        let i = index % bytes.len();
        bytes[i] ^= 1 << bit;
        if let Ok(v) = String::from_utf8(bytes) {
            proptest::prop_assert_eq!(s.open(&v, KEY), Opened::Undecryptable);
        }
    }
}
