//! The token cache on its own, with a scripted token flow and a movable
//! clock: single-flight, proactive refresh, failure policy, invalidation.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{PROFILE, Scripted, Step, clock, setup, setup_with, small_margin};
use payauth_runtime::provider::{BoxFuture, ExpirySource, Issued, TokenFlow};
use payauth_runtime::{Error, ErrorKind, Metrics, TokenManager};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_cause_one_login() {
    let mut flow = Scripted::new(clock(), Step::Token(600));
    flow.delay = Duration::from_millis(50);
    let (manager, flow, _) = setup(flow);
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let m = Arc::clone(&manager);
            tokio::spawn(async move { m.token().await.map(|t| t.id()) })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().unwrap());
    }
    assert_eq!(flow.logins.load(Ordering::SeqCst), 1);
    assert_eq!(ids.len(), 1, "every caller got the same token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_callers_at_expiry_cause_one_fetch() {
    let mut flow = Scripted::new(clock(), Step::Token(100));
    flow.delay = Duration::from_millis(20);
    let (manager, flow, clock) = setup(flow);
    manager.token().await.unwrap();
    clock.advance(Duration::from_secs(101));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let m = Arc::clone(&manager);
            tokio::spawn(async move { m.token().await.map(|t| t.id()) })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // One login at start, one refresh-token exchange at expiry.
    assert_eq!(flow.logins.load(Ordering::SeqCst), 1);
    assert_eq!(flow.refreshes.load(Ordering::SeqCst), 1);
}

/// Advance `clock` to just past `token`'s refresh time.
fn to_refresh_time(clock: &payauth_runtime::OffsetClock, token: &payauth_runtime::Token) {
    use payauth_runtime::Clock;
    clock.advance(token.refresh_at() - clock.now() + Duration::from_millis(1));
}

