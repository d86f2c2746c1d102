//! The token cache of one principal.
//!
//! Reads are lock-free. A fetch runs *detached*: a spawned task that owns
//! the manager performs it and publishes one outcome that every waiter
//! receives. A caller that gives up (timeout, cancelled request) only
//! stops waiting; the fetch goes on, its token is cached, its refresh
//! token kept.
//!
//! A flight's owner may vanish at any point — its task never polled
//! (a runtime dropped right after the spawn), dropped mid-poll, its runtime
//! shut down, a panic. The guard that releases the slot is made *before*
//! the spawn and moved into the task, so dropping the task, polled or not,
//! drops it; it releases with one compare-and-swap of the flight id, never
//! a lock (a runtime that drops the task inside `spawn` would otherwise
//! deadlock on the slot its caller holds). A waiter whose flight ended
//! without an outcome (its runtime went away) starts a new flight itself,
//! on its own runtime. A flight on *another* current-thread runtime may not
//! be driven at all (that runtime alive but idle): a waiter gives up on it
//! at the flight's deadline — its fetch timeout plus [`FLIGHT_GRACE`] — and
//! starts a new one. (A multi-thread runtime's workers always drive their
//! tasks, and a fetch ends by its own time limit.)
//!
//! A fetch runs with the [`TokenSource`] of the client that triggered it:
//! that client's flow (its HTTP client, its login retry policy), fetch
//! timeout and timer. Clients of one principal share the cache, never
//! each other's settings.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use futures::FutureExt;
use futures::future::{BoxFuture, Either, Shared, select};
use reqwest::header::HeaderValue;
use tracing::{Instrument, debug, info_span, warn};

use super::backoff::{Backoff, FRESH_REJECTION};
use super::timing::ExpiryMargin;
use super::{Profile, REFRESH_COOL_DOWN, Token, TokenFlow, TokenSource};
use crate::error::{Error, ErrorKind};
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::store::TokenStore;
use crate::telemetry::{FetchReport, FetchSpan, FlightLink, Recorder};
use crate::time::{Clock, TokioSleep};

/// The longest one fetch may take when nothing says otherwise (a manager
/// made directly; an SDK client derives its own from its login retry
/// policy: [`crate::RetryPolicy::fetch_timeout`]).
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// How long past its fetch timeout a waiter on another runtime still waits
/// for a flight on a current-thread runtime before it takes the flight for
/// stranded (that runtime idle) and starts a new one.
pub const FLIGHT_GRACE: Duration = Duration::from_secs(1);

/// Cache policy of a [`TokenManager`]. `fetch_timeout` is that of the
/// manager's own [`TokenSource`] (the one [`TokenManager::token`] uses).
#[derive(Debug, Clone)]
pub struct ManagerConfig {
    pub expiry_margin: ExpiryMargin,
    pub fetch_timeout: Duration,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        ManagerConfig {
            expiry_margin: ExpiryMargin::default(),
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
        }
    }
}

/// Why a fetch happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reason {
    Missing,
    Expired,
    Proactive,
    Unauthorized,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::Expired => "expired",
            Reason::Proactive => "proactive",
            Reason::Unauthorized => "unauthorized",
        }
    }
}

type Outcome = Result<Arc<Token>, Error>;

/// A fetch in progress; cloning it joins it. Its outcome is `None` when
/// the flight ended without one (its task dropped with its runtime).
#[derive(Clone)]
struct Flight {
    id: u64,
    outcome: Shared<BoxFuture<'static, Option<Outcome>>>,
    /// The current-thread runtime whose task runs the fetch, if that is
    /// where it runs: nothing drives such a task while nobody drives its
    /// runtime. (A multi-thread runtime's workers always do; a runtime that
    /// goes away ends the flight without an outcome; without a runtime the
    /// waiters drive the fetch themselves.)
    idle_prone: Option<tokio::runtime::Id>,
    /// Past this a waiter on another runtime takes an `idle_prone` flight
    /// for stranded.
    deadline: Instant,
    /// The fetch's span, which the calls that wait on it link to.
    link: FlightLink,
}

