//! Fetches belong to the cache, not to the caller: detached single-flight
//! that no caller can cancel, panics that do not wedge the cache, bounded
//! fetch time, login backoff, and a 401 waiter never handed the token that
//! was just rejected.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::{PROFILE, Scripted, Step, clock, jwt, setup};
use payauth_runtime::provider::{BoxFuture, Issued, ManagerConfig, TokenFlow};
use payauth_runtime::{Clock, Error, ErrorKind, Metrics, Secret, TokenManager};

#[tokio::test(start_paused = true)]
async fn callers_that_give_up_do_not_cancel_the_fetch() {
    // 1,000 callers each give up after 50 ms; the login takes 300 ms.
    let mut flow = Scripted::new(clock(), Step::Token(600));
    flow.delay = Duration::from_millis(300);
    let (manager, flow, _) = setup(flow);
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let m = Arc::clone(&manager);
            tokio::spawn(
                async move { tokio::time::timeout(Duration::from_millis(50), m.token()).await },
            )
        })
        .collect();
    let mut timed_out = 0;
    for t in tasks {
        if t.await.unwrap().is_err() {
            timed_out += 1;
        }
    }
    assert_eq!(timed_out, 1000, "every caller gave up");
    // The fetch went on without them; later callers are served from it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    for _ in 0..100 {
        let t = tokio::time::timeout(Duration::from_millis(50), manager.token())
            .await
            .expect("served at once")
            .unwrap();
        assert_eq!(t.id(), manager.cached().unwrap().id());
    }
    assert_eq!(flow.logins.load(Ordering::SeqCst), 1, "exactly one login");
}

