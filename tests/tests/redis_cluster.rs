//! A fleet sharing tokens through a real Redis Cluster (3 masters + 3
//! replicas), whose master holding the fleet's token is SIGKILLed mid-run:
//! its replica is promoted, no request fails, and the fleet logs in far
//! less often than without the store. One test: the cluster (≈3 s to form)
//! serves the whole scenario.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sandbox::{Provider, Sandbox, SandboxConfig};
use workspace_tests::fleet::{Fleet, sum};
use workspace_tests::redis_cluster::RedisCluster;

const PROCESSES: usize = 4;
const CONCURRENCY: usize = 50;
const LIFETIME: Duration = Duration::from_secs(2);
const RUN: Duration = Duration::from_secs(20);
const PAUSE: Duration = Duration::from_millis(500);
/// When the master dies, from the start of the run.
const KILL_AFTER: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_fleet_survives_a_master_failover() {
    let cluster = tokio::task::spawn_blocking(RedisCluster::start)
        .await
        .expect("cluster");
    let mut cfg = SandboxConfig::default();
    cfg.pledg.token_lifetime = LIFETIME;
    let sandbox = Sandbox::start_with(cfg).await.expect("sandbox");
    let fleet = |redis: String| Fleet {
        worker: env!("CARGO_BIN_EXE_fleet_worker").to_string(),
        processes: PROCESSES,
        concurrency: CONCURRENCY,
        run: RUN,
        pause: PAUSE,
        redis,
        env: vec![(
            "AUTH_RUNTIME_REDIS_KEYS".into(),
            format!("k1:{}", STANDARD.encode([21u8; 32])),
        )],
    };

    let shared_fleet = fleet(cluster.seeds());
    // Kill and watch the failover from a thread of its own (blocking
    // `redis-cli` calls) while the fleet runs.
    let killer = std::thread::spawn(move || {
        let mut cluster = cluster;
        std::thread::sleep(KILL_AFTER);
        // The token may be between two fetches: look for a few seconds.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let victim = loop {
            if let Some(port) = cluster.master_holding("auth-runtime:v1:token:*") {
                break port;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no master holds the fleet's token"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        cluster.kill(victim);
        let started = std::time::Instant::now();
        // The replica takes over after the node timeout (2 s).
        cluster.wait_healthy();
        (cluster, victim, started.elapsed())
    });
    let shared_reports = shared_fleet.run(&sandbox).await;
    let (_cluster, victim, failover) = killer.join().expect("killer thread");
    let shared = sandbox.counters().logins(Provider::Pledg);
    sandbox.reset_counters();

    let alone_reports = fleet("none".into()).run(&sandbox).await;
    let alone = sandbox.counters().logins(Provider::Pledg);

    eprintln!(
        "cluster fleet of {PROCESSES} processes × {CONCURRENCY} tasks, {}s tokens, {}s run; \
         master :{victim} killed at {}s, cluster ok again after {:.1}s: \
         logins with the store = {shared}, without = {alone}",
        LIFETIME.as_secs(),
        RUN.as_secs(),
        KILL_AFTER.as_secs(),
        failover.as_secs_f64()
    );
    for (name, reports) in [("with store", &shared_reports), ("without", &alone_reports)] {
        eprintln!(
            "  {name}: ok {}, failed {}, slowest {} ms",
            sum(reports, "ok"),
            sum(reports, "failed"),
            reports
                .iter()
                .map(|r| r["slowest_ms"].as_u64().unwrap_or(0))
                .max()
                .unwrap_or(0)
        );
    }
    for r in &shared_reports {
        eprintln!("  store: {}", r["store"]);
    }

    for (name, reports) in [("shared", &shared_reports), ("alone", &alone_reports)] {
        assert_eq!(sum(reports, "failed"), 0, "{name}: {reports:?}");
        assert!(sum(reports, "ok") > 0, "{name}: no request went through");
    }
    // The failover was felt (commands failed) and survived.
    assert!(
        sum(&shared_reports, "store.redis_errors") > 0,
        "{shared_reports:?}"
    );
    assert!(sum(&shared_reports, "store.hits") + sum(&shared_reports, "store.waited") > 0);
    assert!(
        (alone as f64) >= 2.0 * shared as f64,
        "without the store {alone} logins, with it {shared}"
    );
}
