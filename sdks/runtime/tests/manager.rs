//! The token cache on its own, with a scripted token flow and a movable
//! clock: single-flight, proactive refresh, failure policy, invalidation.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use auth_runtime::{
    BoxFuture, Clock, Error, ErrorKind, ExpiryHints, ExpirySource, Issued, Lead, Metrics,
    OffsetClock, Profile, Secret, TokenFlow, TokenManager,
};
use base64::Engine;

const PROFILE: Profile = Profile {
    name: "test",
    refresh_lead: Lead::Fraction(0.2),
    assumed_lifetime: Duration::from_secs(30),
    base_url_env: "TEST_BASE_URL",
    sandbox_url: None,
    production_url: None,
};

fn jwt(claims: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64.encode(claims)
    )
}

/// What the scripted flow does on its next call.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Issue a token living this many seconds (negative: already expired).
    Token(i64),
    /// A token without `exp`.
    NoExp,
    Fail(ErrorKind),
}

#[derive(Debug)]
struct Scripted {
    clock: OffsetClock,
    steps: Mutex<VecDeque<Step>>,
    default: Step,
    delay: Duration,
    logins: AtomicU32,
    refreshes: AtomicU32,
    refresh_result: Option<ErrorKind>,
    issued: Mutex<Vec<String>>,
}

impl Scripted {
    fn new(clock: OffsetClock, default: Step) -> Self {
        Scripted {
            clock,
            steps: Mutex::new(VecDeque::new()),
            default,
            delay: Duration::ZERO,
            logins: AtomicU32::new(0),
            refreshes: AtomicU32::new(0),
            refresh_result: None,
            issued: Mutex::new(Vec::new()),
        }
    }

    fn then(self, step: Step) -> Self {
        self.steps.lock().unwrap().push_back(step);
        self
    }

    fn next(&self) -> Result<Issued, Error> {
        let step = self
            .steps
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(self.default);
        let now = self
            .clock
            .wall()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let n = self.issued.lock().unwrap().len();
        let token = match step {
            Step::Token(secs) => jwt(&format!(r#"{{"sub":"t{n}","exp":{}}}"#, now + secs)),
            Step::NoExp => jwt(&format!(r#"{{"sub":"t{n}"}}"#)),
            Step::Fail(kind) => return Err(Error::new(kind, "test", "scripted failure")),
        };
        self.issued.lock().unwrap().push(token.clone());
        Ok(Issued {
            access_token: Secret::new(token),
            refresh_token: Some(Secret::new(format!("refresh-{n}"))),
            hints: ExpiryHints::default(),
        })
    }
}

impl TokenFlow for Scripted {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        Box::pin(async move {
            self.logins.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            self.next()
        })
    }

    fn refresh<'a>(&'a self, _rt: &'a Secret) -> Option<BoxFuture<'a, Result<Issued, Error>>> {
        let outcome = self.refresh_result;
        Some(Box::pin(async move {
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            match outcome {
                Some(kind) => Err(Error::new(kind, "test", "scripted refresh failure")),
                None => self.next(),
            }
        }))
    }
}

fn setup(flow: Scripted) -> (Arc<TokenManager>, Arc<Scripted>, OffsetClock) {
    let clock = flow.clock.clone();
    let flow = Arc::new(flow);
    let manager = TokenManager::new(
        PROFILE,
        Arc::clone(&flow) as Arc<dyn TokenFlow>,
        Arc::new(clock.clone()),
        Arc::new(Metrics::default()),
    );
    (manager, flow, clock)
}

fn clock() -> OffsetClock {
    OffsetClock::new(Arc::new(AtomicI64::new(0)))
}

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

#[tokio::test]
async fn proactive_refresh_in_background_keeps_serving_the_current_token() {
    let (manager, flow, clock) = setup(Scripted::new(clock(), Step::Token(100)));
    let first = manager.token().await.unwrap();
    assert_eq!(first.expiry_source(), ExpirySource::JwtExp);
    // Lead is 20 % (+ up to 50 % jitter) of 100 s: due between 70 s and 80 s.
    clock.advance(Duration::from_secs(50));
    assert_eq!(manager.token().await.unwrap().id(), first.id());
    assert_eq!(flow.refreshes.load(Ordering::SeqCst), 0, "not due yet");
    clock.advance(Duration::from_secs(35));
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

#[tokio::test]
async fn failed_background_refresh_keeps_the_valid_token_and_cools_down() {
    let flow = Scripted::new(clock(), Step::Fail(ErrorKind::Transient)).then(Step::Token(100));
    let (manager, flow, clock) = setup(flow);
    let first = manager.token().await.unwrap();
    clock.advance(Duration::from_secs(85));
    for _ in 0..50 {
        assert_eq!(manager.token().await.unwrap().id(), first.id());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let attempts = flow.logins.load(Ordering::SeqCst) + flow.refreshes.load(Ordering::SeqCst);
    assert_eq!(attempts, 2, "one failed refresh, then the cool-down holds");
    // After the cool-down a new attempt is made (and fails again): still served.
    clock.advance(auth_runtime::REFRESH_COOL_DOWN);
    manager.token().await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let attempts = flow.logins.load(Ordering::SeqCst) + flow.refreshes.load(Ordering::SeqCst);
    assert!(attempts >= 3, "retried after the cool-down");
    assert_eq!(manager.token().await.unwrap().id(), first.id());
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

#[tokio::test]
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

#[tokio::test]
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

#[tokio::test]
async fn transient_refresh_failure_keeps_the_refresh_token() {
    let mut flow = Scripted::new(clock(), Step::Token(100));
    flow.refresh_result = Some(ErrorKind::Transient);
    let (manager, flow, clock) = setup(flow);
    manager.token().await.unwrap();
    clock.advance(Duration::from_secs(200));
    let err = manager.token().await.unwrap_err();
    assert!(err.is_transient());
    assert_eq!(
        flow.logins.load(Ordering::SeqCst),
        1,
        "no login on a transient refresh failure"
    );
}

#[tokio::test]
async fn expired_on_arrival_is_used_briefly_never_a_refresh_loop() {
    let (manager, flow, clock) = setup(Scripted::new(clock(), Step::Token(-60)));
    for _ in 0..500 {
        manager.token().await.unwrap();
    }
    assert_eq!(flow.logins.load(Ordering::SeqCst), 1);
    clock.advance(auth_runtime::MIN_TOKEN_LIFETIME + Duration::from_millis(1));
    for _ in 0..500 {
        manager.token().await.unwrap();
    }
    assert_eq!(
        flow.logins.load(Ordering::SeqCst) + flow.refreshes.load(Ordering::SeqCst),
        2
    );
}

#[tokio::test]
async fn token_without_expiry_gets_the_assumed_lifetime() {
    let (manager, _, _) = setup(Scripted::new(clock(), Step::NoExp));
    let t = manager.token().await.unwrap();
    assert_eq!(t.expiry_source(), ExpirySource::Assumed);
    let lifetime = t.deadline() - t.refresh_at();
    assert!(lifetime <= PROFILE.assumed_lifetime, "{lifetime:?}");
}

#[tokio::test]
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

#[tokio::test]
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
