//! A seeded simulation of one principal's cache: random schedules of
//! runtimes made and dropped (current-thread, multi-thread shut down in the
//! background), callers cancelled at any poll or left behind in a dropped
//! runtime, clock jumps, token-endpoint faults (refusals, transient
//! failures, malformed answers, hangs) and 401s — on simulated time, so a
//! schedule of hours runs in microseconds. After every step:
//!
//! - at most one fetch runs (the flow counts the logins and refreshes in
//!   progress at once);
//! - no caller is wedged (every awaited call ends);
//! - no token is served past its expiry margin;
//! - a token the provider refused with 401 is never served again.
//!
//! `SIMULATION_CASES` sets the number of schedules (default 1,000).

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use payauth_runtime::provider::{
    BoxFuture, ExpiryHints, Issued, Lead, ManagerConfig, Profile, TokenFlow, TokenSource,
};
use payauth_runtime::{
    Clock, Error, ErrorKind, Metrics, Secret, SimulatedTime, Sleep, TokenManager,
};
use proptest::prelude::*;
use tokio::runtime::Runtime;

const PROFILE: Profile = Profile {
    name: "sim",
    refresh_lead: Lead::Fraction(0.15),
    assumed_lifetime: Duration::from_secs(60),
    base_url_env: "SIM_BASE_URL",
    sandbox_url: None,
    production_url: None,
};

const FETCH_TIMEOUT: Duration = Duration::from_secs(20);

/// What the token endpoint does next.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// A token living this many seconds.
    Token(u64),
    Fail(ErrorKind),
    /// A token that cannot form a header (malformed).
    Malformed,
    /// No answer for 1,000 s (the fetch timeout ends it).
    Hang,
}

/// A token endpoint on simulated time that counts fetches in progress.
struct SimFlow {
    time: SimulatedTime,
    script: Mutex<VecDeque<Answer>>,
    issued: AtomicU32,
    running: AtomicUsize,
    /// Of `running`, those waiting in a hang (on simulated time).
    hanging: AtomicUsize,
    most_at_once: AtomicUsize,
}

/// Counts one fetch in progress until dropped (finished or cancelled).
struct Running<'a>(&'a SimFlow);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Hanging<'a>(&'a SimFlow);

impl Drop for Hanging<'_> {
    fn drop(&mut self) {
        self.0.hanging.fetch_sub(1, Ordering::SeqCst);
    }
}

impl SimFlow {
    fn answer(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        Box::pin(async move {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_at_once.fetch_max(now, Ordering::SeqCst);
            let _running = Running(self);
            // A network round trip: yield once.
            tokio::task::yield_now().await;
            let next = self
                .script
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Answer::Token(600));
            let n = self.issued.fetch_add(1, Ordering::SeqCst);
            match next {
                Answer::Token(secs) => Ok(Issued {
                    access_token: Secret::new(format!("tok-{n}")),
                    refresh_token: Some(Secret::new(format!("rt-{n}"))),
                    hints: ExpiryHints {
                        relative: Some(Duration::from_secs(secs)),
                        ..ExpiryHints::default()
                    },
                }),
                Answer::Fail(kind) => Err(Error::new(kind, "sim", "scripted failure")),
                Answer::Malformed => Ok(Issued::jwt("bad\ntoken")),
                Answer::Hang => {
                    self.hanging.fetch_add(1, Ordering::SeqCst);
                    let _hanging = Hanging(self);
                    self.time.sleep(Duration::from_secs(1000)).await;
                    Err(Error::new(ErrorKind::Transient, "sim", "hung"))
                }
            }
        })
    }
}

