//! One principal, many Tokio runtimes: a flight whose owner vanishes at any
//! point (never polled, dropped mid-poll, runtime shut down) releases its
//! slot, and the next caller — on whatever runtime — starts a new one.
//!
//! Each test is one row of the lifecycle issue's table, plus the "100
//! sequential runtimes" schedule. They fail on a runtime whose flight guard
//! is created inside the spawned future (a task dropped before its first
//! poll never released the slot).

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Scripted, Step, clock, setup_with, small_margin};
use payauth_runtime::{Clock, TokenManager};
use tokio::runtime::{Builder, Runtime};

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A manager with a cached 100 s token and a clock just past its refresh
/// time (inside the refresh window: served, and a background refresh due).
fn in_refresh_window() -> (
    Arc<TokenManager>,
    Arc<Scripted>,
    payauth_runtime::OffsetClock,
) {
    let (manager, flow, clock) =
        setup_with(Scripted::new(clock(), Step::Token(100)), small_margin());
    let first = current_thread()
        .block_on(manager.token())
        .expect("first login");
    clock.advance(first.refresh_at() - clock.now() + Duration::from_millis(1));
    assert!(clock.now() < first.usable_until());
    (manager, flow, clock)
}

/// Row 1: runtime A (current-thread) serves the cached token and starts the
/// background refresh; A is dropped before the refresh ever runs. Runtime
/// B, clock past expiry, gets a token (and so does every later call).
#[test]
fn a_background_refresh_dropped_with_its_current_thread_runtime_is_started_again() {
    let (manager, flow, clock) = in_refresh_window();
    let a = current_thread();
    let served = a.block_on(manager.token()).expect("cached token served");
    assert!(manager.is_fetching(), "the background refresh started on A");
    drop(a);
    assert!(
        !manager.is_fetching(),
        "the dropped runtime's flight released its slot"
    );
    clock.advance(Duration::from_secs(200));
    let b = current_thread();
    for _ in 0..3 {
        let t = b.block_on(manager.token()).expect("runtime B gets a token");
        assert_ne!(t.id(), served.id());
        assert!(clock.now() < t.usable_until());
    }
    assert!(flow.logins.load(Ordering::SeqCst) + flow.refreshes.load(Ordering::SeqCst) >= 2);
}

/// Row 2: the same with a multi-thread A shut down in the background right
/// after; ten principals, none wedged.
#[test]
fn background_refreshes_of_a_runtime_shut_down_in_the_background_are_started_again() {
    let principals: Vec<_> = (0..10).map(|_| in_refresh_window()).collect();
    let a = multi_thread();
    for (manager, _, _) in &principals {
        a.block_on(manager.token()).expect("cached token served");
    }
    a.shutdown_background();
    let b = current_thread();
    let mut wedged = 0;
    for (manager, _, clock) in &principals {
        clock.advance(Duration::from_secs(200));
        match b.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), manager.token()).await
        }) {
            Ok(Ok(t)) => assert!(clock.now() < t.usable_until()),
            Ok(Err(e)) => {
                eprintln!("wedged: {e}");
                wedged += 1;
            }
            Err(_) => {
                eprintln!("wedged: no answer");
                wedged += 1;
            }
        }
    }
    assert_eq!(wedged, 0, "principals wedged by another runtime's shutdown");
}

/// Row 3: a cold `token()` polled once on a current-thread A (the fetch
/// spawned, never run), A dropped; B gets a token.
#[test]
fn a_cold_fetch_polled_once_then_dropped_with_its_runtime_is_started_again() {
    let (manager, flow, _) = setup_with(Scripted::new(clock(), Step::Token(100)), small_margin());
    let a = current_thread();
    a.block_on(async {
        let mut fut = std::pin::pin!(manager.token());
        assert!(futures::poll!(fut.as_mut()).is_pending());
    });
    drop(a);
    assert!(!manager.is_fetching());
    let b = current_thread();
    b.block_on(manager.token()).expect("runtime B gets a token");
    assert_eq!(flow.logins.load(Ordering::SeqCst), 1, "only B's flight ran");
}

/// Row 4: a cold fetch spawned on a multi-thread A, A shut down while the
/// login is in flight; B gets a token.
#[test]
fn a_fetch_in_flight_when_its_runtime_shuts_down_is_started_again() {
    let mut flow = Scripted::new(clock(), Step::Token(100));
    flow.delay = Duration::from_millis(200);
    let (manager, flow, _) = setup_with(flow, small_margin());
    let a = multi_thread();
    let m = Arc::clone(&manager);
    a.spawn(async move { m.token().await });
    while flow.logins.load(Ordering::SeqCst) == 0 {
        std::thread::yield_now();
    }
    a.shutdown_background();
    let b = current_thread();
    b.block_on(manager.token()).expect("runtime B gets a token");
}

