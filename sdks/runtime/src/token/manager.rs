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
//! at the flight's deadline — its fetch timeout plus [`FLIGHT_GRACE`](super::flight::FLIGHT_GRACE) — and
//! starts a new one. (A multi-thread runtime's workers always drive their
//! tasks, and a fetch ends by its own time limit.)
//!
//! A fetch runs with the [`TokenSource`] of the client that triggered it:
//! that client's flow (its HTTP client, its login retry policy), fetch
//! timeout and timer. Clients of one principal share the cache, never
//! each other's settings.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use futures::future::{BoxFuture, Shared};
use reqwest::header::HeaderValue;
use tracing::debug;

use super::backoff::{Backoff, FRESH_REJECTION};
use super::cached::Token;
use super::flow::TokenFlow;
use super::profile::Profile;
use super::source::TokenSource;
use super::timing::ExpiryMargin;
use crate::base::error::{Error, ErrorKind};
use crate::base::policy::DEFAULT_FETCH_TIMEOUT;
use crate::base::secret::Secret;
use crate::base::sync::lock;
use crate::base::time::Clock;
use crate::observe::events::{Observe as _, Reason};
use crate::observe::metrics::Metrics;
use crate::observe::observer::Observer;
use crate::observe::telemetry::{FlightLink, Recorder};
use crate::token::store::TokenStore;

