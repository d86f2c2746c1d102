//! Redis killed in the middle of a run, then restarted (empty): no request
//! fails, nothing waits long, and the store is used again afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use payauth_runtime::RetryPolicy;
use payauth_runtime::redis_store::{RedisStore, RedisStoreConfig, StoreStats};
use payauth_sandbox::{PledgConfig, Provider, Sandbox, SandboxConfig};
use pledg::Secret;
use workspace_tests::redis_server::RedisServer;

const CLIENTS: usize = 4;
const TASKS_PER_CLIENT: usize = 50;

fn pledg_client(
    sandbox: &Sandbox,
    store: Arc<RedisStore>,
    telemetry: payauth_runtime::Telemetry,
) -> pledg::Client {
    let (api_key, api_secret) = workspace_tests::fleet::pledg_credentials(sandbox);
    pledg::builder()
        .base_url(sandbox.base_url(Provider::Pledg))
        .credentials(pledg::Credentials::new(api_key, Secret::new(api_secret)))
        .retry_policy(
            RetryPolicy::default()
                .max_retries(3)
                .initial_backoff(Duration::from_millis(50)),
        )
        // Each client its own token cache, as separate processes would.
        .shared_cache(false)
        .telemetry(telemetry)
        .token_store(store)
        .build()
        .expect("pledg client")
}

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
    slowest_ms: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_killed_and_restarted_fails_no_request() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("payauth_runtime::redis_store=debug")
        .with_test_writer()
        .try_init();
    let mut redis = RedisServer::start();
    let mut cfg = SandboxConfig::default();
    cfg.provider_mut::<PledgConfig>().token_lifetime = Duration::from_secs(2);
    let sandbox = Sandbox::start_with(cfg).await.expect("sandbox");
    let store = Arc::new(
        RedisStore::new({
            let mut cfg = RedisStoreConfig::new(redis.url(), vec![("k1".into(), [42u8; 32])]);
            // 200 busy tasks of a debug build on 2 shared cores can keep a
            // reconnect past the 250 ms default; a refused connection (Redis
            // down) fails at once whatever the timeout.
            cfg.op_timeout = Duration::from_secs(1);
            cfg
        })
        .expect("store"),
    );

    let (before_kill, down_for, after_restart) = (
        Duration::from_secs(3),
        Duration::from_secs(3),
        Duration::from_secs(6),
    );
    let deadline = Instant::now() + before_kill + down_for + after_restart;
    let tally = Arc::new(Tally::default());
    // What the clients report to OpenTelemetry: the store's hits, misses
    // and the outage.
    let otel = workspace_tests::telemetry_summary::InMemoryTelemetry::default();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let client = Arc::new(pledg_client(&sandbox, Arc::clone(&store), otel.telemetry()));
        for _ in 0..TASKS_PER_CLIENT {
            let (client, tally) = (Arc::clone(&client), Arc::clone(&tally));
            tasks.push(tokio::spawn(async move {
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let outcome = client
                        .send(client.request(reqwest::Method::GET, "/sandbox/protected"))
                        .await;
                    let ms = started.elapsed().as_millis() as u64;
                    tally.slowest_ms.fetch_max(ms, Ordering::Relaxed);
                    match outcome {
                        Ok(r) if r.status().is_success() => {
                            tally.ok.fetch_add(1, Ordering::Relaxed);
                        }
                        other => {
                            eprintln!("failed request: {:?}", other.map(|r| r.status()));
                            tally.failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
    }

    tokio::time::sleep(before_kill).await;
    let up: StoreStats = store.stats();
    let reported_up = otel.summary().get("pledg").copied().unwrap_or_default();
    redis.kill();
    tokio::time::sleep(down_for).await;
    let down = store.stats();
    let reported_down = otel.summary().get("pledg").copied().unwrap_or_default();
    redis.restart();
    for t in tasks {
        t.await.expect("task");
    }
    let end = store.stats();
    eprintln!("store stats: up {up:?}\n  down {down:?}\n  end {end:?}");
    eprintln!(
        "requests ok {}, failed {}, slowest {} ms",
        tally.ok.load(Ordering::Relaxed),
        tally.failed.load(Ordering::Relaxed),
        tally.slowest_ms.load(Ordering::Relaxed)
    );

    assert_eq!(tally.failed.load(Ordering::Relaxed), 0);
    assert!(tally.ok.load(Ordering::Relaxed) > 0);
    // Shared through Redis while it was up.
    assert!(up.fetches_run > 0 && up.hits + up.waited > 0, "{up:?}");
    assert_eq!(up.redis_errors, 0, "{up:?}");
    // Down: errors seen, tokens fetched directly.
    assert!(down.redis_errors > 0, "{down:?}");
    assert!(down.fallbacks > up.fallbacks, "{down:?}");
    // The backoff gate keeps a dead Redis off the request path.
    assert!(
        tally.slowest_ms.load(Ordering::Relaxed) < 3_000,
        "a request took {} ms",
        tally.slowest_ms.load(Ordering::Relaxed)
    );
    // Telemetry said so too: hits and misses while Redis was up, none an
    // outage; outages while it was down.
    assert!(
        reported_up.store_hits > 0 && reported_up.store_misses > 0,
        "{reported_up:?}"
    );
    assert_eq!(reported_up.store_outages, 0, "{reported_up:?}");
    assert!(reported_down.store_outages > 0, "{reported_down:?}");
    // Back: the store is used again (the restarted Redis was empty).
    assert!(end.fetches_run > down.fetches_run, "{down:?} → {end:?}");
    assert!(
        end.hits + end.waited > down.hits + down.waited,
        "{down:?} → {end:?}"
    );
}