/// State only the fetch touches (never held across an await).
#[derive(Default)]
pub(super) struct FetchState {
    pub(super) refresh_token: Option<Secret>,
    pub(super) backoff: Backoff,
    /// The latest token the provider rejected with 401: no fetch hands it
    /// out again (a shared store may still hold it).
    pub(super) rejected: Option<HeaderValue>,
}

/// The token cache of one principal (provider, environment, credential —
/// secret included — and end-user customer).
pub struct TokenManager {
    pub(super) profile: Profile,
    pub(super) config: ManagerConfig,
    /// The source of [`TokenManager::token`] (clients pass their own).
    source: Arc<TokenSource>,
    pub(super) clock: Arc<dyn Clock>,
    /// `clock` is the [`crate::SystemClock`]: the hot path reads
    /// `Instant::now()` directly (no indirect call).
    system_clock: bool,
    pub(super) metrics: Arc<Metrics>,
    pub(super) current: ArcSwapOption<Token>,
    /// The last flight started; it is live only while `flying` holds its id.
    flight: Mutex<Option<Flight>>,
    /// The id of the live flight, 0 when none: set under the `flight`
    /// lock, cleared by the flight's guard with a compare-and-swap.
    flying: AtomicU64,
    pub(super) state: Mutex<FetchState>,
    /// Milliseconds since `epoch` before which no background refresh starts.
    not_before_ms: AtomicU64,
    epoch: Instant,
    /// Second-level cache shared by a fleet, and this principal's key in it.
    pub(super) store: Option<Arc<dyn TokenStore>>,
    pub(super) key: String,
    /// Counts this principal among those cached (`payauth.token.principals`)
    /// while it lives.
    principals: Recorder,
}

impl Drop for TokenManager {
    fn drop(&mut self) {
        self.principals.principal(-1);
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("provider", &self.profile.name)
            .field("current", &self.current.load().as_deref())
            .finish()
    }
}

/// The future [`TokenManager::token`] returns. Its first poll serves a
/// cached token without awaiting; only a missing, due or expired token
/// boxes the fetch (single-flight) and waits for it. Like any future it
/// does nothing until polled; dropping it never cancels a fetch other
/// callers wait for.
#[must_use = "futures do nothing unless polled"]
pub struct TokenFuture<'a> {
    manager: &'a Arc<TokenManager>,
    stage: Stage<'a>,
}

/// Before the first poll: the source a fetch would use; after it started
/// one: the boxed wait (two words either way).
enum Stage<'a> {
    Ready(&'a Arc<TokenSource>),
    Slow(BoxFuture<'a, Outcome>),
}

impl fmt::Debug for TokenFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenFuture")
            .field("provider", &self.manager.profile.name)
            .field("fetching", &matches!(self.stage, Stage::Slow(_)))
            .finish()
    }
}

impl Future for TokenFuture<'_> {
    type Output = Outcome;

    /// Inlined into the caller whole: the fast path is a handful of
    /// instructions, and a call's prologue and epilogue were a third of
    /// what it added to the floor (callgrind, `benches/token_read.rs`).
    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        if matches!(self.stage, Stage::Ready(_))
            && let Some(token) = self.manager.before_refresh()
        {
            return Poll::Ready(Ok(token));
        }
        self.poll_slow(cx)
    }
}