/// Cache policy of a [`TokenManager`]. `fetch_timeout` is that of the
/// manager's own [`TokenSource`] (the one [`TokenManager::token`] uses).
#[derive(Debug, Clone)]
pub struct ManagerConfig {
    /// When a token stops being attached before its expiry (default
    /// [`ExpiryMargin::default`]: `min(10 s, 15 %)` of its lifetime).
    pub expiry_margin: ExpiryMargin,
    /// The longest one fetch may take (default
    /// [`DEFAULT_FETCH_TIMEOUT`](crate::DEFAULT_FETCH_TIMEOUT), 240 s).
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

pub(super) type Outcome = Result<Arc<Token>, Error>;

/// A fetch in progress; cloning it joins it. Its outcome is `None` when
/// the flight ended without one (its task dropped with its runtime).
#[derive(Clone)]
pub(super) struct Flight {
    pub(super) id: u64,
    pub(super) outcome: Shared<BoxFuture<'static, Option<Outcome>>>,
    /// The current-thread runtime whose task runs the fetch, if that is
    /// where it runs: nothing drives such a task while nobody drives its
    /// runtime. (A multi-thread runtime's workers always do; a runtime that
    /// goes away ends the flight without an outcome; without a runtime the
    /// waiters drive the fetch themselves.)
    pub(super) idle_prone: Option<tokio::runtime::Id>,
    /// Past this a waiter on another runtime takes an `idle_prone` flight
    /// for stranded.
    pub(super) deadline: Instant,
    /// The fetch's span, which the calls that wait on it link to.
    pub(super) link: FlightLink,
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
    pub(super) source: Arc<TokenSource>,
    pub(super) clock: Arc<dyn Clock>,
    /// `clock` is the [`crate::SystemClock`]: the hot path reads
    /// `Instant::now()` directly (no indirect call).
    pub(super) system_clock: bool,
    pub(super) metrics: Arc<Metrics>,
    pub(super) current: ArcSwapOption<Token>,
    /// The last flight started; it is live only while `flying` holds its id.
    pub(super) flight: Mutex<Option<Flight>>,
    /// The id of the live flight, 0 when none: set under the `flight`
    /// lock, cleared by the flight's guard with a compare-and-swap.
    pub(super) flying: AtomicU64,
    pub(super) state: Mutex<FetchState>,
    /// Milliseconds since `epoch` before which no background refresh starts.
    pub(super) not_before_ms: AtomicU64,
    pub(super) epoch: Instant,
    /// Second-level cache shared by a fleet, and this principal's key in it.
    pub(super) store: Option<Arc<dyn TokenStore>>,
    pub(super) key: String,
    /// Counts this principal among those cached (`payauth.token.principals`)
    /// while it lives.
    pub(super) principals: Recorder,
}

impl Drop for TokenManager {
    fn drop(&mut self) {
        self.observer_of(&self.principals).principal(-1);
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

impl TokenManager {
    /// A cache of `profile`'s tokens fetched by `flow`, on `clock`,
    /// counting into `metrics`, with the default [`ManagerConfig`], no
    /// shared store and Tokio's timer. Nothing is fetched until the first
    /// [`token`](TokenManager::token).
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
        let source = Arc::new(TokenSource::new(flow).with_fetch_timeout(config.fetch_timeout));
        Self::counted(
            profile,
            config.expiry_margin,
            source,
            clock,
            metrics,
            store,
            key,
            Recorder::default(),
        )
    }

    /// A manager whose own fetches ([`TokenManager::token`]) run with
    /// `source` — the first client's: its flow, fetch timeout and timer —
    /// counted in `principals`'s `payauth.token.principals` while it lives.
    #[expect(clippy::too_many_arguments, reason = "with_config's, plus one")]
    pub(crate) fn counted(
        profile: Profile,
        expiry_margin: ExpiryMargin,
        source: Arc<TokenSource>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        store: Option<Arc<dyn TokenStore>>,
        key: String,
        principals: Recorder,
    ) -> Arc<Self> {
        Observer {
            counters: &metrics,
            telemetry: &principals,
        }
        .principal(1);
        let epoch = clock.now();
        let config = ManagerConfig {
            expiry_margin,
            fetch_timeout: source.fetch_timeout(),
        };
        Arc::new(TokenManager {
            profile,
            config,
            source,
            system_clock: crate::base::time::is_system(clock.as_ref()),
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

    /// Where the events of a fetch or call of `source`'s client go: this
    /// cache's counters and that client's telemetry.
    #[inline(always)]
    pub(super) fn observer<'a>(&'a self, source: &'a TokenSource) -> Observer<'a> {
        self.observer_of(source.telemetry())
    }

    #[inline(always)]
    pub(super) fn observer_of<'a>(&'a self, telemetry: &'a Recorder) -> Observer<'a> {
        Observer {
            counters: &self.metrics,
            telemetry,
        }
    }

    /// The provider's profile.
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

    /// The clock deadlines and refresh times are read on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The cache's policy.
    pub fn config(&self) -> &ManagerConfig {
        &self.config
    }

    /// `read` of the cached token if it is before its refresh time: the
    /// hot path — an atomic load and a clock read, no lock.
    #[inline(always)]
    pub(super) fn with_fresh<R>(&self, read: impl FnOnce(&Arc<Token>) -> R) -> Option<R> {
        let now = self.now();
        let guard = self.current.load();
        guard
            .as_ref()
            .filter(|token| now < token.refresh_at)
            .map(read)
    }

    /// The clock's time; the system's read directly.
    #[inline(always)]
    pub(super) fn now(&self) -> Instant {
        if self.system_clock {
            Instant::now()
        } else {
            self.clock.now()
        }
    }

    /// The cached token if it is before its refresh time.
    #[inline(always)]
    pub(super) fn before_refresh(&self) -> Option<Arc<Token>> {
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
    pub(super) fn fresh(self: &Arc<Self>, source: &Arc<TokenSource>) -> Result<Arc<Token>, Reason> {
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
    ///
    /// # Errors
    ///
    /// What the fetch failed with (`InvalidCredentials`, `Transient`,
    /// `MalformedResponse`, …), or the login backoff's cached error with
    /// its `retry_after`.
    pub async fn renew_after_unauthorized(
        self: &Arc<Self>,
        used: &HeaderValue,
    ) -> Result<Arc<Token>, Error> {
        self.renew_after_unauthorized_from(used, &self.source).await
    }

    /// [`TokenManager::renew_after_unauthorized`], a fetch running with
    /// `source`.
    ///
    /// # Errors
    ///
    /// As [`TokenManager::renew_after_unauthorized`].
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
                self.observer(source).invalidated(self.profile.name);
            }
        }
        Box::pin(self.obtain_token(Reason::Unauthorized, Some(used.clone()), source)).await
    }

    /// The live flight, if any (the slot's flight while `flying` holds
    /// its id).
    pub(super) fn live<'s>(&self, slot: &'s Option<Flight>) -> Option<&'s Flight> {
        let live = self.flying.load(Ordering::Acquire);
        slot.as_ref().filter(|f| live != 0 && f.id == live)
    }

    /// Join the fetch in flight or start one; never hand out `rejected`.
    pub(super) async fn obtain_token(
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
                // Whether a flight is live first, then the cache: a flight
                // publishes its token before it releases its slot (without
                // this lock), so a slot found free shows its token below.
                // The other way round, a flight ending between the two
                // reads left no token yet and no flight any more, and a
                // second flight started (`token/manager_tests.rs`).
                let live = self.live(&slot);
                #[cfg(test)]
                run_gap_hook();
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
                match live {
                    Some(f) => (f.clone(), false),
                    None => {
                        if let Some(e) = lock(&self.state).backoff.check(now) {
                            self.observer(source).login_backoff();
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
}

#[cfg(test)]
thread_local! {
    /// Run once, on this thread, between the two reads of
    /// [`TokenManager::obtain_token`] (`token/manager_tests.rs`).
    pub(super) static GAP_HOOK: std::cell::RefCell<Option<Box<dyn FnOnce()>>> =
        const { std::cell::RefCell::new(None) };
}

#[cfg(test)]
fn run_gap_hook() {
    if let Some(hook) = GAP_HOOK.with(|h| h.borrow_mut().take()) {
        hook();
    }
}
