//! The provider's token endpoint is down; Redis holds a token that is past
//! its refresh time but not expired. A freshly started process serves
//! every request with it, and does not hammer the provider meanwhile.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use payauth_runtime::redis_store::{RedisStore, RedisStoreConfig};
use payauth_runtime::store::FetchFn;
use payauth_runtime::{Outcome, Record, RetryPolicy, TokenStore, Wanted};
use payauth_sandbox::{Fault, Provider, Route, Sandbox};
use workspace_tests::redis_server::RedisServer;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

fn store(redis: &RedisServer) -> Arc<RedisStore> {
    Arc::new(
        RedisStore::new(RedisStoreConfig::new(
            redis.url(),
            vec![("k1".into(), [17u8; 32])],
        ))
        .expect("store"),
    )
}

fn client(sandbox: &Sandbox, store: Arc<RedisStore>) -> pledg::Client {
    let (api_key, api_secret) = workspace_tests::fleet::pledg_credentials(sandbox);
    pledg::builder()
        .base_url(sandbox.base_url(Provider::Pledg))
        .credentials(pledg::Credentials::new(api_key, api_secret))
        .retry_policy(RetryPolicy::default().max_retries(0))
        .shared_cache(false)
        .token_store(store)
        .build()
        .expect("pledg client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_process_serves_a_stored_unexpired_token_while_the_provider_is_down() {
    let redis = RedisServer::start();
    let sandbox = Sandbox::start().await.expect("sandbox");

    // A first process logs in and stores its token.
    let first = store(&redis);
    let token = client(&sandbox, Arc::clone(&first))
        .bearer()
        .await
        .expect("bearer")
        .secret()
        .expose()
        .to_string();
    let mut conn = redis::Client::open(redis.url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("auth-runtime:v1:token:*")
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    assert_eq!(keys.len(), 1, "{keys:?}");
    let name = keys[0]
        .split_once('{')
        .and_then(|(_, rest)| rest.strip_suffix('}'))
        .expect("hash tag")
        .to_string();
    // Time passes: the stored token is due, not expired.
    let _: () = redis::cmd("DEL")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .expect("DEL");
    let due: FetchFn<'_> = Box::new(move |_| {
        Box::pin(async move {
            Ok(Record {
                access_token: payauth_runtime::Secret::new(token),
                refresh_token: None,
                expires_at_unix_ms: now_ms() + 60_000,
                refresh_at_unix_ms: now_ms() - 1_000,
                refresh_token_expires_at_unix_ms: None,
            })
        })
    });
    let yes = |_: &Record| false;
    let outcome = first
        .get_or_fetch(
            &name,
            Wanted {
                fresh: &yes,
                serviceable: &yes,
                give_up_when_busy: false,
            },
            due,
        )
        .await
        .expect("stored");
    assert!(matches!(outcome, Outcome::Fetched(_)), "{outcome:?}");

    // The provider's token endpoint goes down.
    for _ in 0..50 {
        sandbox.inject(Provider::Pledg, Route::Login, Fault::status(503));
    }
    sandbox.reset_counters();
    let fresh_store = store(&redis);
    let fresh = client(&sandbox, Arc::clone(&fresh_store));
    for _ in 0..20 {
        let resp = fresh
            .send(fresh.request(reqwest::Method::GET, "/sandbox/protected"))
            .await
            .expect("served with the stored token");
        assert!(resp.status().is_success(), "{}", resp.status());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let counters = sandbox.counters();
    let attempts = counters.route(Provider::Pledg, Route::Login).requests;
    eprintln!(
        "provider down: 20 requests served, {attempts} login attempt(s), store {:?}",
        fresh_store.stats()
    );
    assert!(fresh_store.stats().stale_served >= 1);
    // One attempt, then a pause (not one per request).
    assert!(attempts <= 2, "{attempts} login attempts");
    assert_eq!(counters.logins(Provider::Pledg), 0);
}
