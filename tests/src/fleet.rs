//! Run a fleet of `fleet_worker` processes against the sandbox's pledg
//! emulation and collect their JSON reports.

use std::time::Duration;

use payauth_sandbox::{PledgConfig, Provider, Sandbox, SandboxConfig};
use serde_json::Value;

/// How long after a fleet's first spawn its workers start calling: time
/// for all of them to start (a debug-build worker is up in ~30 ms; one
/// that starts later calls at once).
pub const START_ALLOWANCE: Duration = Duration::from_millis(500);

/// One fleet run.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// Path of the `fleet_worker` binary (`env!("CARGO_BIN_EXE_fleet_worker")`).
    pub worker: String,
    pub processes: usize,
    pub concurrency: usize,
    pub run: Duration,
    pub pause: Duration,
    /// `--redis`: `none`, or a URL (comma-separated seeds for a cluster).
    pub redis: String,
    /// Extra environment (`AUTH_RUNTIME_REDIS_KEYS`, `…_CA_FILE`…).
    pub env: Vec<(String, String)>,
    /// `--margin-ms`: the expiry margin's cap (`None`: the default,
    /// `min(10 s, 15 %)`).
    pub margin: Option<Duration>,
}

/// The sandbox's pledg `(api key, api secret)`.
///
/// # Panics
/// If the sandbox's pledg credentials lack either field.
pub fn pledg_credentials(sandbox: &Sandbox) -> (String, String) {
    let c = sandbox.credentials(Provider::Pledg);
    (
        c.text("api_key").to_owned(),
        c.text("api_secret").to_owned(),
    )
}

/// A sandbox whose pledg tokens live `lifetime`.
///
/// # Panics
/// If it does not start.
pub async fn sandbox_with_lifetime(lifetime: Duration) -> Sandbox {
    let mut cfg = SandboxConfig::default();
    cfg.provider_mut::<PledgConfig>().token_lifetime = lifetime;
    Sandbox::start_with(cfg).await.expect("sandbox")
}

impl Fleet {
    /// 3 processes × 20 tasks, each pausing 200 ms between two calls, for
    /// `run`, through `redis` with `env`.
    pub fn small(worker: &str, run: Duration, redis: String, env: Vec<(String, String)>) -> Fleet {
        Fleet {
            worker: worker.to_string(),
            processes: 3,
            concurrency: 20,
            run,
            pause: Duration::from_millis(200),
            redis,
            env,
            margin: None,
        }
    }

    /// Start the workers; their reports once they all finished. They make
    /// their first calls together, [`START_ALLOWANCE`] after the first
    /// spawn, and stop `run` later: the fleet's calls span `run`.
    ///
    /// # Panics
    /// If a worker fails or prints no JSON.
    pub async fn run(&self, sandbox: &Sandbox) -> Vec<Value> {
        let (api_key, api_secret) = pledg_credentials(sandbox);
        let start_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("wall clock after 1970")
            + START_ALLOWANCE;
        let mut children = Vec::new();
        for _ in 0..self.processes {
            let mut cmd = tokio::process::Command::new(&self.worker);
            cmd.args(["--provider", "pledg"])
                .args(["--base-url", &sandbox.base_url(Provider::Pledg)])
                .args(["--api-key", &api_key])
                .args(["--api-secret", &api_secret])
                .args(["--duration-ms", &self.run.as_millis().to_string()])
                .args(["--concurrency", &self.concurrency.to_string()])
                .args(["--pause-ms", &self.pause.as_millis().to_string()])
                .args(["--redis", &self.redis])
                .args(["--start-at-unix-ms", &start_at.as_millis().to_string()])
                .args(
                    self.margin
                        .map(|m| ["--margin-ms".to_string(), m.as_millis().to_string()])
                        .into_iter()
                        .flatten(),
                )
                .env_remove("AUTH_RUNTIME_REDIS_URL")
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .stdout(std::process::Stdio::piped())
                .kill_on_drop(true);
            children.push(cmd.spawn().expect("spawn fleet_worker"));
        }
        let mut reports = Vec::new();
        for child in children {
            let out = child.wait_with_output().await.expect("fleet_worker output");
            assert!(out.status.success(), "fleet_worker failed: {}", out.status);
            reports.push(serde_json::from_slice(&out.stdout).expect("JSON report"));
        }
        reports
    }
}

/// The sum of a numeric field over the reports (`"store.fallbacks"` for
/// a nested one).
pub fn sum(reports: &[Value], field: &str) -> u64 {
    reports
        .iter()
        .map(|r| field.split('.').fold(r, |v, f| &v[f]).as_u64().unwrap_or(0))
        .sum()
}

/// Within one test binary, one fleet at a time: two fleets of debug-build
/// workers at once on a 2-core machine slow each other's calls past what
/// is left of a 2 s token.
pub async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static FLEET: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    FLEET.lock().await
}

/// A generous bound on the logins ONE process makes in `run` with tokens
/// of `lifetime` (whole seconds, ≥ 2), plus its first: at most one per 70 %
/// of a second less than the lifetime. (It dates from a sandbox that
/// truncated `exp` — a 2 s token usable for 1–2 s — and refreshes at 70–80 %
/// of that; a token now serves 85–92.5 % of its full lifetime.) A fleet
/// sharing its tokens stays within it; `redis_fleet` asserts the tight
/// bound (the first login plus 1.1 per lifetime).
pub fn one_process_max(run: Duration, lifetime: Duration) -> f64 {
    let min_life = lifetime.as_secs_f64() - 1.0;
    run.as_secs_f64() / (0.7 * min_life) + 4.0
}

/// The reports of a fleet that shared one principal through a healthy
/// store, and the provider's login count: no failed request, no Redis
/// error, fallback or wait timeout; every login was a fetch under the fleet
/// lock, and other processes reused its token.
///
/// # Panics
/// If one of these does not hold.
pub fn assert_shared(reports: &[Value], logins: u64) {
    for field in [
        "failed",
        "store.redis_errors",
        "store.fallbacks",
        "store.wait_timeouts",
    ] {
        assert_eq!(sum(reports, field), 0, "{field}: {reports:?}");
    }
    assert!(sum(reports, "ok") > 0, "no request went through");
    assert!(sum(reports, "store.fetches_run") > 0, "{reports:?}");
    assert!(
        sum(reports, "store.hits") + sum(reports, "store.waited") > 0,
        "no process reused another's token: {reports:?}"
    );
    assert_eq!(
        logins,
        sum(reports, "store.fetches_run"),
        "each login must be a fetch under the fleet lock: {reports:?}"
    );
}
