//! The soak: every SDK against the sandbox for many token
//! lifetimes, with short tokens and random faults on every route, counting
//! what the runtime must keep bounded. `tests/tests/soak.rs` runs the short
//! version in the suite; `cargo xtask soak --long` runs the long one.
//!
//! Counts, never times: calls made, failures surfaced to callers, requests
//! the provider refused with 401 (a token expired in flight or stale), auth
//! calls (logins + refreshes the sandbox served) per provider, and faulted
//! token calls, so that "auth calls ≤ 1.2 × lifetimes + faulted token calls"
//! can be checked.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use payauth_runtime::RetryPolicy;
use payauth_sandbox::{Counters, Fault, FaultMix, Provider, Route, SandboxConfig};

use crate::support::{self, AnyClient, Env, fast_retries};

/// At most this share of all calls may be refused by a provider with 401.
pub const MAX_REFUSED_SHARE: f64 = 0.0001;
/// Auth calls per token lifetime the runtime may spend (plus one per
/// faulted token call).
pub const AUTH_CALLS_PER_LIFETIME: f64 = 1.2;

/// What to run.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// Stop once this many calls are made and `min_duration` has passed.
    pub min_calls: u64,
    pub min_duration: Duration,
    /// Stop anyway after this long (a hang guard, not a speed check).
    pub max_duration: Duration,
    /// Concurrent callers, split evenly over the providers.
    pub callers: usize,
    /// Token lifetime of exirom, institution (access), pledg and axept;
    /// bursagb keeps its default (1 h).
    pub token_lifetime: Duration,
    /// Share of requests of each route that get a fault.
    pub fault_rate: f64,
    pub seed: u64,
}

impl SoakConfig {
    /// The suite's version: ≥ 20,000 calls over ≥ 12 token lifetimes.
    pub fn short() -> SoakConfig {
        SoakConfig {
            min_calls: 20_000,
            min_duration: Duration::from_secs(24),
            max_duration: Duration::from_secs(600),
            callers: 40,
            token_lifetime: Duration::from_secs(2),
            fault_rate: 0.05,
            seed: 13,
        }
    }

    /// `cargo xtask soak --long`: ≥ 1,000,000 calls (release build).
    pub fn long() -> SoakConfig {
        SoakConfig {
            min_calls: 1_000_000,
            min_duration: Duration::from_secs(40),
            max_duration: Duration::from_secs(3600),
            ..SoakConfig::short()
        }
    }
}

/// Faults on API calls: 503, 429 with `retry-after-ms`, a dropped
/// connection, 300 ms of latency (the call then succeeds).
pub fn api_faults() -> Vec<Fault> {
    vec![
        Fault::status(503),
        Fault::status(429).retry_after_ms(100),
        Fault::drop_connection(),
        Fault::latency(Duration::from_millis(300)),
    ]
}

/// Faults on token calls: 503, a truncated body (the token IS issued), a
/// malformed body, a dropped connection.
pub fn token_faults() -> Vec<Fault> {
    vec![
        Fault::status(503),
        Fault::truncated_body(),
        Fault::malformed_body(),
        Fault::drop_connection(),
    ]
}

fn is_token_route(r: Route) -> bool {
    matches!(r, Route::Login | Route::Refresh)
}

/// The retry budget of the soak's clients: fast backoffs, and enough
/// retries that exhausting them on chance faults is negligible (6 attempts
/// all faulted: 0.05⁶ ≈ 2e-8 per call), so a surfaced failure is the
/// runtime's. POSTs are retried too (the sandbox's create calls have no
/// side effect worth protecting).
pub fn soak_retries() -> RetryPolicy {
    fast_retries().max_retries(5).retry_non_idempotent(true)
}

/// One provider's figures.
#[derive(Debug, Clone)]
pub struct ProviderFigures {
    pub provider: Provider,
    pub nominal_lifetime: Duration,
    pub calls: u64,
    /// Calls that returned an error (or a non-200) to the caller.
    pub failures: u64,
    /// 401s the sandbox answered on API routes: a token refused.
    pub refused: u64,
    /// 401s on token routes (e.g. a spent refresh token).
    pub token_route_401: u64,
    pub logins: u64,
    pub refreshes: u64,
    /// Faults served on the token routes (login, refresh).
    pub faulted_token_calls: u64,
    /// Faults served on API routes.
    pub faulted_api_calls: u64,
}

