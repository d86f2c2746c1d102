//! A fleet sharing tokens through a real Redis Cluster (3 masters + 3
//! replicas), whose master holding the fleet's token is SIGKILLed mid-run:
//! its replica is promoted, no request fails, and the fleet logs in far
//! less often than without the store. One test: the cluster (≈3 s to form)
//! serves the whole scenario.
//!
//! Then the README's least-privilege ACL user on every node of a Valkey
//! cluster, and of a Redis cluster that speaks only TLS (clients, bus,
//! replication, private CA — as managed offerings run it): the fleet logs
//! in once per refresh, and a store with the wrong password or the wrong
//! CA degrades to the local cache with one warning.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use payauth_runtime::redis_store::RedisStoreConfig;
use payauth_sandbox::Provider;
use workspace_tests::fleet::{
    Fleet, assert_shared, one_at_a_time, one_process_max, sandbox_with_lifetime, sum,
};
use workspace_tests::redis_access::{
    PASSWORD, Pki, acl_setuser, degrades, fleet_env, store_keys, tls_args, with_user,
};
use workspace_tests::redis_cluster::RedisCluster;
use workspace_tests::redis_server::Engine;

const PROCESSES: usize = 4;
const CONCURRENCY: usize = 50;
const LIFETIME: Duration = Duration::from_secs(2);
const RUN: Duration = Duration::from_secs(20);
const PAUSE: Duration = Duration::from_millis(500);
/// When the master dies, from the start of the run.
const KILL_AFTER: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_fleet_survives_a_master_failover() {
    let _one = one_at_a_time().await;
    let cluster = tokio::task::spawn_blocking(RedisCluster::start)
        .await
        .expect("cluster");
    let sandbox = sandbox_with_lifetime(LIFETIME).await;
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
        margin: None,
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

/// A cluster of `engine` (TLS-only with `pki`) with the ACL user on every
/// node serves a fleet of 3 processes; then a store with the wrong CA
/// (TLS) or the wrong password degrades.
async fn acl_cluster_serves_the_fleet(engine: Engine, pki: Option<&Pki>) {
    let _one = one_at_a_time().await;
    // Blocking, before anything else runs on this (current) thread.
    let cluster = RedisCluster::start_with(engine, |port| match pki {
        Some(pki) => tls_args(pki, port),
        None => Default::default(),
    });
    let acl = cluster.cli_on_every_node(&acl_setuser());
    assert!(
        acl.len() == 6 && acl.iter().all(|out| out.trim() == "OK"),
        "ACL SETUSER on every node: {acl:?}"
    );
    let seeds = cluster.seeds();
    let sandbox = sandbox_with_lifetime(LIFETIME).await;
    let fleet = Fleet::small(
        env!("CARGO_BIN_EXE_fleet_worker"),
        Duration::from_secs(8),
        with_user(&seeds, PASSWORD),
        fleet_env(pki),
    );
    let reports = fleet.run(&sandbox).await;
    let logins = sandbox.counters().logins(Provider::Pledg);
    let held = cluster.master_holding("auth-runtime:v1:token:*");
    eprintln!(
        "{engine:?} cluster ({}), ACL user: fleet of {} processes, {}s run of {}s tokens: \
         {logins} logins, {} ok requests; token on master {held:?}",
        seeds.split("://").next().unwrap_or_default(),
        fleet.processes,
        fleet.run.as_secs(),
        LIFETIME.as_secs(),
        sum(&reports, "ok")
    );
    for r in &reports {
        eprintln!("  {}", r["store"]);
    }
    assert_shared(&reports, logins);
    assert!(held.is_some(), "no master holds the fleet's token");
    let one_process_max = one_process_max(fleet.run, LIFETIME);
    assert!(
        (logins as f64) <= one_process_max,
        "{logins} logins (one process: ≤ {one_process_max:.0})"
    );

    let wrong = match pki {
        Some(pki) => {
            let mut cfg = RedisStoreConfig::new(with_user(&seeds, PASSWORD), store_keys());
            cfg.ca_file = Some(pki.path("other-ca.crt").into());
            cfg
        }
        None => RedisStoreConfig::new(with_user(&seeds, "not-the-password"), store_keys()),
    };
    assert!(wrong.cluster);
    degrades(&sandbox, wrong).await;
}

// Current-thread runtimes: the capturing subscriber of `degrades` sees
// every event.
#[tokio::test]
async fn a_valkey_cluster_with_an_acl_user_serves_the_fleet_and_a_wrong_password_degrades() {
    acl_cluster_serves_the_fleet(Engine::Valkey, None).await;
}

#[tokio::test]
async fn a_tls_cluster_with_an_acl_user_serves_the_fleet_and_a_wrong_ca_degrades() {
    let pki = Pki::generate();
    acl_cluster_serves_the_fleet(Engine::Redis, Some(&pki)).await;
}
