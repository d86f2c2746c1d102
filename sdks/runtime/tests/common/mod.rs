//! A scripted token flow and a movable clock for the manager tests.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use payauth_runtime::provider::{BoxFuture, ExpiryHints, Issued, Lead, Profile, TokenFlow};
use payauth_runtime::{Clock, Error, ErrorKind, Metrics, OffsetClock, Secret, TokenManager};

pub const PROFILE: Profile = Profile {
    name: "test",
    refresh_lead: Lead::Fraction(0.15),
    assumed_lifetime: Duration::from_secs(30),
    base_url_env: "TEST_BASE_URL",
    sandbox_url: None,
    production_url: None,
};

pub fn jwt(claims: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64.encode(claims)
    )
}

/// What the scripted flow does on its next call.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// Issue a token living this many seconds (negative: already expired).
    Token(i64),
    /// A token without `exp`.
    NoExp,
    Fail(ErrorKind),
}

#[derive(Debug)]
pub struct Scripted {
    pub clock: OffsetClock,
    pub steps: Mutex<VecDeque<Step>>,
    pub default: Step,
    pub delay: Duration,
    pub logins: AtomicU32,
    pub refreshes: AtomicU32,
    pub refresh_result: Option<ErrorKind>,
    pub issued: Mutex<Vec<String>>,
}

impl Scripted {
    pub fn new(clock: OffsetClock, default: Step) -> Self {
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

    pub fn then(self, step: Step) -> Self {
        self.steps.lock().unwrap().push_back(step);
        self
    }

    pub fn next(&self) -> Result<Issued, Error> {
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

pub fn setup(flow: Scripted) -> (Arc<TokenManager>, Arc<Scripted>, OffsetClock) {
    setup_with(flow, payauth_runtime::provider::ManagerConfig::default())
}

/// A 1 s expiry margin: the proactive refresh (85–92.5 s of a 100 s token)
/// always starts before it.
pub fn small_margin() -> payauth_runtime::provider::ManagerConfig {
    payauth_runtime::provider::ManagerConfig {
        expiry_margin: payauth_runtime::ExpiryMargin {
            max: Duration::from_secs(1),
            fraction: 0.01,
        },
        ..Default::default()
    }
}

pub fn setup_with(
    flow: Scripted,
    config: payauth_runtime::provider::ManagerConfig,
) -> (Arc<TokenManager>, Arc<Scripted>, OffsetClock) {
    let clock = flow.clock.clone();
    let flow = Arc::new(flow);
    let manager = TokenManager::with_config(
        PROFILE,
        config,
        Arc::clone(&flow) as Arc<dyn TokenFlow>,
        Arc::new(clock.clone()),
        Arc::new(Metrics::default()),
        None,
        String::new(),
    );
    (manager, flow, clock)
}

pub fn clock() -> OffsetClock {
    OffsetClock::new(Arc::new(AtomicI64::new(0)))
}