impl ProviderFigures {
    pub fn auth_calls(&self) -> u64 {
        self.logins + self.refreshes
    }
}

/// What a soak measured.
#[derive(Debug, Clone)]
pub struct SoakReport {
    pub config: SoakConfig,
    pub elapsed: Duration,
    pub providers: Vec<ProviderFigures>,
    /// The first few surfaced failures, for the report.
    pub failure_samples: Vec<String>,
}

impl SoakReport {
    pub fn calls(&self) -> u64 {
        self.providers.iter().map(|f| f.calls).sum()
    }
    pub fn failures(&self) -> u64 {
        self.providers.iter().map(|f| f.failures).sum()
    }
    pub fn refused(&self) -> u64 {
        self.providers.iter().map(|f| f.refused).sum()
    }

    /// Token lifetimes started during the run: each needs one token.
    pub fn lifetimes(&self, f: &ProviderFigures) -> u64 {
        let l = f.nominal_lifetime.as_secs_f64().max(1e-3);
        (self.elapsed.as_secs_f64() / l).ceil().max(1.0) as u64
    }

    /// The most auth calls the provider may have made.
    pub fn auth_bound(&self, f: &ProviderFigures) -> f64 {
        AUTH_CALLS_PER_LIFETIME * self.lifetimes(f) as f64 + f.faulted_token_calls as f64
    }

    /// Every bound of the soak that the run broke, in words.
    pub fn violations(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.calls() < self.config.min_calls {
            v.push(format!(
                "only {} calls (wanted ≥ {}; stopped by the hang guard?)",
                self.calls(),
                self.config.min_calls
            ));
        }
        if self.failures() > 0 {
            v.push(format!(
                "{} failures surfaced to callers (wanted 0)",
                self.failures()
            ));
        }
        let allowed = MAX_REFUSED_SHARE * self.calls() as f64;
        if self.refused() as f64 > allowed {
            v.push(format!(
                "{} requests refused with 401 = {:.4} % of calls (wanted ≤ {:.2} %, i.e. ≤ {allowed:.1})",
                self.refused(),
                100.0 * self.refused() as f64 / self.calls().max(1) as f64,
                100.0 * MAX_REFUSED_SHARE
            ));
        }
        for f in &self.providers {
            let bound = self.auth_bound(f);
            if f.auth_calls() as f64 > bound {
                v.push(format!(
                    "{}: {} auth calls ({} logins + {} refreshes) in {} lifetimes > {AUTH_CALLS_PER_LIFETIME} × {} + {} faulted token calls = {bound:.1}",
                    f.provider,
                    f.auth_calls(),
                    f.logins,
                    f.refreshes,
                    self.lifetimes(f),
                    self.lifetimes(f),
                    f.faulted_token_calls
                ));
            }
        }
        v
    }
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "soak: {:.1} s, {} callers, {} s tokens (bursagb default), {:.0} % faults per route, seed {}",
            self.elapsed.as_secs_f64(),
            c.callers,
            c.token_lifetime.as_secs_f64(),
            100.0 * c.fault_rate,
            c.seed
        )?;
        writeln!(
            f,
            "{:<12} {:>9} {:>8} {:>8} {:>7} {:>7} {:>9} {:>10} {:>9} {:>9} {:>10}",
            "provider",
            "calls",
            "failures",
            "401s",
            "logins",
            "refresh",
            "lifetimes",
            "auth/life",
            "tok.fault",
            "api.fault",
            "auth.bound"
        )?;
        for p in &self.providers {
            let lifetimes = self.lifetimes(p);
            writeln!(
                f,
                "{:<12} {:>9} {:>8} {:>8} {:>7} {:>7} {:>9} {:>10.2} {:>9} {:>9} {:>10.1}",
                p.provider.as_str(),
                p.calls,
                p.failures,
                p.refused,
                p.logins,
                p.refreshes,
                lifetimes,
                p.auth_calls() as f64 / lifetimes as f64,
                p.faulted_token_calls,
                p.faulted_api_calls,
                self.auth_bound(p)
            )?;
        }
        writeln!(
            f,
            "{:<12} {:>9} {:>8} {:>8}   refused {:.4} % of calls ({:.0} calls/s)",
            "total",
            self.calls(),
            self.failures(),
            self.refused(),
            100.0 * self.refused() as f64 / self.calls().max(1) as f64,
            self.calls() as f64 / self.elapsed.as_secs_f64().max(1e-3)
        )?;
        for s in &self.failure_samples {
            writeln!(f, "  failure: {s}")?;
        }
        Ok(())
    }
}

