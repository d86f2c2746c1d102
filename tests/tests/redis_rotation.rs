//! Institution rotates refresh tokens and refuses a reused one with 401. A
//! fleet sharing Redis uses each refresh token exactly once: one process
//! refreshes under the fleet lock, with the fleet's latest refresh token.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use payauth_sandbox::{InstitutionConfig, Provider, RefreshTokens, Route, Sandbox, SandboxConfig};
use serde_json::Value;
use workspace_tests::redis_server::RedisServer;

const PROCESSES: usize = 4;
/// Few tasks: every institution call is RS256, and a sandbox saturated by
/// signature checks would delay refreshes past expiry (harmless — 401
/// recovery waits for the fleet's refresh — but noisy).
const CONCURRENCY: usize = 10;
const ACCESS_LIFETIME: Duration = Duration::from_secs(3);
const RUN: Duration = Duration::from_secs(12);

fn sum(reports: &[Value], f: impl Fn(&Value) -> &Value) -> u64 {
    reports.iter().map(|r| f(r).as_u64().unwrap_or(0)).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rotating_refresh_token_is_used_by_one_process() {
    let redis = RedisServer::start();
    let mut cfg = SandboxConfig::default();
    let inst = cfg.provider_mut::<InstitutionConfig>();
    inst.access_token_lifetime = ACCESS_LIFETIME;
    inst.refresh_tokens = RefreshTokens::Rotating;
    let sandbox = Sandbox::start_with(cfg).await.expect("sandbox");
    let creds = sandbox.credentials(Provider::Institution);
    let email = creds.text("email").to_owned();
    let password = creds.text("password").to_owned();
    let merchant_id = creds.text("merchant_id").to_owned();

    let mut children = Vec::new();
    for _ in 0..PROCESSES {
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fleet_worker"))
            .args(["--provider", "institution"])
            .args(["--base-url", &sandbox.base_url(Provider::Institution)])
            .args(["--email", &email])
            .args(["--password", &password])
            .args(["--merchant-id", &merchant_id])
            .args(["--redis", &redis.url()])
            .args(["--duration-ms", &RUN.as_millis().to_string()])
            .args(["--concurrency", &CONCURRENCY.to_string()])
            .env_remove("AUTH_RUNTIME_REDIS_URL")
            .env(
                "AUTH_RUNTIME_REDIS_KEYS",
                format!("k1:{}", STANDARD.encode([5u8; 32])),
            )
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn fleet_worker");
        children.push(child);
    }
    let mut reports = Vec::new();
    for child in children {
        let out = child.wait_with_output().await.expect("output");
        assert!(out.status.success(), "fleet_worker failed: {}", out.status);
        reports.push(serde_json::from_slice::<Value>(&out.stdout).expect("JSON report"));
    }

    let counters = sandbox.counters();
    let refresh_route = counters.route(Provider::Institution, Route::Refresh);
    let logins = counters.logins(Provider::Institution);
    let refreshes = counters.refreshes(Provider::Institution);
    let fetches_run = sum(&reports, |r| &r["store"]["fetches_run"]);
    let client_refreshes = sum(&reports, |r| &r["refreshes"]);
    eprintln!(
        "institution fleet: {logins} login(s), {refreshes} refreshes at the sandbox \
         ({} refresh requests, {} refused); {fetches_run} fetches under the fleet lock; \
         {} protected calls answered 401",
        refresh_route.requests,
        refresh_route.unauthorized_401,
        counters
            .route(Provider::Institution, Route::Protected)
            .unauthorized_401
    );
    for r in &reports {
        eprintln!("  {r}");
    }

    assert_eq!(
        sum(&reports, |r| &r["failed"]),
        0,
        "failed requests: {reports:?}"
    );
    // No refresh token was presented twice.
    assert_eq!(refresh_route.unauthorized_401, 0, "reused refresh tokens");
    assert_eq!(
        refresh_route.requests, refreshes,
        "every refresh request succeeded"
    );
    // One login for the whole fleet; after that, only refreshes.
    assert_eq!(logins, 1);
    assert!(
        refreshes as f64 >= RUN.as_secs_f64() / ACCESS_LIFETIME.as_secs_f64() - 1.0,
        "only {refreshes} refreshes"
    );
    // Each fetch under the lock is exactly one provider call.
    assert_eq!(fetches_run, logins + refreshes);
    assert_eq!(client_refreshes, refreshes);
    for field in [
        "fallbacks",
        "wait_timeouts",
        "redis_errors",
        "undecryptable",
    ] {
        assert_eq!(
            sum(&reports, |r| &r["store"][field]),
            0,
            "{field}: {reports:?}"
        );
    }
}
