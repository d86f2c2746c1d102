//! The cached-token read path of `TokenManager::token()` against two
//! baselines doing the same work:
//! - `arcswap_floor`: an `ArcSwapOption` `load_full()` plus one
//!   `Instant::now()` comparison — the least the runtime can do;
//! - `mutex`: the naive cache, `std::sync::Mutex<Option<Arc<..>>>` lock,
//!   the same `Instant::now()` comparison, clone.
//!
//! Two scenarios: one thread, and two threads reading the same cache at
//! once (time per read per thread).
//!
//! Instructions per read (callgrind, `--profile-time 2`, 2026-12-05), before
//! and after the hot-path rework: runtime 181 → see README; floor 123. The 58 above
//! the floor were `now_or_never`'s waker made and dropped per read (the
//! harness's, not the runtime's: an `.await` polls with its task's
//! context), the clock behind `Arc<dyn Clock>` (an indirect call, the
//! `dyn` data offset), and the future's poll and drop glue.
//!
//! `cargo bench -p payauth-runtime --bench token_read`

use std::hint::black_box;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwapOption;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use futures::FutureExt as _;
use payauth_runtime::provider::{BoxFuture, Issued, Lead, Profile, TokenFlow};
use payauth_runtime::{Error, Metrics, SystemClock, Token, TokenManager};

/// A login that always succeeds with a JWT expiring one hour from now.
#[derive(Debug)]
struct DummyFlow;

fn jwt_expiring_in(secs: u64) -> String {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
        + secs;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
    let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp}}}"#));
    let signature = URL_SAFE_NO_PAD.encode(b"not-a-real-signature");
    format!("{header}.{claims}.{signature}")
}

impl TokenFlow for DummyFlow {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        Box::pin(async { Ok(Issued::jwt(jwt_expiring_in(3600))) })
    }
}

fn profile() -> Profile {
    Profile {
        name: "bench",
        refresh_lead: Lead::Fraction(0.2),
        assumed_lifetime: Duration::from_secs(3600),
        base_url_env: "BENCH_BASE_URL",
        sandbox_url: None,
        production_url: None,
    }
}

/// A manager holding a cached token that is not due for refresh.
fn primed_manager() -> Arc<TokenManager> {
    let manager = TokenManager::new(
        profile(),
        Arc::new(DummyFlow),
        Arc::new(SystemClock),
        Arc::new(Metrics::default()),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let token = rt.block_on(manager.token()).expect("priming login");
    assert!(
        Instant::now() < token.refresh_at(),
        "primed token must not be due"
    );
    // The hot path must complete without awaiting.
    let again = manager
        .token()
        .now_or_never()
        .expect("cached read completed without awaiting")
        .expect("cached read");
    assert_eq!(
        again.id(),
        token.id(),
        "cached read returned the primed token"
    );
    manager
}

/// Token-like payload for the baselines: a value and a refresh instant.
#[derive(Debug)]
struct Cached {
    _value: String,
    refresh_at: Instant,
}

fn cached_payload() -> Arc<Cached> {
    Arc::new(Cached {
        _value: jwt_expiring_in(3600),
        refresh_at: Instant::now() + Duration::from_secs(2880),
    })
}

/// `manager.token()` polled once, as an `.await` in a task polls it: with
/// the task's context (here the standard library's static no-op waker —
/// `futures::FutureExt::now_or_never` would make and drop a waker per read,
/// which no `.await` does).
#[inline(always)]
fn read_runtime(manager: &Arc<TokenManager>) -> Arc<Token> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut read = std::pin::pin!(manager.token());
    match read.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(Ok(token)) => token,
        _ => unreachable!("cached read awaited or failed"),
    }
}

#[inline(always)]
fn read_floor(cache: &ArcSwapOption<Cached>) -> Option<Arc<Cached>> {
    let now = Instant::now();
    cache.load_full().filter(|t| now < t.refresh_at)
}

#[inline(always)]
fn read_mutex(cache: &Mutex<Option<Arc<Cached>>>) -> Option<Arc<Cached>> {
    let now = Instant::now();
    let guard = cache.lock().expect("not poisoned");
    guard.as_ref().filter(|t| now < t.refresh_at).cloned()
}

/// Runs `read` `iters` times on each of `threads` threads started together;
/// returns the longest per-thread wall time, i.e. time per read per thread
/// once divided by `iters`.
fn contended<S, R>(threads: usize, iters: u64, shared: &Arc<S>, read: fn(&S) -> R) -> Duration
where
    S: Send + Sync + 'static,
    R: 'static,
{
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let shared = Arc::clone(shared);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(read(black_box(&shared)));
                }
                start.elapsed()
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("bench thread"))
        .max()
        .unwrap_or_default()
}

fn bench_scenario(group: &mut BenchmarkGroup<'_, WallTime>, threads: usize) {
    let manager = Arc::new(primed_manager());
    let floor = Arc::new(ArcSwapOption::new(Some(cached_payload())));
    let mutex = Arc::new(Mutex::new(Some(cached_payload())));

    // Every variant returns a token before measuring.
    assert!(read_floor(&floor).is_some());
    assert!(read_mutex(&mutex).is_some());

    if threads == 1 {
        group.bench_function("runtime", |b| b.iter(|| black_box(read_runtime(&manager))));
        group.bench_function("arcswap_floor", |b| {
            b.iter(|| black_box(read_floor(&floor)))
        });
        group.bench_function("mutex", |b| b.iter(|| black_box(read_mutex(&mutex))));
    } else {
        group.bench_function("runtime", |b| {
            b.iter_custom(|iters| contended(threads, iters, &manager, read_runtime))
        });
        group.bench_function("arcswap_floor", |b| {
            b.iter_custom(|iters| contended(threads, iters, &floor, read_floor))
        });
        group.bench_function("mutex", |b| {
            b.iter_custom(|iters| contended(threads, iters, &mutex, read_mutex))
        });
    }
}

fn cached_read(c: &mut Criterion) {
    for (threads, name) in [(1, "cached_read/1_thread"), (2, "cached_read/2_threads")] {
        let mut group = c.benchmark_group(name);
        bench_scenario(&mut group, threads);
        group.finish();
    }
}

criterion_group!(benches, cached_read);
criterion_main!(benches);
