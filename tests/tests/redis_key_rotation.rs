//! Encryption-key rotation in two phases across a fleet that is never all
//! on one phase: (1) the new key is added as decrypt-only, (2) it becomes
//! the primary, (3) the old one is dropped. Processes in neighbouring
//! phases share records; a process that cannot decrypt a value leaves it
//! in place (and fetches for itself). With a naming key, key names never
//! move; without one, they move when the primary changes.

use std::time::{SystemTime, UNIX_EPOCH};

use payauth_runtime::redis_store::{RedisStore, RedisStoreConfig};
use payauth_runtime::store::FetchFn;
use payauth_runtime::{Outcome, Principal, Record, Secret, TokenStore, Wanted};
use workspace_tests::redis_server::RedisServer;

const OLD: (&str, [u8; 32]) = ("2025-old", [1u8; 32]);
const NEW: (&str, [u8; 32]) = ("2026-new", [2u8; 32]);
const NAMING: [u8; 32] = [9u8; 32];

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

fn config(redis: &RedisServer, keys: &[(&str, [u8; 32])], naming: bool) -> RedisStoreConfig {
    let mut cfg = RedisStoreConfig::new(
        redis.url(),
        keys.iter().map(|(id, k)| (id.to_string(), *k)).collect(),
    );
    cfg.naming_key = naming.then_some(NAMING);
    cfg
}

fn store(redis: &RedisServer, keys: &[(&str, [u8; 32])]) -> RedisStore {
    RedisStore::new(config(redis, keys, true)).expect("store")
}

fn principal() -> Principal {
    Principal::new("pledg", "https://pledg.example").secret("api_secret", &Secret::new("s3cret"))
}

fn fresh(r: &Record) -> bool {
    now_ms() < r.refresh_at_unix_ms
}

fn wanted() -> Wanted<'static> {
    Wanted {
        fresh: &fresh,
        serviceable: &fresh,
        give_up_when_busy: false,
    }
}

/// Ask `store` for the token; `fetch_as` is what a fetch would return.
async fn ask(store: &RedisStore, key: &str, fetch_as: &'static str) -> Outcome {
    let fetch: FetchFn<'_> = Box::new(move |_| {
        Box::pin(async move {
            let now = now_ms();
            Ok(Record {
                access_token: Secret::new(fetch_as),
                refresh_token: None,
                expires_at_unix_ms: now + 60_000,
                refresh_at_unix_ms: now + 60_000,
                refresh_token_expires_at_unix_ms: None,
            })
        })
    });
    store
        .get_or_fetch(key, wanted(), fetch)
        .await
        .expect("token")
}

fn token(o: &Outcome) -> (&'static str, String) {
    match o {
        Outcome::Stored(r) => ("stored", r.access_token.expose().to_string()),
        Outcome::Fetched(r) => ("fetched", r.access_token.expose().to_string()),
        other => panic!("{other:?}"),
    }
}

async fn raw_get(redis: &RedisServer, key: &str) -> Option<String> {
    let mut conn = redis::Client::open(redis.url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .expect("GET")
}

async fn expire_now(redis: &RedisServer, key: &str) {
    let mut conn = redis::Client::open(redis.url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let _: () = redis::cmd("DEL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .expect("DEL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phase_rotation_shares_records_and_never_overwrites_what_it_cannot_read() {
    let redis = RedisServer::start();
    let phase0 = store(&redis, &[OLD]);
    let phase1 = store(&redis, &[OLD, NEW]);
    let phase2 = store(&redis, &[NEW, OLD]);
    let phase3 = store(&redis, &[NEW]);
    // One naming key: one Redis key in every phase.
    let key = phase0.key_for(&principal());
    for s in [&phase1, &phase2, &phase3] {
        assert_eq!(s.key_for(&principal()), key);
    }
    let token_key = phase0.token_key(&key);

    // Phase 0 writes with the old key; phases 1 and 2 read it.
    assert_eq!(
        token(&ask(&phase0, &key, "t0").await),
        ("fetched", "t0".into())
    );
    assert_eq!(
        token(&ask(&phase1, &key, "x").await),
        ("stored", "t0".into())
    );
    assert_eq!(
        token(&ask(&phase2, &key, "x").await),
        ("stored", "t0".into())
    );

    // Phase 2 writes with the new key; phases 1 and 3 read it.
    expire_now(&redis, &token_key).await;
    assert_eq!(
        token(&ask(&phase2, &key, "t2").await),
        ("fetched", "t2".into())
    );
    let written = raw_get(&redis, &token_key).await.expect("value");
    assert!(written.starts_with("v1:2026-new:"), "{written}");
    assert_eq!(
        token(&ask(&phase1, &key, "x").await),
        ("stored", "t2".into())
    );
    assert_eq!(
        token(&ask(&phase3, &key, "x").await),
        ("stored", "t2".into())
    );

    // A process still on phase 0 cannot read it: it fetches for itself and
    // leaves the value alone — again and again.
    for _ in 0..3 {
        assert_eq!(
            token(&ask(&phase0, &key, "mine").await),
            ("fetched", "mine".into())
        );
    }
    assert_eq!(raw_get(&redis, &token_key).await, Some(written.clone()));
    assert!(phase0.stats().undecryptable >= 3, "{:?}", phase0.stats());
    assert_eq!(phase0.stats().fetches_run, 1, "no lock taken for it");

    // The same key id with other key material (a misconfigured process):
    // the same, never an overwrite.
    let wrong = store(&redis, &[("2026-new", [7u8; 32])]);
    assert_eq!(
        token(&ask(&wrong, &key, "wrong").await),
        ("fetched", "wrong".into())
    );
    assert_eq!(raw_get(&redis, &token_key).await, Some(written));

    // Phase 3 (old key dropped) still reads and writes.
    expire_now(&redis, &token_key).await;
    assert_eq!(
        token(&ask(&phase3, &key, "t3").await),
        ("fetched", "t3".into())
    );
    assert_eq!(
        token(&ask(&phase2, &key, "x").await),
        ("stored", "t3".into())
    );
}

#[test]
fn without_a_naming_key_names_move_with_the_primary_key() {
    let redis = RedisServer::start();
    let named = |keys: &[(&str, [u8; 32])], naming: bool| {
        RedisStore::new(config(&redis, keys, naming))
            .expect("store")
            .key_for(&principal())
    };
    // Phase 0 → 1 keeps the primary: same names.
    assert_eq!(named(&[OLD], false), named(&[OLD, NEW], false));
    // Phase 2 promotes the new key: names move (documented).
    assert_ne!(named(&[OLD, NEW], false), named(&[NEW, OLD], false));
    // With a naming key they never move, and differ from the default.
    assert_eq!(named(&[OLD], true), named(&[NEW], true));
    assert_ne!(named(&[OLD], true), named(&[OLD], false));
    // Never the principal in clear, never its secret.
    let name = named(&[OLD], true);
    assert!(
        !name.contains("s3cret") && !name.contains("example"),
        "{name}"
    );
}
