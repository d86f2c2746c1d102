//! A fleet of 4 processes × 50 tasks against the sandbox: with the token
//! store they log in about as often as ONE process would; without it,
//! about four times as often. Zero failed requests either way. The same
//! scenario on Redis and on Valkey.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sandbox::Provider;
use workspace_tests::fleet::{
    Fleet, assert_shared, one_at_a_time, one_process_max, sandbox_with_lifetime, sum,
};
use workspace_tests::redis_server::{Engine, RedisServer};

const PROCESSES: usize = 4;
const CONCURRENCY: usize = 50;
const LIFETIME: Duration = Duration::from_secs(2);
/// Each task's pause between two calls. Without one, 800 tasks saturate a
/// small machine (debug build), responses take longer than what is left of
/// a 2 s token, and calls fail twice with 401 whatever the token store.
const PAUSE: Duration = Duration::from_millis(500);

fn keys_env() -> String {
    format!(
        "k1:{},k0:{}",
        STANDARD.encode([11u8; 32]),
        STANDARD.encode([10u8; 32])
    )
}

/// The fleet for `run`, with and then without the store on `engine`.
async fn once_per_lifetime(engine: Engine, run: Duration) {
    let _one = one_at_a_time().await;
    let redis = RedisServer::start_engine(engine, |_| Default::default());
    let sandbox = sandbox_with_lifetime(LIFETIME).await;
    let lifetimes = run.as_secs_f64() / LIFETIME.as_secs_f64();
    let fleet = |redis: String| Fleet {
        worker: env!("CARGO_BIN_EXE_fleet_worker").to_string(),
        processes: PROCESSES,
        concurrency: CONCURRENCY,
        run,
        pause: PAUSE,
        redis,
        env: vec![("AUTH_RUNTIME_REDIS_KEYS".into(), keys_env())],
    };

    let shared_reports = fleet(redis.url()).run(&sandbox).await;
    let shared = sandbox.counters().logins(Provider::Pledg);
    sandbox.reset_counters();

    let alone_reports = fleet("none".into()).run(&sandbox).await;
    let alone = sandbox.counters().logins(Provider::Pledg);

    eprintln!(
        "{engine:?} fleet of {PROCESSES} processes × {CONCURRENCY} tasks, {}s tokens, {}s run ({lifetimes} lifetimes): \
         logins with the store = {shared}, without = {alone}",
        LIFETIME.as_secs(),
        run.as_secs()
    );
    eprintln!(
        "  with store: {} ok requests, per-process store stats: {}",
        sum(&shared_reports, "ok"),
        shared_reports
            .iter()
            .map(|r| r["store"].to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    eprintln!("  without:    {} ok requests", sum(&alone_reports, "ok"));
    for (name, reports) in [("with store", &shared_reports), ("without", &alone_reports)] {
        eprintln!(
            "  {name}: failed {}, 401 recoveries {}, slowest {} ms",
            sum(reports, "failed"),
            sum(reports, "reauthentications"),
            reports
                .iter()
                .map(|r| r["slowest_ms"].as_u64().unwrap_or(0))
                .max()
                .unwrap_or(0)
        );
    }

    assert_shared(&shared_reports, shared);
    assert_eq!(sum(&alone_reports, "failed"), 0, "{alone_reports:?}");
    assert!(
        sum(&alone_reports, "ok") > 0,
        "alone: no request went through"
    );
    // The shared fleet stays within what a single process would do.
    let one_process_max = one_process_max(run, LIFETIME);
    assert!(
        (shared as f64) <= one_process_max,
        "shared store: {shared} logins for {lifetimes} lifetimes (one process: ≤ {one_process_max:.0})"
    );
    assert!(
        (alone as f64) >= 2.5 * shared as f64,
        "without the store {alone} logins, with it {shared}: expected about {PROCESSES}×"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_logs_in_once_per_lifetime_with_redis_and_per_process_without() {
    once_per_lifetime(Engine::Redis, Duration::from_secs(20)).await;
}

/// Valkey 8: a shorter run (5 lifetimes) shows the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_logs_in_once_per_lifetime_with_valkey_and_per_process_without() {
    once_per_lifetime(Engine::Valkey, Duration::from_secs(10)).await;
}