fn sandbox_config(lifetime: Duration) -> SandboxConfig {
    let mut cfg = SandboxConfig::default();
    for p in [
        Provider::Exirom,
        Provider::Institution,
        Provider::Pledg,
        Provider::Axept,
    ] {
        cfg.set_token_lifetime(p, lifetime);
    }
    cfg
}

#[derive(Default)]
struct Tally {
    calls: AtomicU64,
    failures: AtomicU64,
}

/// Runs a soak and reports what it measured (it asserts nothing).
pub async fn run(config: SoakConfig) -> SoakReport {
    let env = Env::start_with(sandbox_config(config.token_lifetime)).await;
    let providers: Vec<Provider> = support::providers().collect();
    for &p in &providers {
        for &r in p.routes() {
            let faults = if is_token_route(r) {
                token_faults()
            } else {
                api_faults()
            };
            env.sandbox
                .set_fault_mix(
                    p,
                    r,
                    FaultMix::new(config.fault_rate, faults).seed(config.seed),
                )
                .expect("valid fault mix");
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let tallies: Arc<Vec<Tally>> = Arc::new(providers.iter().map(|_| Tally::default()).collect());
    let samples = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let per_provider = config.callers.div_ceil(providers.len()).max(1);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut clients = Vec::new();
    for (i, &p) in providers.iter().enumerate() {
        // One client (one token cache) per provider, shared by its callers.
        let client = env.client_with(p, soak_retries());
        clients.push(client.clone());
        for _ in 0..per_provider {
            let (client, stop, tallies, samples) = (
                client.clone(),
                Arc::clone(&stop),
                Arc::clone(&tallies),
                Arc::clone(&samples),
            );
            tasks.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let out = client.call().await;
                    let t = &tallies[i];
                    t.calls.fetch_add(1, Ordering::Relaxed);
                    if !out.ok() {
                        t.failures.fetch_add(1, Ordering::Relaxed);
                        let mut s = samples.lock().unwrap_or_else(|e| e.into_inner());
                        if s.len() < 10 {
                            s.push(format!("{p}: {out:?}"));
                        }
                    }
                }
            });
        }
    }
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let calls: u64 = tallies
            .iter()
            .map(|t| t.calls.load(Ordering::Relaxed))
            .sum();
        let elapsed = started.elapsed();
        if (calls >= config.min_calls && elapsed >= config.min_duration)
            || elapsed >= config.max_duration
        {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    let counters = env.sandbox.counters();
    env.sandbox.clear_faults();
    let mut figures_of = Vec::new();
    for (i, client) in clients.iter().enumerate() {
        let lifetime = nominal_lifetime(client).await;
        figures_of.push(figures(&counters, client.provider(), lifetime, &tallies[i]));
    }
    let providers = figures_of;
    let failure_samples = samples.lock().unwrap_or_else(|e| e.into_inner()).clone();
    env.sandbox.clone().shutdown().await;
    SoakReport {
        config,
        elapsed,
        providers,
        failure_samples,
    }
}

/// The lifetime the sandbox gives the provider's tokens (`exp - iat` of
/// the client's current one; read after the run's counters).
async fn nominal_lifetime(client: &AnyClient) -> Duration {
    let token = client.bearer().await.expect("a token after the run");
    support::issued_lifetime(token.secret().expose())
        .expect("the sandbox issues JWTs with exp and iat")
}

fn figures(
    counters: &Counters,
    p: Provider,
    nominal_lifetime: Duration,
    tally: &Tally,
) -> ProviderFigures {
    let mut f = ProviderFigures {
        provider: p,
        nominal_lifetime,
        calls: tally.calls.load(Ordering::Relaxed),
        failures: tally.failures.load(Ordering::Relaxed),
        refused: 0,
        token_route_401: 0,
        logins: counters.logins(p),
        refreshes: counters.refreshes(p),
        faulted_token_calls: 0,
        faulted_api_calls: 0,
    };
    for &r in p.routes() {
        let c = counters.route(p, r);
        if is_token_route(r) {
            f.token_route_401 += c.unauthorized_401;
            f.faulted_token_calls += c.faults_served;
        } else {
            f.refused += c.unauthorized_401;
            f.faulted_api_calls += c.faults_served;
        }
    }
    f
}