#[tokio::test(start_paused = true)]
async fn a_slow_login_under_short_caller_timeouts_still_serves() {
    // The issue's scenario: a 1.5 s login, callers wrapped in a 1 s timeout,
    // retrying for 4 s. Before: nobody served, one login per caller round.
    let mut flow = Scripted::new(clock(), Step::Token(600));
    flow.delay = Duration::from_millis(1500);
    let (manager, flow, _) = setup(flow);
    let served = Arc::new(AtomicU32::new(0));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let m = Arc::clone(&manager);
            let served = Arc::clone(&served);
            tokio::spawn(async move {
                let until = tokio::time::Instant::now() + Duration::from_secs(4);
                while tokio::time::Instant::now() < until {
                    if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(1), m.token()).await
                    {
                        served.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(served.load(Ordering::SeqCst), 20, "every caller served");
    assert_eq!(flow.logins.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_refresh_keeps_the_rotated_refresh_token() {
    #[derive(Debug, Default)]
    struct Rotating {
        logins: AtomicU32,
        refreshes: AtomicU32,
        presented: std::sync::Mutex<Vec<String>>,
    }
    impl Rotating {
        fn issue(&self, n: u32) -> Issued {
            let exp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 600;
            Issued {
                access_token: Secret::new(jwt(&format!(r#"{{"sub":"t{n}","exp":{exp}}}"#))),
                refresh_token: Some(Secret::new(format!("rt-{n}"))),
                hints: Default::default(),
            }
        }
    }
    impl TokenFlow for Rotating {
        fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
            Box::pin(
                async move { Ok(self.issue(100 + self.logins.fetch_add(1, Ordering::SeqCst))) },
            )
        }
        fn refresh<'a>(&'a self, rt: &'a Secret) -> Option<BoxFuture<'a, Result<Issued, Error>>> {
            Some(Box::pin(async move {
                self.presented.lock().unwrap().push(rt.expose().to_string());
                tokio::time::sleep(Duration::from_millis(200)).await;
                Ok(self.issue(self.refreshes.fetch_add(1, Ordering::SeqCst)))
            }))
        }
    }
    let clock = clock();
    let flow = Arc::new(Rotating::default());
    let m = TokenManager::new(
        PROFILE,
        Arc::clone(&flow) as Arc<dyn TokenFlow>,
        Arc::new(clock.clone()),
        Arc::new(Metrics::default()),
    );
    m.token().await.unwrap();
    for round in 0..3 {
        clock.advance(Duration::from_secs(700));
        // The caller gives up mid-refresh.
        assert!(
            tokio::time::timeout(Duration::from_millis(20), m.token())
                .await
                .is_err()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(m.token().await.is_ok(), "round {round}");
    }
    assert_eq!(
        flow.logins.load(Ordering::SeqCst),
        1,
        "never fell back to login"
    );
    assert_eq!(
        *flow.presented.lock().unwrap(),
        ["rt-100", "rt-0", "rt-1"],
        "each rotated refresh token presented once, in order"
    );
}

/// Panics on its first call, then behaves.
#[derive(Debug)]
struct PanicsOnce {
    inner: Scripted,
    calls: AtomicU32,
}

impl TokenFlow for PanicsOnce {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        Box::pin(async move {
            if self.calls.fetch_add(1, Ordering::SeqCst) == 1 {
                panic!("a buggy token flow");
            }
            self.inner.next()
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_panicking_flow_does_not_switch_proactive_refresh_off() {
    let clock = clock();
    let flow = Arc::new(PanicsOnce {
        inner: Scripted::new(clock.clone(), Step::Token(1000)),
        calls: AtomicU32::new(0),
    });
    // A small margin: the proactive refresh always starts before it.
    let m = TokenManager::with_config(
        PROFILE,
        common::small_margin(),
        Arc::clone(&flow) as Arc<dyn TokenFlow>,
        Arc::new(clock.clone()),
        Arc::new(Metrics::default()),
        None,
        String::new(),
    );
    let first = m.token().await.unwrap();
    // Proactive refresh #1 panics (call 2).
    clock.advance(first.refresh_at() - clock.now() + Duration::from_millis(1));
    m.token().await.unwrap();
    for _ in 0..100 {
        if flow.calls.load(Ordering::SeqCst) >= 2 && !m.is_fetching() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!m.is_fetching(), "the panicked flight was cleared");
    assert_eq!(
        m.cached().unwrap().id(),
        first.id(),
        "the valid token stays"
    );
    // After the cool-down (well inside the token's usable life) the next
    // proactive refresh runs and succeeds: the panic did not switch it off.
    let mut refreshed = false;
    for _ in 0..15 {
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            m.token().await.unwrap().id(),
            first.id(),
            "served meanwhile"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        if m.cached().unwrap().id() != first.id() {
            refreshed = true;
            break;
        }
    }
    assert!(refreshed, "proactive refresh ran again after the panic");
    assert!(flow.calls.load(Ordering::SeqCst) >= 3);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_flow_gives_waiters_an_error_and_the_next_caller_a_token() {
    let clock = clock();
    let flow = Arc::new(PanicsOnce {
        inner: Scripted::new(clock.clone(), Step::Token(100)),
        calls: AtomicU32::new(1),
    });
    let m = TokenManager::new(
        PROFILE,
        Arc::clone(&flow) as Arc<dyn TokenFlow>,
        Arc::new(clock.clone()),
        Arc::new(Metrics::default()),
    );
    let e = m.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transient);
    assert!(m.token().await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_hanging_login_is_bounded_by_the_fetch_timeout() {
    #[derive(Debug)]
    struct Hangs;
    impl TokenFlow for Hangs {
        fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
            Box::pin(futures::future::pending())
        }
    }
    let m = TokenManager::with_config(
        PROFILE,
        ManagerConfig {
            fetch_timeout: Duration::from_millis(200),
            ..ManagerConfig::default()
        },
        Arc::new(Hangs),
        Arc::new(clock()),
        Arc::new(Metrics::default()),
        None,
        String::new(),
    );
    let started = std::time::Instant::now();
    let e = m.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transient);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!m.is_fetching());
}

#[tokio::test(start_paused = true)]
async fn wrong_password_twenty_times_makes_at_most_three_logins_in_ten_seconds() {
    let (m, flow, clock) = setup(Scripted::new(
        clock(),
        Step::Fail(ErrorKind::InvalidCredentials),
    ));
    let mut waits = Vec::new();
    for _ in 0..20 {
        let e = m.token().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidCredentials);
        waits.push(e.retry_after());
        clock.advance(Duration::from_millis(500));
    }
    let logins = flow.logins.load(Ordering::SeqCst);
    assert!(logins <= 3, "{logins} login calls in 10 s");
    assert!(logins >= 2, "the backoff expires: {logins}");
    assert!(
        waits
            .iter()
            .all(|w| w.is_some_and(|w| w <= Duration::from_secs(300))),
        "every error says when the next attempt is allowed: {waits:?}"
    );
    // The cool-down grows: after 10 s the next login is 25 s away.
    clock.advance(Duration::from_secs(3));
    let _ = m.token().await;
    let after = flow.logins.load(Ordering::SeqCst);
    assert!(after <= 3, "{after}");
}

#[tokio::test(start_paused = true)]
async fn credentials_that_work_again_are_used_once_the_cool_down_ends() {
    let flow =
        Scripted::new(clock(), Step::Token(600)).then(Step::Fail(ErrorKind::InvalidCredentials));
    let (m, flow, clock) = setup(flow);
    assert!(m.token().await.unwrap_err().is_invalid_credentials());
    assert!(m.token().await.unwrap_err().retry_after().is_some());
    assert_eq!(flow.logins.load(Ordering::SeqCst), 1);
    clock.advance(Duration::from_millis(1001));
    assert!(m.token().await.is_ok());
    assert_eq!(flow.logins.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_token_rejected_as_soon_as_issued_is_no_login_loop() {
    let (m, flow, clock) = setup(Scripted::new(clock(), Step::Token(600)));
    let mut header = m.token().await.unwrap().header_value().clone();
    let mut errors = 0;
    for _ in 0..20 {
        match m.renew_after_unauthorized(&header).await {
            Ok(t) => header = t.header_value().clone(),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Unauthorized);
                assert!(e.retry_after().is_some());
                errors += 1;
            }
        }
        clock.advance(Duration::from_millis(200));
    }
    let logins = flow.logins.load(Ordering::SeqCst);
    assert!(logins <= 3, "{logins} logins for 20 rejections in 4 s");
    assert!(errors >= 15, "{errors}");
}

#[tokio::test(start_paused = true)]
async fn a_401_waiter_never_receives_the_rejected_token() {
    // A fetch already in flight when the 401 arrives returns the token
    // that is about to be rejected (a slow proactive refresh that read a
    // shared store, say). Waiters joining it must not get it back.
    #[derive(Debug)]
    struct Slow {
        calls: AtomicU32,
        token: std::sync::Mutex<Option<String>>,
    }
    impl TokenFlow for Slow {
        fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst);
                if n == 1 {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    // Hands back the first token again.
                    return Ok(Issued::jwt(self.token.lock().unwrap().clone().unwrap()));
                }
                let exp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
                    + 600;
                let t = jwt(&format!(r#"{{"n":{n},"exp":{exp}}}"#));
                self.token.lock().unwrap().get_or_insert(t.clone());
                Ok(Issued::jwt(t))
            })
        }
    }
    let clock = clock();
    let flow = Arc::new(Slow {
        calls: AtomicU32::new(0),
        token: Default::default(),
    });
    let m = TokenManager::new(
        PROFILE,
        Arc::clone(&flow) as Arc<dyn TokenFlow>,
        Arc::new(clock.clone()),
        Arc::new(Metrics::default()),
    );
    let first = m.token().await.unwrap();
    // The token expires: a fetch starts (and will return `first` again).
    clock.advance(first.usable_until() - clock.now() + Duration::from_millis(1));
    let m2 = Arc::clone(&m);
    let expired_caller = tokio::spawn(async move { m2.token().await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(m.is_fetching());
    // Meanwhile a request that used `first` comes back 401.
    let renewed = m
        .renew_after_unauthorized(first.header_value())
        .await
        .unwrap();
    assert_ne!(renewed.header_value(), first.header_value());
    assert_eq!(
        flow.calls.load(Ordering::SeqCst),
        3,
        "the waiter fetched anew"
    );
    let _ = expired_caller.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn no_cached_token_is_attached_inside_the_expiry_margin() {
    let (m, flow, clock) = setup(Scripted::new(clock(), Step::Token(100)));
    let first = m.token().await.unwrap();
    clock.advance(first.usable_until() - clock.now() + Duration::from_millis(1));
    let second = m.token().await.unwrap();
    assert_ne!(second.id(), first.id(), "inside the margin: a fresh token");
    assert_eq!(
        flow.logins.load(Ordering::SeqCst) + flow.refreshes.load(Ordering::SeqCst),
        2
    );
}