impl TokenFuture<'_> {
    /// Everything but a cached token before its refresh time: kept out
    /// of line so the hot path stays a handful of instructions.
    #[cold]
    #[inline(never)]
    fn poll_slow(&mut self, cx: &mut Context<'_>) -> Poll<Outcome> {
        if let Stage::Ready(source) = self.stage {
            match self.manager.fresh(source) {
                Ok(token) => return Poll::Ready(Ok(token)),
                Err(reason) => {
                    let manager = self.manager;
                    self.stage = Stage::Slow(Box::pin(manager.obtain_token(reason, None, source)));
                }
            }
        }
        match &mut self.stage {
            Stage::Slow(slow) => slow.as_mut().poll(cx),
            Stage::Ready(_) => unreachable!("set above"),
        }
    }
}

static NEXT_FLIGHT: AtomicU64 = AtomicU64::new(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl TokenManager {
    pub fn new(
        profile: Profile,
        flow: Arc<dyn TokenFlow>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        Self::with_store(profile, flow, clock, metrics, None, String::new())
    }

    /// A manager whose fetches go through `store` under `key` (from
    /// [`TokenStore::key_for`]).
    pub fn with_store(
        profile: Profile,
        flow: Arc<dyn TokenFlow>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        store: Option<Arc<dyn TokenStore>>,
        key: String,
    ) -> Arc<Self> {
        Self::with_config(
            profile,
            ManagerConfig::default(),
            flow,
            clock,
            metrics,
            store,
            key,
        )
    }

    /// [`TokenManager::with_store`] with an explicit policy.
    pub fn with_config(
        profile: Profile,
        config: ManagerConfig,
        flow: Arc<dyn TokenFlow>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        store: Option<Arc<dyn TokenStore>>,
        key: String,
    ) -> Arc<Self> {
        Self::counted(
            profile,
            config,
            flow,
            clock,
            metrics,
            store,
            key,
            Recorder::default(),
        )
    }

    /// [`TokenManager::with_config`], counted in `principals`'s
    /// `payauth.token.principals` while it lives.
    #[expect(clippy::too_many_arguments, reason = "with_config's, plus one")]
    pub(crate) fn counted(
        profile: Profile,
        config: ManagerConfig,
        flow: Arc<dyn TokenFlow>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        store: Option<Arc<dyn TokenStore>>,
        key: String,
        principals: Recorder,
    ) -> Arc<Self> {
        principals.principal(1);
        let epoch = clock.now();
        let source = Arc::new(
            TokenSource::new(flow)
                .with_fetch_timeout(config.fetch_timeout)
                .with_sleep(Arc::new(TokioSleep)),
        );
        Arc::new(TokenManager {
            profile,
            config,
            source,
            system_clock: crate::time::is_system(clock.as_ref()),
            clock,
            metrics,
            current: ArcSwapOption::empty(),
            flight: Mutex::new(None),
            flying: AtomicU64::new(0),
            state: Mutex::new(FetchState::default()),
            not_before_ms: AtomicU64::new(0),
            epoch,
            store,
            key,
            principals,
        })
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The cache's counters (logins, refreshes, failed fetches,
    /// invalidations): the same for every client of this principal,
    /// whichever client's call triggered them.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The source [`TokenManager::token`] fetches with.
    pub fn source(&self) -> &Arc<TokenSource> {
        &self.source
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn config(&self) -> &ManagerConfig {
        &self.config
    }

    /// A usable token. The hot path — a cached token before its refresh
    /// time — is one atomic load, one clock read and a reference-count
    /// bump: no lock, no I/O, no allocation, and no async state machine:
    /// [`TokenFuture`] answers it from a plain function on its first poll.
    pub fn token(self: &Arc<Self>) -> TokenFuture<'_> {
        self.token_from(&self.source)
    }

    /// [`TokenManager::token`], a fetch (if one is needed) running with
    /// `source`: the calling client's flow, fetch timeout and timer.
    pub fn token_from<'a>(self: &'a Arc<Self>, source: &'a Arc<TokenSource>) -> TokenFuture<'a> {
        TokenFuture {
            manager: self,
            stage: Stage::Ready(source),
        }
    }

    /// `read` of the cached token if it is before its refresh time: the
    /// hot path — an atomic load and a clock read, no lock.
    #[inline(always)]
    fn with_fresh<R>(&self, read: impl FnOnce(&Arc<Token>) -> R) -> Option<R> {
        let now = self.now();
        let guard = self.current.load();
        guard
            .as_ref()
            .filter(|token| now < token.refresh_at)
            .map(read)
    }

    /// The clock's time; the system's read directly.
    #[inline(always)]
    fn now(&self) -> Instant {
        if self.system_clock {
            Instant::now()
        } else {
            self.clock.now()
        }
    }

    /// The cached token if it is before its refresh time.
    #[inline(always)]
    fn before_refresh(&self) -> Option<Arc<Token>> {
        self.with_fresh(Arc::clone)
    }

    /// The `Authorization` value of the cached token if it is before its
    /// refresh time — the hot path of a request, without a reference
    /// count on the token (`None`: await [`TokenManager::token`]).
    #[inline]
    pub fn fresh_header(&self) -> Option<HeaderValue> {
        self.with_fresh(|token| token.header.clone())
    }

    /// The cached token if it may be handed out now (starting a
    /// background refresh when it is due), or why a fetch is needed.
    fn fresh(self: &Arc<Self>, source: &Arc<TokenSource>) -> Result<Arc<Token>, Reason> {
        let now = self.clock.now();
        let guard = self.current.load();
        match guard.as_ref() {
            Some(token) if now < token.refresh_at => Ok(Arc::clone(token)),
            Some(token) if now < token.usable_until => {
                self.refresh_in_background(now, source);
                Ok(Arc::clone(token))
            }
            Some(_) => Err(Reason::Expired),
            None => Err(Reason::Missing),
        }
    }

    /// The cached token, if any, without fetching (expired ones included).
    pub fn cached(&self) -> Option<Arc<Token>> {
        self.current.load_full()
    }

    /// Whether a fetch is running for this principal.
    pub fn is_fetching(&self) -> bool {
        self.flying.load(Ordering::Acquire) != 0
    }

    /// Drop `used` after the provider rejected it with 401 — only if it is
    /// still the cached one (a newer token fetched by another task stays),
    /// then return a fresh token through single-flight; never `used`.
    pub async fn renew_after_unauthorized(
        self: &Arc<Self>,
        used: &HeaderValue,
    ) -> Result<Arc<Token>, Error> {
        self.renew_after_unauthorized_from(used, &self.source).await
    }

    /// [`TokenManager::renew_after_unauthorized`], a fetch running with
    /// `source`.
    pub async fn renew_after_unauthorized_from(
        self: &Arc<Self>,
        used: &HeaderValue,
        source: &Arc<TokenSource>,
    ) -> Result<Arc<Token>, Error> {
        let now = self.clock.now();
        let current = self.current.load_full();
        if let Some(cur) = &current {
            if cur.header != used && now < cur.refresh_at {
                // Someone already replaced the rejected token.
                return Ok(Arc::clone(cur));
            }
            if cur.header == used {
                lock(&self.state).rejected = Some(used.clone());
                // "Just issued": early in its life by our clock, so not a
                // token that expired on its way to the provider.
                let fresh = FRESH_REJECTION.min(cur.expiry.lifetime / 2);
                if !cur.floored && now.saturating_duration_since(cur.received) < fresh {
                    lock(&self.state)
                        .backoff
                        .rejected_fresh(self.profile.name, now);
                }
                self.current.compare_and_swap(&current, None);
                self.metrics.inc_invalidations();
            }
        }
        Box::pin(self.obtain_token(Reason::Unauthorized, Some(used.clone()), source)).await
    }

    /// The live flight, if any (the slot's flight while `flying` holds
    /// its id).
    fn live<'s>(&self, slot: &'s Option<Flight>) -> Option<&'s Flight> {
        let live = self.flying.load(Ordering::Acquire);
        slot.as_ref().filter(|f| live != 0 && f.id == live)
    }

    /// Join the fetch in flight or start one; never hand out `rejected`.
    async fn obtain_token(
        self: &Arc<Self>,
        reason: Reason,
        rejected: Option<HeaderValue>,
        source: &Arc<TokenSource>,
    ) -> Result<Arc<Token>, Error> {
        // Flights that hand back the rejected token, that end without an
        // outcome (their runtime went away), or whose token is past its
        // margin by the time it arrives (the clock jumped, a slow flight
        // of a short-lived token): a few of each.
        let (mut same_again, mut ownerless, mut stale) = (0, 0, 0);
        while same_again < 3 && ownerless < 4 && stale < 3 {
            let flight = {
                let mut slot = lock(&self.flight);
                let now = self.clock.now();
                // After a 401, a replacement must have most of its life
                // ahead (before its refresh time), or the retry may meet
                // the same fate.
                if let Some(cur) = self.current.load_full()
                    && now < cur.usable_until
                    && rejected
                        .as_ref()
                        .is_none_or(|r| cur.header != r && now < cur.refresh_at)
                {
                    return Ok(cur);
                }
                match self.live(&slot) {
                    Some(f) => (f.clone(), false),
                    None => {
                        if let Some(e) = lock(&self.state).backoff.check(now) {
                            source.telemetry().login_backoff();
                            return Err(e);
                        }
                        (
                            self.start_flight(&mut slot, reason, None, rejected.clone(), source),
                            true,
                        )
                    }
                }
            };
            let (flight, ours) = flight;
            source.telemetry().waited(&flight.link, ours);
            match self.wait(&flight, source).await {
                // Ended without an outcome, or stranded: start another.
                None => {
                    ownerless += 1;
                    debug!(
                        provider = self.profile.name,
                        "the token fetch ended without an outcome (its runtime went away); starting another"
                    );
                }
                // A flight that began before the 401 may hand back the
                // rejected token (a shared store still held it): go again.
                // What a login started after the 401 returns is the
                // provider's answer, even if the same string.
                Some(Ok(t)) if !ours && rejected.as_ref().is_some_and(|r| t.header == r) => {
                    same_again += 1;
                }
                // Never serve a token past its margin.
                Some(Ok(t)) if self.clock.now() >= t.usable_until => stale += 1,
                Some(other) => return other,
            }
        }
        if stale >= 3 {
            return Err(Error::new(
                ErrorKind::Transient,
                self.profile.name,
                "every token fetched was past its expiry margin on arrival",
            ));
        }
        if ownerless >= 4 {
            return Err(Error::new(
                ErrorKind::Transient,
                self.profile.name,
                "the token fetch could not run (its runtime keeps going away)",
            ));
        }
        Err(Error::new(
            ErrorKind::Unauthorized,
            self.profile.name,
            "the provider keeps issuing the token it rejected",
        )
        .with_status(401))
    }

    /// The flight's outcome, or `None` when it ended without one or was
    /// not driven to its deadline (then it is released, so the next caller
    /// starts a new one).
    async fn wait(&self, flight: &Flight, source: &TokenSource) -> Option<Outcome> {
        let elsewhere = flight.idle_prone.is_some_and(|runs_on| {
            tokio::runtime::Handle::try_current().map(|h| h.id()).ok() != Some(runs_on)
        });
        if !elsewhere {
            return flight.outcome.clone().await;
        }
        let left = flight.deadline.saturating_duration_since(self.clock.now());
        match select(flight.outcome.clone(), source.sleep_for(left)).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(((), outcome)) => {
                // Its task may be ready to run on this very runtime (a
                // current-thread runtime nobody drove meanwhile): let it
                // — its own time limit, passed too, ends it at once.
                tokio::task::yield_now().await;
                if let Some(outcome) = outcome.now_or_never() {
                    return outcome;
                }
                warn!(
                    provider = self.profile.name,
                    "the token fetch was not driven to its deadline (its runtime idle?); starting another"
                );
                self.release(flight.id);
                None
            }
        }
    }

    /// Release the slot of flight `id` if it is still the live one.
    fn release(&self, id: u64) {
        let _ = self
            .flying
            .compare_exchange(id, 0, Ordering::AcqRel, Ordering::Acquire);
    }

    fn now_ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_millis() as u64
    }

    /// No background refresh before [`REFRESH_COOL_DOWN`] from now.
    fn cool_down(&self) {
        let retry_at = self.now_ms(self.clock.now()) + REFRESH_COOL_DOWN.as_millis() as u64;
        self.not_before_ms.store(retry_at, Ordering::Relaxed);
    }

    fn refresh_in_background(self: &Arc<Self>, now: Instant, source: &Arc<TokenSource>) {
        if self.flying.load(Ordering::Acquire) != 0
            || self.now_ms(now) < self.not_before_ms.load(Ordering::Relaxed)
        {
            return;
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let mut slot = lock(&self.flight);
        if self.live(&slot).is_some() {
            return;
        }
        let seen = self.current.load().as_ref().map(|t| t.id);
        self.start_flight(&mut slot, Reason::Proactive, seen, None, source);
    }

    /// Start the detached fetch and put it in `slot` (held by the caller).
    fn start_flight(
        self: &Arc<Self>,
        slot: &mut Option<Flight>,
        reason: Reason,
        proactive_seen: Option<u64>,
        rejected: Option<HeaderValue>,
        source: &Arc<TokenSource>,
    ) -> Flight {
        let id = NEXT_FLIGHT.fetch_add(1, Ordering::Relaxed);
        let name = self.profile.name;
        // Live before the task exists: a runtime that drops the task at
        // once (shutting down) releases it through the guard, which must
        // find this id.
        self.flying.store(id, Ordering::Release);
        // Made here and moved into the task: dropping the task — polled
        // or not — releases the slot.
        let guard = FlightGuard {
            manager: Arc::clone(self),
            id,
            proactive: reason == Reason::Proactive,
        };
        let allowed = source.fetch_timeout().saturating_add(FLIGHT_GRACE);
        let proactive = reason == Reason::Proactive;
        if proactive {
            source.telemetry().proactive_refresh();
        }
        // A child of the call that needs the token; a background refresh,
        // which nobody waits for, starts a trace of its own.
        let span = source
            .telemetry()
            .fetch(reason.as_str(), proactive, self.clock.now());
        let link = span.link();
        // The fetch's time limit runs from now, not from the task's first
        // poll: a task that waits to be scheduled still ends before its
        // waiters' deadline.
        let limit = source.sleep_for(source.fetch_timeout());
        let source = Arc::clone(source);
        let task = async move {
            let guard = guard;
            guard
                .manager
                .run_fetch(reason, proactive_seen, rejected, &source, limit, span)
                .await
        };
        let mut idle_prone = None;
        let outcome: BoxFuture<'static, Option<Outcome>> =
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread {
                        idle_prone = Some(handle.id());
                    }
                    let join = handle.spawn(task);
                    async move {
                        match join.await {
                            Ok(outcome) => Some(outcome),
                            Err(e) if e.is_panic() => Some(Err(Error::new(
                                ErrorKind::Transient,
                                name,
                                "the token fetch panicked",
                            ))),
                            // Dropped with its runtime: no outcome.
                            Err(_) => None,
                        }
                    }
                    .boxed()
                }
                // Not inside Tokio: the first waiter drives the fetch.
                Err(_) => task.map(Some).boxed(),
            };
        let now = self.clock.now();
        let deadline = now.checked_add(allowed).unwrap_or(now);
        let flight = Flight {
            id,
            outcome: outcome.shared(),
            idle_prone,
            deadline,
            link,
        };
        *slot = Some(flight.clone());
        flight
    }

    /// The body of a flight: fetch (bounded in time), publish, account.
    async fn run_fetch(
        self: &Arc<Self>,
        reason: Reason,
        proactive_seen: Option<u64>,
        rejected: Option<HeaderValue>,
        source: &TokenSource,
        limit: BoxFuture<'static, ()>,
        span: FetchSpan,
    ) -> Outcome {
        let now = self.clock.now();
        if reason == Reason::Proactive
            && let Some(t) = self.current.load_full()
            && now < t.usable_until
            && (Some(t.id) != proactive_seen || now < t.refresh_at)
        {
            let report = FetchReport {
                source: "cached",
                error: None,
                store: None,
            };
            span.finish(report, now);
            return Ok(t);
        }
        let before = self.metrics.snapshot();
        let tracing_span = info_span!("auth.fetch", provider = self.profile.name, reason = ?reason);
        let fetch = async {
            match &self.store {
                Some(store) => {
                    self.fetch_through_store(store.as_ref(), rejected, source)
                        .await
                }
                None => self.fetch_direct(source).await,
            }
        };
        let allowed = source.fetch_timeout();
        let fetch = span.attach(fetch.instrument(tracing_span));
        let outcome = match select(std::pin::pin!(fetch), limit).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(_) => Err(Error::new(
                ErrorKind::Transient,
                self.profile.name,
                format!("the token fetch took longer than {allowed:?}"),
            )),
        };
        match &outcome {
            Ok(token) => self.current.store(Some(Arc::clone(token))),
            Err(e) => {
                warn!(provider = self.profile.name, reason = ?reason, kind = ?e.kind(), "token fetch failed: {e}");
                self.metrics.inc_fetch_failures();
                if reason == Reason::Proactive {
                    self.cool_down();
                }
                // A failed fetch never displaces a still-valid token.
                debug!(
                    provider = self.profile.name,
                    "keeping the current token, if any"
                );
            }
        }
        span.finish(self.report(&before, &outcome), self.clock.now());
        outcome
    }
}