impl TokenFlow for SimFlow {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        self.answer()
    }
    fn refresh<'a>(&'a self, _rt: &'a Secret) -> Option<BoxFuture<'a, Result<Issued, Error>>> {
        Some(self.answer())
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// Replace the runtime (the old one dropped, or shut down in the
    /// background when multi-thread).
    NewRuntime { multi_thread: bool },
    /// A caller awaits a token to the end.
    Call,
    /// A caller polled this many times, then dropped.
    Cancelled { polls: u8 },
    /// A caller spawned on the runtime and never awaited.
    Detached,
    /// The clock jumps.
    Advance { secs: u64 },
    /// The endpoint's next answer.
    Script(Answer),
    /// The provider refuses the current token with 401; the caller renews.
    Unauthorized,
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        (1u64..900).prop_map(Answer::Token),
        Just(Answer::Fail(ErrorKind::Transient)),
        Just(Answer::Fail(ErrorKind::InvalidCredentials)),
        Just(Answer::Fail(ErrorKind::MalformedResponse)),
        Just(Answer::Malformed),
        Just(Answer::Hang),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => any::<bool>().prop_map(|multi_thread| Step::NewRuntime { multi_thread }),
        4 => Just(Step::Call),
        2 => (0u8..4).prop_map(|polls| Step::Cancelled { polls }),
        1 => Just(Step::Detached),
        3 => prop_oneof![0u64..5, 0u64..120, 0u64..2000].prop_map(|secs| Step::Advance { secs }),
        2 => answer().prop_map(Step::Script),
        1 => Just(Step::Unauthorized),
    ]
}

fn runtime(multi_thread: bool) -> Runtime {
    let mut b = if multi_thread {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    b.enable_all().build().expect("runtime")
}

/// Drop a current-thread runtime; shut a multi-thread one down while its
/// tasks may be running, returning once its workers are gone (a schedule
/// must not move time under a task that is still being dropped — the
/// `shutdown_background` race is `tests/runtimes.rs`'s).
fn retire(rt: Runtime, multi_thread: bool) {
    if multi_thread {
        rt.shutdown_timeout(Duration::from_secs(5));
    } else {
        drop(rt);
    }
}

/// Run `fut` to its end on simulated time: let every runnable task run,
/// and when all wait, move the clock towards the earliest sleep (1 s at
/// most at a time). `settled` says whether work on other threads (a
/// multi-thread runtime's workers) is waiting too: simulated time must not
/// jump past a fetch that is in fact running. `None`: the call never ended
/// (wedged).
async fn drive<F: Future>(
    time: &SimulatedTime,
    settled: &dyn Fn() -> bool,
    fut: F,
) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    for _ in 0..5_000 {
        for _ in 0..16 {
            if let Poll::Ready(out) = futures::poll!(fut.as_mut()) {
                return Some(out);
            }
            tokio::task::yield_now().await;
        }
        for _ in 0..2_000 {
            if settled() {
                break;
            }
            std::thread::sleep(Duration::from_micros(50));
        }
        // What the other threads finished before they settled.
        if let Poll::Ready(out) = futures::poll!(fut.as_mut()) {
            return Some(out);
        }
        match time.next_wake() {
            Some(d) => time.advance(d.clamp(Duration::from_millis(1), Duration::from_secs(1))),
            // Another thread's task may be running (multi-thread).
            None => std::thread::sleep(Duration::from_micros(200)),
        }
    }
    None
}

struct World {
    time: SimulatedTime,
    flow: Arc<SimFlow>,
    manager: Arc<TokenManager>,
    source: Arc<TokenSource>,
    rejected: Mutex<HashSet<Vec<u8>>>,
}

impl World {
    fn new() -> World {
        let time = SimulatedTime::new();
        let flow = Arc::new(SimFlow {
            time: time.clone(),
            script: Mutex::new(VecDeque::new()),
            issued: AtomicU32::new(0),
            running: AtomicUsize::new(0),
            hanging: AtomicUsize::new(0),
            most_at_once: AtomicUsize::new(0),
        });
        let clock: Arc<dyn Clock> = Arc::new(time.clone());
        let sleep: Arc<dyn Sleep> = Arc::new(time.clone());
        let manager = TokenManager::with_config(
            PROFILE,
            ManagerConfig {
                fetch_timeout: FETCH_TIMEOUT,
                ..ManagerConfig::default()
            },
            Arc::clone(&flow) as Arc<dyn TokenFlow>,
            clock,
            Arc::new(Metrics::default()),
            None,
            String::new(),
        );
        let source = Arc::new(
            TokenSource::new(Arc::clone(&flow) as Arc<dyn TokenFlow>)
                .with_fetch_timeout(FETCH_TIMEOUT)
                .with_sleep(sleep),
        );
        World {
            time,
            flow,
            manager,
            source,
            rejected: Mutex::new(HashSet::new()),
        }
    }

