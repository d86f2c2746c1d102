//! A million principals: creating and looking up token caches through the
//! public builder, as a storefront server does per request.
//!
//! - `principals/create/N`: build a client for a *new* principal and read
//!   its (locally issued) token, with N principals already cached;
//! - `principals/lookup/N`: build a client for an *existing* principal and
//!   read its cached token (the client-per-request pattern).
//!
//! Time per operation should stay flat (within 1.5×) from 1k to 1M. Before
//! the criterion runs, the bench prints the memory per principal with a
//! cached token (counting allocator) and checks that eviction holds the
//! configured bound.
//!
//! `cargo bench -p payauth-runtime --bench principals`
//! (`PRINCIPALS_MAX=100000` to stop at 100k on a small machine).

use std::alloc::System;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use payauth_runtime::provider::{BoxFuture, Connect, Issued, Lead, Profile, Provider, TokenFlow};
use payauth_runtime::{Error, Sdk, Secret, Session, TokenCaches};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

/// Counts heap bytes (the `stats_alloc` crate: no unsafe code here).
#[global_allocator]
static ALLOC: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn live() -> isize {
    let s = ALLOC.stats();
    s.bytes_allocated as isize - s.bytes_deallocated as isize
}

/// A provider whose login is local: a realistic ~400-byte JWT, one hour.
#[derive(Debug)]
struct Bench;

struct Api;

struct Flow(String);

impl TokenFlow for Flow {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        Box::pin(async move { Ok(Issued::jwt(self.0.clone())) })
    }
}

fn jwt() -> String {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"sub":"customer-0000000000","iss":"https://api.example","aud":"storefront","scope":"orders:read orders:write","tenant":"tenant-0001","iat":{},"exp":{exp},"jti":"0123456789abcdef0123456789abcdef"}}"#,
        exp - 3600
    ));
    let sig = URL_SAFE_NO_PAD.encode([7u8; 32]);
    format!("{header}.{claims}.{sig}")
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl Provider for Bench {
    const PROFILE: Profile = Profile {
        name: "bench",
        refresh_lead: Lead::Fraction(0.2),
        assumed_lifetime: Duration::from_secs(3600),
        base_url_env: "BENCH_BASE_URL",
        sandbox_url: None,
        production_url: None,
    };
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    type Credentials = (String, Secret);
    type Client = Sdk<Api>;

    fn credentials_from_env(
        _: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self::Credentials, Error> {
        Err(Error::config("bench", "no env"))
    }

    fn connect(connect: Connect, (email, password): Self::Credentials) -> Result<Sdk<Api>, Error> {
        let principal = connect
            .principal()
            .part("email", email)
            .secret("password", &password);
        let login = connect.session();
        let token = TOKEN.with(Clone::clone);
        Ok(connect.sdk(
            |_, _, _: Session| Api,
            login,
            &principal,
            move |_| Flow(token),
        ))
    }
}

thread_local! {
    static TOKEN: String = jwt();
}

struct Harness {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Harness {
    fn client(&self, i: u64) -> Sdk<Api> {
        payauth_runtime::Builder::<Bench>::new()
            .base_url("https://api.example")
            .http_client(self.http.clone())
            .credentials((format!("customer-{i}@example.com"), Secret::new("pw")))
            .build()
            .expect("client")
    }

    /// Build a client for principal `i` and read its token.
    fn touch(&self, i: u64) {
        let c = self.client(i);
        let t = self.rt.block_on(c.bearer()).expect("token");
        black_box(t);
    }

    fn fill(&self, n: u64) {
        let caches = TokenCaches::global();
        caches.purge_unused();
        NEXT.store(0, Ordering::Relaxed);
        for i in 0..n {
            self.touch(i);
        }
        NEXT.store(n, Ordering::Relaxed);
    }
}

fn report_memory_and_bound(h: &Harness) {
    let caches = TokenCaches::global();
    caches.limits().set_max_principals(4_000_000);
    caches.purge_unused();
    let n = 20_000u64;
    let before = live();
    h.fill(n);
    let after = live();
    eprintln!(
        "memory per principal with a cached token: {} bytes ({} principals)",
        (after - before) / n as isize,
        caches.len()
    );
    caches.purge_unused();
    caches.limits().set_max_principals(10_000);
    let started = Instant::now();
    for i in 0..50_000 {
        h.touch(1_000_000_000 + i);
    }
    eprintln!(
        "bound 10,000 after creating 50,000: {} cached, {} evicted ({:?})",
        caches.len(),
        caches.evicted(),
        started.elapsed()
    );
    assert!(
        caches.len() <= 10_000 + 64 * 4,
        "bound holds: {}",
        caches.len()
    );
    caches.limits().set_max_principals(4_000_000);
    caches.purge_unused();
}

fn principals(c: &mut Criterion) {
    let h = Harness {
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        http: reqwest::Client::new(),
    };
    report_memory_and_bound(&h);
    let max: u64 = std::env::var("PRINCIPALS_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut group = c.benchmark_group("principals");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    for n in [1_000u64, 10_000, 100_000, 1_000_000]
        .into_iter()
        .filter(|n| *n <= max)
    {
        h.fill(n);
        group.bench_with_input(BenchmarkId::new("create", n), &n, |b, _| {
            b.iter(|| h.touch(NEXT.fetch_add(1, Ordering::Relaxed)))
        });
        let mut i = 0u64;
        group.bench_with_input(BenchmarkId::new("lookup", n), &n, |b, &n| {
            b.iter(|| {
                i = (i + 7919) % n;
                h.touch(i)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, principals);
criterion_main!(benches);