/// A caller whose runtime is gone never sees "cancelled (runtime shut
/// down)" from another runtime's flight; waiters that joined a flight of a
/// runtime that is then dropped start a new one themselves.
#[test]
fn a_waiter_on_another_runtime_survives_the_flights_runtime() {
    let mut flow = Scripted::new(clock(), Step::Token(100));
    flow.delay = Duration::from_millis(300);
    let (manager, _, _) = setup_with(flow, small_margin());
    let a = multi_thread();
    let m = Arc::clone(&manager);
    a.spawn(async move { m.token().await });
    while !manager.is_fetching() {
        std::thread::yield_now();
    }
    let m = Arc::clone(&manager);
    let waiter = std::thread::spawn(move || current_thread().block_on(m.token()));
    std::thread::sleep(Duration::from_millis(50));
    a.shutdown_background();
    let got = waiter.join().expect("waiter thread");
    assert!(got.is_ok(), "{:?}", got.err().map(|e| e.to_string()));
}

/// 100 sequential current-thread runtimes (a `#[tokio::test]` suite, a sync
/// wrapper) on one principal, the clock moving through ten lifetimes: no
/// error, and no more logins than lifetimes plus one.
#[test]
fn a_hundred_sequential_runtimes_through_ten_lifetimes() {
    let (manager, flow, clock) =
        setup_with(Scripted::new(clock(), Step::Token(100)), small_margin());
    let mut errors = 0;
    for _ in 0..100 {
        let rt = current_thread();
        if rt.block_on(manager.token()).is_err() {
            errors += 1;
        }
        drop(rt);
        clock.advance(Duration::from_secs(10));
    }
    let fetches = flow.logins.load(Ordering::SeqCst) + flow.refreshes.load(Ordering::SeqCst);
    assert_eq!(errors, 0);
    assert!(fetches <= 11, "{fetches} fetches for 10 lifetimes");
}

/// A flight on another current-thread runtime that is alive but idle (a
/// sync wrapper that keeps its runtime between calls) is never driven: a
/// waiter on another runtime gives up on it at the flight's deadline — the
/// fetch timeout plus `FLIGHT_GRACE`, on the injected timer — and fetches
/// itself. Simulated time: no real wait.
#[test]
fn a_flight_on_an_idle_runtime_is_given_up_at_its_deadline() {
    use payauth_runtime::provider::{ManagerConfig, TokenFlow, TokenSource};
    use payauth_runtime::{Metrics, SimulatedTime};
    let time = SimulatedTime::new();
    let flow = Arc::new(Scripted::new(clock(), Step::Token(600)));
    let fetch_timeout = Duration::from_secs(20);
    let manager = TokenManager::with_config(
        common::PROFILE,
        ManagerConfig {
            fetch_timeout,
            ..ManagerConfig::default()
        },
        Arc::clone(&flow) as Arc<dyn TokenFlow>,
        Arc::new(time.clone()),
        Arc::new(Metrics::default()),
        None,
        String::new(),
    );
    let source = Arc::new(
        TokenSource::new(Arc::clone(&flow) as Arc<dyn TokenFlow>)
            .with_fetch_timeout(fetch_timeout)
            .with_sleep(Arc::new(time.clone())),
    );
    // Runtime A starts the flight and is never driven again.
    let a = current_thread();
    a.block_on(async {
        let mut fut = std::pin::pin!(manager.token_from(&source));
        assert!(futures::poll!(fut.as_mut()).is_pending());
    });
    assert!(manager.is_fetching());
    let (m, s) = (Arc::clone(&manager), Arc::clone(&source));
    let waiter = std::thread::spawn(move || current_thread().block_on(m.token_from(&s)));
    while time.sleepers() == 0 {
        std::thread::yield_now();
    }
    assert_eq!(
        time.next_wake(),
        Some(fetch_timeout + payauth_runtime::provider::FLIGHT_GRACE),
        "the waiter waits for the flight's deadline"
    );
    time.advance(fetch_timeout + payauth_runtime::provider::FLIGHT_GRACE);
    let token = waiter.join().expect("waiter").expect("a token after all");
    assert_eq!(flow.logins.load(Ordering::SeqCst), 1, "only B's flight ran");
    assert_eq!(manager.cached().map(|t| t.id()), Some(token.id()));
    drop(a);
}