#[tokio::test(start_paused = true)]
async fn proactive_refresh_in_background_keeps_serving_the_current_token() {
    // The default margin (10 s here) is the floor of the lead.
    let (manager, _, _) = setup(Scripted::new(clock(), Step::Token(100)));
    let t = manager.token().await.unwrap();
    let margin = t.deadline() - t.usable_until();
    assert!(
        margin <= Duration::from_secs(10) && margin >= Duration::from_millis(9_800),
        "{margin:?}"
    );
    assert!(t.refresh_at() <= t.usable_until());

    let (manager, flow, clock) =
        setup_with(Scripted::new(clock(), Step::Token(100)), small_margin());
    let first = manager.token().await.unwrap();
    assert_eq!(first.expiry_source(), ExpirySource::JwtExp);
    // Lead is 15 % of 100 s, jitter takes up to half off: due between
    // 85 s and 92.5 s.
    let due = first.refresh_at()
        - first
            .deadline()
            .checked_sub(Duration::from_secs(100))
            .unwrap();
    assert!(
        due >= Duration::from_secs(84) && due <= Duration::from_millis(92_500),
        "{due:?}"
    );
    clock.advance(Duration::from_secs(50));
    assert_eq!(manager.token().await.unwrap().id(), first.id());
    assert_eq!(flow.refreshes.load(Ordering::SeqCst), 0, "not due yet");
    to_refresh_time(&clock, &first);
    let during = manager.token().await.unwrap();
    assert_eq!(
        during.id(),
        first.id(),
        "the caller is not blocked by the refresh"
    );
    for _ in 0..100 {
        if manager.cached().unwrap().id() != first.id() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let second = manager.token().await.unwrap();
    assert_ne!(second.id(), first.id(), "refreshed before expiry");
    assert_eq!(
        flow.refreshes.load(Ordering::SeqCst) + flow.logins.load(Ordering::SeqCst),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn failed_background_refresh_keeps_the_valid_token_and_cools_down() {
    let flow = Scripted::new(clock(), Step::Fail(ErrorKind::Transient)).then(Step::Token(100));
    let (manager, flow, clock) = setup_with(flow, small_margin());
    let first = manager.token().await.unwrap();
    to_refresh_time(&clock, &first);
    for _ in 0..50 {
        assert_eq!(manager.token().await.unwrap().id(), first.id());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let attempts = flow.logins.load(Ordering::SeqCst) + flow.refreshes.load(Ordering::SeqCst);
    assert_eq!(attempts, 2, "one failed refresh, then the cool-down holds");
    // After the cool-down a new attempt is made (and fails again): still
    // served while the token is inside its usable life.
    clock.advance(payauth_runtime::provider::REFRESH_COOL_DOWN);
    if clock_now_before(&clock, first.usable_until()) {
        manager.token().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let attempts = flow.logins.load(Ordering::SeqCst) + flow.refreshes.load(Ordering::SeqCst);
        assert!(attempts >= 3, "retried after the cool-down");
        assert_eq!(manager.cached().unwrap().id(), first.id());
    }
}

fn clock_now_before(clock: &payauth_runtime::OffsetClock, t: std::time::Instant) -> bool {
    use payauth_runtime::Clock;
    clock.now() < t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failure_surfaces_typed_and_once_for_all_waiters() {
    let mut flow = Scripted::new(clock(), Step::Fail(ErrorKind::InvalidCredentials));
    flow.delay = Duration::from_millis(30);
    let (manager, flow, _) = setup(flow);
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let m = Arc::clone(&manager);
            tokio::spawn(async move { m.token().await })
        })
        .collect();
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidCredentials);
    }
    assert_eq!(flow.logins.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn unauthorized_invalidates_only_the_rejected_token() {
    let (manager, flow, _) = setup(Scripted::new(clock(), Step::Token(600)));
    let a = manager.token().await.unwrap();
    let b = manager
        .renew_after_unauthorized(a.header_value())
        .await
        .unwrap();
    assert_ne!(a.id(), b.id());
    // A late 401 for a request that used `a` must not throw `b` away.
    let c = manager
        .renew_after_unauthorized(a.header_value())
        .await
        .unwrap();
    assert_eq!(b.id(), c.id());
    assert_eq!(
        flow.logins.load(Ordering::SeqCst) + flow.refreshes.load(Ordering::SeqCst),
        2
    );
    assert_eq!(manager.metrics().snapshot().invalidations, 1);
}

#[tokio::test(start_paused = true)]
async fn expired_refresh_token_falls_back_to_login() {
    let mut flow = Scripted::new(clock(), Step::Token(100));
    flow.refresh_result = Some(ErrorKind::RefreshTokenExpired);
    let (manager, flow, clock) = setup(flow);
    manager.token().await.unwrap();
    clock.advance(Duration::from_secs(200));
    manager.token().await.unwrap();
    assert_eq!(flow.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(flow.logins.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn transient_refresh_failure_keeps_the_refresh_token_while_the_token_lives() {
    let mut flow = Scripted::new(clock(), Step::Token(100));
    flow.refresh_result = Some(ErrorKind::Transient);
    let (manager, flow, clock) = setup_with(flow, small_margin());
    let first = manager.token().await.unwrap();
    // Proactive refresh fails transiently: no login, the token keeps serving.
    to_refresh_time(&clock, &first);
    manager.token().await.unwrap();
    for _ in 0..100 {
        if flow.refreshes.load(Ordering::SeqCst) == 1 && !manager.is_fetching() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(flow.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(
        flow.logins.load(Ordering::SeqCst),
        1,
        "no login while the token lives"
    );
    // Once the token has expired, a transient refresh failure falls back
    // to a login (the refresh token was kept: it is tried first).
    clock.advance(Duration::from_secs(200));
    manager.token().await.unwrap();
    assert_eq!(
        flow.refreshes.load(Ordering::SeqCst),
        2,
        "kept and tried again"
    );
    assert_eq!(flow.logins.load(Ordering::SeqCst), 2, "then a login");
}

#[tokio::test(start_paused = true)]
async fn any_non_transient_refresh_failure_falls_back_to_login() {
    for kind in [
        ErrorKind::MalformedResponse,
        ErrorKind::Forbidden,
        ErrorKind::BadRequest,
    ] {
        let mut flow = Scripted::new(clock(), Step::Token(100));
        flow.refresh_result = Some(kind);
        let (manager, flow, clock) = setup(flow);
        manager.token().await.unwrap();
        clock.advance(Duration::from_secs(200));
        manager.token().await.unwrap();
        assert_eq!(flow.refreshes.load(Ordering::SeqCst), 1, "{kind:?}");
        assert_eq!(flow.logins.load(Ordering::SeqCst), 2, "{kind:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn expired_on_arrival_is_used_briefly_never_a_refresh_loop() {
    let (manager, flow, clock) = setup(Scripted::new(clock(), Step::Token(-60)));
    for _ in 0..500 {
        manager.token().await.unwrap();
    }
    assert_eq!(flow.logins.load(Ordering::SeqCst), 1);
    clock.advance(payauth_runtime::provider::MIN_TOKEN_LIFETIME + Duration::from_millis(1));
    for _ in 0..500 {
        manager.token().await.unwrap();
    }
    assert_eq!(
        flow.logins.load(Ordering::SeqCst) + flow.refreshes.load(Ordering::SeqCst),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn token_without_expiry_gets_the_assumed_lifetime() {
    let (manager, _, _) = setup(Scripted::new(clock(), Step::NoExp));
    let t = manager.token().await.unwrap();
    assert_eq!(t.expiry_source(), ExpirySource::Assumed);
    let lifetime = t.deadline() - t.refresh_at();
    assert!(lifetime <= PROFILE.assumed_lifetime, "{lifetime:?}");
}

#[tokio::test(start_paused = true)]
async fn empty_token_is_a_malformed_response() {
    #[derive(Debug)]
    struct Empty;
    impl TokenFlow for Empty {
        fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
            Box::pin(async { Ok(Issued::jwt("")) })
        }
    }
    let m = TokenManager::new(
        PROFILE,
        Arc::new(Empty),
        Arc::new(clock()),
        Arc::new(Metrics::default()),
    );
    assert!(m.token().await.unwrap_err().is_malformed_response());
}

#[tokio::test(start_paused = true)]
async fn nothing_prints_a_token() {
    let (manager, flow, _) = setup(Scripted::new(clock(), Step::Token(600)));
    let token = manager.token().await.unwrap();
    let raw = flow.issued.lock().unwrap()[0].clone();
    for printed in [
        format!("{token:?}"),
        format!("{manager:?}"),
        format!("{:?}", token.secret()),
        format!("{:?}", token.header_value()),
    ] {
        assert!(!printed.contains(&raw), "leaked in {printed}");
    }
}
