//! One process of a simulated fleet, for the Redis token-store tests: many
//! tasks calling the sandbox's protected endpoint through one SDK client
//! until the time is up, then a JSON report on stdout.
//!
//! ```text
//! fleet_worker --provider pledg --base-url URL --api-key K --api-secret S \
//!              --redis none|env|redis://… --duration-ms 20000 --concurrency 200
//! fleet_worker --provider institution --base-url URL --email E --password P \
//!              --merchant-id M --redis … --duration-ms … --concurrency …
//! ```
//!
//! `--pause-ms N` (optional): each task pauses 75–125 % of N ms (at
//! random) between two calls, its first call up to N ms late: calls
//! arrive spread out, as an application's do, not in bursts N ms apart —
//! which would refresh a token at the first burst after it is due rather
//! than when it is.
//! `--start-at-unix-ms T` (optional): wait until then (wall clock) before
//! the first call, so that a fleet's processes run over the same window.
//! `--margin-ms N` (optional): cap the expiry margin at N ms (the default
//! is `min(10 s, 15 % of the lifetime)`).
//!
//! `--redis none`: no shared store. `env`: the builder picks the store up
//! from `AUTH_RUNTIME_REDIS_URL` / `AUTH_RUNTIME_REDIS_KEYS` by itself (no
//! code). A URL (or comma-separated cluster seeds): an explicit `RedisStore`
//! (other settings from `AUTH_RUNTIME_REDIS_*`), whose counters go in the
//! report.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use payauth_runtime::redis_store::{ENV_URL, RedisStore, RedisStoreConfig};
use payauth_runtime::{ExpiryMargin, MetricsSnapshot, RetryPolicy, Sdk, Secret};
use serde_json::json;

fn main() {
    // Warnings (a store outage, a failed fetch) go to stderr, for the test log.
    // `FLEET_WORKER_DEBUG=1`: the runtime's debug lines too (each login,
    // each refresh), timestamped, for working out where logins come from.
    let level = if std::env::var_os("FLEET_WORKER_DEBUG").is_some() {
        tracing::Level::DEBUG
    } else {
        tracing::Level::WARN
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let args = parse_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let report = runtime.block_on(run(args));
    println!("{report}");
}

fn parse_args() -> HashMap<String, String> {
    let mut args = HashMap::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let Some(name) = flag.strip_prefix("--") else {
            panic!("unexpected argument `{flag}`");
        };
        let value = it
            .next()
            .unwrap_or_else(|| panic!("--{name} needs a value"));
        args.insert(name.to_string(), value);
    }
    args
}

fn arg<'a>(args: &'a HashMap<String, String>, name: &str) -> &'a str {
    args.get(name)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("missing --{name}"))
}

/// The store the worker hands to the builder, if any (and its counters).
fn store(args: &HashMap<String, String>) -> Option<Arc<RedisStore>> {
    match arg(args, "redis") {
        "none" | "env" => None,
        url => {
            // The other settings (keys, cluster, CA, naming key) from the
            // environment, as an application would.
            let get = |k: &str| match k {
                ENV_URL => Some(url.to_string()),
                _ => std::env::var(k).ok(),
            };
            let cfg = RedisStoreConfig::from_env_with(&get)
                .expect("valid Redis settings")
                .expect("a Redis URL");
            Some(Arc::new(RedisStore::new(cfg).expect("redis store")))
        }
    }
}

/// A client of either provider, reduced to what the loop needs.
enum Client {
    Pledg(pledg::Client),
    Institution(institution::Client),
}

impl Client {
    async fn call(&self) -> Result<(), String> {
        async fn go<A>(sdk: &Sdk<A>) -> Result<(), String> {
            let resp = sdk
                .send(sdk.request(reqwest::Method::GET, "/sandbox/protected"))
                .await
                .map_err(|e| format!("{:?}", e.kind()))?;
            let status = resp.status();
            let _ = resp.bytes().await;
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("HTTP {}", status.as_u16()))
            }
        }
        match self {
            Client::Pledg(c) => go(c).await,
            Client::Institution(c) => go(c).await,
        }
    }

    fn metrics(&self) -> MetricsSnapshot {
        match self {
            Client::Pledg(c) => c.metrics(),
            Client::Institution(c) => c.metrics(),
        }
    }
}