    /// A served token: inside its margin, never one refused with 401.
    fn check_served(&self, token: &payauth_runtime::Token) -> Result<(), TestCaseError> {
        prop_assert!(
            self.time.now() < token.usable_until(),
            "served past its expiry margin"
        );
        prop_assert!(
            !self
                .rejected
                .lock()
                .unwrap()
                .contains(token.header_value().as_bytes()),
            "served a token refused with 401"
        );
        Ok(())
    }

    /// Nothing runs unseen on `rt`'s workers: no task waits to be
    /// scheduled, every sleep the clock released has been seen, and a
    /// fetch, if any, is not inside the endpoint (or hangs there).
    fn settled(&self, rt: &Runtime) -> bool {
        let running = self.flow.running.load(Ordering::SeqCst);
        rt.metrics().global_queue_depth() == 0
            && self.time.woken() == 0
            && (!self.manager.is_fetching() || running == self.flow.hanging.load(Ordering::SeqCst))
    }

    fn check(&self) -> Result<(), TestCaseError> {
        prop_assert!(
            self.flow.most_at_once.load(Ordering::SeqCst) <= 1,
            "two fetches at once"
        );
        Ok(())
    }
}

fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let w = World::new();
    let mut multi = false;
    let mut rt = runtime(multi);
    for step in steps {
        // On a multi-thread runtime fetches run on its workers: wait for
        // them before moving time (a current-thread runtime runs nothing
        // unseen).
        let settled = || !multi || w.settled(&rt);
        match step {
            Step::NewRuntime { multi_thread } => {
                retire(rt, multi);
                multi = multi_thread;
                rt = runtime(multi);
            }
            Step::Call => {
                let got = rt.block_on(drive(&w.time, &settled, w.manager.token_from(&w.source)));
                let Some(outcome) = got else {
                    return Err(TestCaseError::fail("a caller is wedged"));
                };
                if let Ok(t) = outcome {
                    w.check_served(&t)?;
                }
            }
            Step::Cancelled { polls } => rt.block_on(async {
                let mut fut = std::pin::pin!(w.manager.token_from(&w.source));
                for _ in 0..polls {
                    if futures::poll!(fut.as_mut()).is_ready() {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            }),
            Step::Detached => {
                let (m, s) = (Arc::clone(&w.manager), Arc::clone(&w.source));
                rt.spawn(async move { m.token_from(&s).await.map(|_| ()) });
            }
            Step::Advance { secs } => w.time.advance(Duration::from_secs(secs)),
            Step::Script(a) => w.flow.script.lock().unwrap().push_back(a),
            Step::Unauthorized => {
                let Some(current) = w.manager.cached() else {
                    continue;
                };
                let used = current.header_value().clone();
                w.rejected.lock().unwrap().insert(used.as_bytes().to_vec());
                let got = rt.block_on(drive(
                    &w.time,
                    &settled,
                    w.manager.renew_after_unauthorized_from(&used, &w.source),
                ));
                let Some(outcome) = got else {
                    return Err(TestCaseError::fail("a caller after a 401 is wedged"));
                };
                if let Ok(t) = outcome {
                    w.check_served(&t)?;
                }
            }
        }
        w.check()?;
    }
    // Whatever the schedule did, a caller on a fresh runtime with a
    // working endpoint gets a token in the end (a refused login pauses
    // logins for at most LOGIN_BACKOFF_MAX).
    retire(rt, multi);
    w.flow.script.lock().unwrap().clear();
    w.time.advance(payauth_runtime::provider::LOGIN_BACKOFF_MAX);
    let rt = runtime(false);
    let got = rt.block_on(drive(&w.time, &|| true, w.manager.token_from(&w.source)));
    match got {
        Some(Ok(t)) => w.check_served(&t)?,
        Some(Err(e)) => return Err(TestCaseError::fail(format!("no token in the end: {e}"))),
        None => return Err(TestCaseError::fail("the last caller is wedged")),
    }
    w.check()
}

fn cases() -> u32 {
    std::env::var("SIMULATION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn one_principal_through_random_schedules(steps in prop::collection::vec(step(), 1..40)) {
        run(steps)?;
    }
}
