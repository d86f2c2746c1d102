//! A fleet of 4 processes × 50 tasks against the sandbox: with the Redis
//! token store they log in about as often as ONE process would; without it,
//! about four times as often. Zero failed requests either way.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sandbox::{Credentials, Provider, Sandbox, SandboxConfig};
use serde_json::Value;
use workspace_tests::redis_server::RedisServer;

const PROCESSES: usize = 4;
const CONCURRENCY: usize = 50;
const LIFETIME: Duration = Duration::from_secs(2);
const RUN: Duration = Duration::from_secs(20);
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

/// Run `PROCESSES` workers at once; their JSON reports.
async fn fleet(sandbox: &Sandbox, redis: Option<&RedisServer>) -> Vec<Value> {
    let Credentials::Pledg {
        api_key,
        api_secret,
    } = sandbox.credentials(Provider::Pledg)
    else {
        panic!("pledg credentials");
    };
    let mut children = Vec::new();
    for _ in 0..PROCESSES {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_fleet_worker"));
        cmd.args(["--provider", "pledg"])
            .args(["--base-url", &sandbox.base_url(Provider::Pledg)])
            .args(["--api-key", &api_key])
            .args(["--api-secret", &api_secret])
            .args(["--duration-ms", &RUN.as_millis().to_string()])
            .args(["--concurrency", &CONCURRENCY.to_string()])
            .args(["--pause-ms", &PAUSE.as_millis().to_string()])
            .env_remove("AUTH_RUNTIME_REDIS_URL")
            .env("AUTH_RUNTIME_REDIS_KEYS", keys_env())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        match redis {
            Some(r) => cmd.args(["--redis", &r.url()]),
            None => cmd.args(["--redis", "none"]),
        };
        children.push(cmd.spawn().expect("spawn fleet_worker"));
    }
    let mut reports = Vec::new();
    for child in children {
        let out = child.wait_with_output().await.expect("fleet_worker output");
        assert!(out.status.success(), "fleet_worker failed: {}", out.status);
        let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        reports.push(report);
    }
    reports
}

fn sum(reports: &[Value], field: &str) -> u64 {
    reports.iter().map(|r| r[field].as_u64().unwrap_or(0)).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_logs_in_once_per_lifetime_with_redis_and_per_process_without() {
    let redis = RedisServer::start();
    let mut cfg = SandboxConfig::default();
    cfg.pledg.token_lifetime = LIFETIME;
    let sandbox = Sandbox::start_with(cfg).await.expect("sandbox");
    let lifetimes = RUN.as_secs_f64() / LIFETIME.as_secs_f64();

    let shared_reports = fleet(&sandbox, Some(&redis)).await;
    let shared = sandbox.counters().logins(Provider::Pledg);
    sandbox.reset_counters();

    let alone_reports = fleet(&sandbox, None).await;
    let alone = sandbox.counters().logins(Provider::Pledg);

    eprintln!(
        "fleet of {PROCESSES} processes × {CONCURRENCY} tasks, {}s tokens, {}s run ({lifetimes} lifetimes): \
         logins with the Redis store = {shared}, without = {alone}",
        LIFETIME.as_secs(),
        RUN.as_secs()
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

    for (name, reports) in [("shared", &shared_reports), ("alone", &alone_reports)] {
        assert_eq!(
            sum(reports, "failed"),
            0,
            "{name}: failed requests: {reports:?}"
        );
        assert!(sum(reports, "ok") > 0, "{name}: no request went through");
    }
    for r in &shared_reports {
        let store = &r["store"];
        assert_eq!(store["redis_errors"], 0, "{store}");
        assert_eq!(store["fallbacks"], 0, "{store}");
        assert_eq!(store["wait_timeouts"], 0, "{store}");
    }
    // JWT `exp` is in whole seconds, so a 2 s token is usable for 1–2 s,
    // and refreshed at 70–80 % of that: ONE process logs in at most once
    // per 0.7 s (about once per 1.1 s on average), plus its first login.
    // The shared fleet must stay within what a single process would do.
    let min_life = LIFETIME.as_secs_f64() - 1.0;
    let one_process_max = RUN.as_secs_f64() / (0.7 * min_life) + 4.0;
    assert!(
        (shared as f64) <= one_process_max,
        "shared store: {shared} logins for {lifetimes} lifetimes (one process: ≤ {one_process_max:.0})"
    );
    assert!(
        (alone as f64) >= 2.5 * shared as f64,
        "without the store {alone} logins, with it {shared}: expected about {PROCESSES}×"
    );
}