impl TokenManager {
    /// How the fetch that began at `before` (the cache's counters) went.
    fn report(&self, before: &crate::MetricsSnapshot, outcome: &Outcome) -> FetchReport {
        let after = self.metrics.snapshot();
        let source = if after.logins > before.logins {
            "login"
        } else if after.refreshes > before.refreshes {
            "refresh"
        } else if self.store.is_some() {
            "store"
        } else {
            "none"
        };
        let store = self.store.as_ref().map(|store| match source {
            _ if !store.is_reachable() => "outage",
            "store" => "hit",
            _ => "miss",
        });
        FetchReport {
            source,
            error: outcome.as_ref().err().map(Error::kind),
            store,
        }
    }
}

/// Releases the slot when the flight ends — normally, by panic, or because
/// its task was dropped (polled or not: the guard is made before the spawn
/// and moved into the task) — so the next caller starts a new one. One
/// compare-and-swap, no lock: it may run inside `spawn`, whose caller
/// holds the slot's lock.
struct FlightGuard {
    manager: Arc<TokenManager>,
    id: u64,
    proactive: bool,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        if self.proactive && std::thread::panicking() {
            // A panicking flow cools down like a failing one.
            self.manager.cool_down();
        }
        self.manager.release(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the hot path moves around per call: the future a caller
    /// embeds and the result it gets back. An `Error` of its own size
    /// (64 bytes before) made every `Result` on the path a memcpy.
    #[test]
    fn the_hot_path_moves_three_words_at_most() {
        let word = std::mem::size_of::<usize>();
        assert_eq!(std::mem::size_of::<Error>(), word);
        assert_eq!(std::mem::size_of::<Outcome>(), 2 * word);
        assert!(std::mem::size_of::<TokenFuture<'_>>() <= 3 * word);
        assert_eq!(std::mem::size_of::<Stage<'_>>(), 2 * word);
    }
}