fn client(args: &HashMap<String, String>, store: Option<Arc<RedisStore>>) -> Client {
    let policy = RetryPolicy::default()
        .max_retries(3)
        .initial_backoff(Duration::from_millis(50));
    let base_url = arg(args, "base-url");
    let margin = args
        .get("margin-ms")
        .map_or_else(ExpiryMargin::default, |ms| ExpiryMargin {
            max: Duration::from_millis(ms.parse().expect("margin-ms")),
            ..ExpiryMargin::default()
        });
    match arg(args, "provider") {
        "pledg" => {
            let mut b = pledg::builder()
                .base_url(base_url)
                .expiry_margin(margin)
                .credentials(pledg::Credentials::new(
                    arg(args, "api-key").to_string(),
                    Secret::new(arg(args, "api-secret")),
                ))
                .retry_policy(policy);
            if let Some(s) = store {
                b = b.token_store(s);
            }
            Client::Pledg(b.build().expect("pledg client"))
        }
        "institution" => {
            let mut b = institution::builder()
                .base_url(base_url)
                .expiry_margin(margin)
                .credentials(institution::Credentials::login(
                    arg(args, "email").to_string(),
                    Secret::new(arg(args, "password")),
                    arg(args, "merchant-id").to_string(),
                ))
                .retry_policy(policy);
            if let Some(s) = store {
                b = b.token_store(s);
            }
            Client::Institution(b.build().expect("institution client"))
        }
        other => panic!("unknown provider `{other}`"),
    }
}

/// A small xorshift per task (no need for a crate): 0..1.
struct Spread(u64);

impl Spread {
    fn new(task: usize) -> Spread {
        let seed = (u64::from(std::process::id()) << 32) ^ (task as u64 + 1);
        Spread(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

async fn run(args: HashMap<String, String>) -> serde_json::Value {
    let duration = Duration::from_millis(arg(&args, "duration-ms").parse().expect("duration"));
    let concurrency: usize = arg(&args, "concurrency").parse().expect("concurrency");
    let pause = Duration::from_millis(
        args.get("pause-ms")
            .map_or(0, |p| p.parse().expect("pause-ms")),
    );
    let store = store(&args);
    let client = Arc::new(client(&args, store.clone()));
    if let Some(at) = args.get("start-at-unix-ms") {
        let at = UNIX_EPOCH + Duration::from_millis(at.parse().expect("start-at-unix-ms"));
        if let Ok(wait) = at.duration_since(SystemTime::now()) {
            tokio::time::sleep(wait).await;
        }
    }
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        let client = Arc::clone(&client);
        let start = pause.mul_f64(i as f64 / concurrency as f64);
        let mut rng = Spread::new(i);
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut errors) = (0u64, BTreeMap::<String, u64>::new());
            let mut slowest = Duration::ZERO;
            tokio::time::sleep(start).await;
            while Instant::now() < deadline {
                let started = Instant::now();
                match client.call().await {
                    Ok(()) => ok += 1,
                    Err(e) => *errors.entry(e).or_default() += 1,
                }
                slowest = slowest.max(started.elapsed());
                if !pause.is_zero() {
                    tokio::time::sleep(pause.mul_f64(0.75 + 0.5 * rng.next())).await;
                }
            }
            (ok, errors, slowest)
        }));
    }
    let (mut ok, mut errors, mut slowest) = (0u64, BTreeMap::<String, u64>::new(), Duration::ZERO);
    for t in tasks {
        let (o, e, s) = t.await.expect("task");
        ok += o;
        for (k, v) in e {
            *errors.entry(k).or_default() += v;
        }
        slowest = slowest.max(s);
    }
    let failed: u64 = errors.values().sum();
    let m = client.metrics();
    let stats = store.map(|s| {
        let st = s.stats();
        json!({
            "hits": st.hits,
            "waited": st.waited,
            "fetches_run": st.fetches_run,
            "fallbacks": st.fallbacks,
            "wait_timeouts": st.wait_timeouts,
            "redis_errors": st.redis_errors,
            "undecryptable": st.undecryptable,
            "stale_served": st.stale_served,
            "lost_locks": st.lost_locks,
            "published": st.published,
            "gave_up": st.gave_up,
        })
    });
    json!({
        "ok": ok,
        "failed": failed,
        "errors": errors,
        "slowest_ms": slowest.as_millis() as u64,
        "logins": m.logins,
        "refreshes": m.refreshes,
        "fetch_failures": m.fetch_failures,
        "reauthentications": m.reauthentications,
        "store": stats,
    })
}
