//! The token cache of one principal.
//!
//! Reads are lock-free. A fetch runs *detached*: a spawned task that owns
//! the manager performs it and publishes one outcome that every waiter
//! receives. A caller that gives up (timeout, cancelled request) only
//! stops waiting; the fetch goes on, its token is cached, its refresh
//! token kept. A guard clears the in-flight slot even if the task panics
//! or its runtime shuts down.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use reqwest::header::HeaderValue;
use tracing::{Instrument, debug, info_span, warn};

use super::backoff::{Backoff, FRESH_REJECTION};
use super::timing::ExpiryMargin;
use super::{Profile, REFRESH_COOL_DOWN, Token, TokenFlow};
use crate::clock::Clock;
use crate::error::{Error, ErrorKind};
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::store::TokenStore;

/// The longest one fetch (refresh token, then login, each with its
/// retries) may take before its waiters get a `Transient` error — even
/// when the application's `reqwest::Client` has no timeouts. Two calls'
/// retry deadlines (2 × 30 s).
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// Cache policy of a [`TokenManager`].
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

type Outcome = Result<Arc<Token>, Error>;

/// A fetch in progress; cloning it joins it.
#[derive(Clone)]
struct Flight {
    id: u64,
    outcome: Shared<BoxFuture<'static, Outcome>>,
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
    pub(super) flow: Arc<dyn TokenFlow>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) current: ArcSwapOption<Token>,
    flight: Mutex<Option<Flight>>,
    /// Fast check for the hot path: a fetch is in flight.
    flying: AtomicBool,
    pub(super) state: Mutex<FetchState>,
    /// Milliseconds since `epoch` before which no background refresh starts.
    not_before_ms: AtomicU64,
    epoch: Instant,
    /// Second-level cache shared by a fleet, and this principal's key in it.
    pub(super) store: Option<Arc<dyn TokenStore>>,
    pub(super) key: String,
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
    slow: Option<BoxFuture<'a, Outcome>>,
}

impl fmt::Debug for TokenFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenFuture")
            .field("provider", &self.manager.profile.name)
            .field("fetching", &self.slow.is_some())
            .finish()
    }
}

impl Future for TokenFuture<'_> {
    type Output = Outcome;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        if self.slow.is_none()
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
        if self.slow.is_none() {
            match self.manager.fresh() {
                Ok(token) => return Poll::Ready(Ok(token)),
                Err(reason) => {
                    let manager = self.manager;
                    self.slow = Some(Box::pin(manager.obtain_token(reason, None)));
                }
            }
        }
        match self.slow.as_mut() {
            Some(slow) => slow.as_mut().poll(cx),
            None => unreachable!("set above"),
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
        let epoch = clock.now();
        Arc::new(TokenManager {
            profile,
            config,
            flow,
            clock,
            metrics,
            current: ArcSwapOption::empty(),
            flight: Mutex::new(None),
            flying: AtomicBool::new(false),
            state: Mutex::new(FetchState::default()),
            not_before_ms: AtomicU64::new(0),
            epoch,
            store,
            key,
        })
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
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
        TokenFuture {
            manager: self,
            slow: None,
        }
    }

    /// `read` of the cached token if it is before its refresh time: the
    /// hot path — an atomic load and a clock read, no lock.
    #[inline]
    fn with_fresh<R>(&self, read: impl FnOnce(&Arc<Token>) -> R) -> Option<R> {
        let now = self.clock.now();
        let guard = self.current.load();
        guard
            .as_ref()
            .filter(|token| now < token.refresh_at)
            .map(read)
    }

    /// The cached token if it is before its refresh time.
    #[inline]
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
    fn fresh(self: &Arc<Self>) -> Result<Arc<Token>, Reason> {
        let now = self.clock.now();
        let guard = self.current.load();
        match guard.as_ref() {
            Some(token) if now < token.refresh_at => Ok(Arc::clone(token)),
            Some(token) if now < token.usable_until => {
                self.refresh_in_background(now);
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
        self.flying.load(Ordering::Acquire)
    }

    /// Drop `used` after the provider rejected it with 401 — only if it is
    /// still the cached one (a newer token fetched by another task stays),
    /// then return a fresh token through single-flight; never `used`.
    pub async fn renew_after_unauthorized(
        self: &Arc<Self>,
        used: &HeaderValue,
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
        Box::pin(self.obtain_token(Reason::Unauthorized, Some(used.clone()))).await
    }

    /// Join the fetch in flight or start one; never hand out `rejected`.
    async fn obtain_token(
        self: &Arc<Self>,
        reason: Reason,
        rejected: Option<HeaderValue>,
    ) -> Result<Arc<Token>, Error> {
        for _ in 0..3 {
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
                if slot.is_none()
                    && let Some(e) = lock(&self.state).backoff.check(now)
                {
                    return Err(e);
                }
                match slot.as_ref() {
                    Some(f) => (f.clone(), false),
                    None => (
                        self.start_flight(&mut slot, reason, None, rejected.clone()),
                        true,
                    ),
                }
            };
            let (flight, ours) = flight;
            match flight.outcome.await {
                // A flight that began before the 401 may hand back the
                // rejected token (a shared store still held it): go again.
                // What a login started after the 401 returns is the
                // provider's answer, even if the same string.
                Ok(t) if !ours && rejected.as_ref().is_some_and(|r| t.header == r) => continue,
                other => return other,
            }
        }
        Err(Error::new(
            ErrorKind::Unauthorized,
            self.profile.name,
            "the provider keeps issuing the token it rejected",
        )
        .with_status(401))
    }

    fn now_ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_millis() as u64
    }

    /// No background refresh before [`REFRESH_COOL_DOWN`] from now.
    fn cool_down(&self) {
        let retry_at = self.now_ms(self.clock.now()) + REFRESH_COOL_DOWN.as_millis() as u64;
        self.not_before_ms.store(retry_at, Ordering::Relaxed);
    }

    fn refresh_in_background(self: &Arc<Self>, now: Instant) {
        if self.flying.load(Ordering::Acquire)
            || self.now_ms(now) < self.not_before_ms.load(Ordering::Relaxed)
        {
            return;
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let mut slot = lock(&self.flight);
        if slot.is_some() {
            return;
        }
        let seen = self.current.load().as_ref().map(|t| t.id);
        self.start_flight(&mut slot, Reason::Proactive, seen, None);
    }

    /// Start the detached fetch and put it in `slot` (held by the caller).
    fn start_flight(
        self: &Arc<Self>,
        slot: &mut Option<Flight>,
        reason: Reason,
        proactive_seen: Option<u64>,
        rejected: Option<HeaderValue>,
    ) -> Flight {
        let id = NEXT_FLIGHT.fetch_add(1, Ordering::Relaxed);
        let this = Arc::clone(self);
        let name = self.profile.name;
        let task = async move {
            let _guard = FlightGuard {
                manager: Arc::clone(&this),
                id,
                proactive: reason == Reason::Proactive,
            };
            this.run_fetch(reason, proactive_seen, rejected).await
        };
        let outcome: BoxFuture<'static, Outcome> = match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let join = handle.spawn(task);
                async move {
                    join.await.unwrap_or_else(|e| {
                        let why = if e.is_panic() {
                            "the token fetch panicked"
                        } else {
                            "the token fetch was cancelled (runtime shut down)"
                        };
                        Err(Error::new(ErrorKind::Transient, name, why))
                    })
                }
                .boxed()
            }
            // Not inside Tokio: the first waiter drives the fetch.
            Err(_) => task.boxed(),
        };
        let flight = Flight {
            id,
            outcome: outcome.shared(),
        };
        *slot = Some(flight.clone());
        self.flying.store(true, Ordering::Release);
        flight
    }

    /// The body of a flight: fetch (bounded in time), publish, account.
    async fn run_fetch(
        self: &Arc<Self>,
        reason: Reason,
        proactive_seen: Option<u64>,
        rejected: Option<HeaderValue>,
    ) -> Outcome {
        let now = self.clock.now();
        if reason == Reason::Proactive
            && let Some(t) = self.current.load_full()
            && now < t.usable_until
            && (Some(t.id) != proactive_seen || now < t.refresh_at)
        {
            return Ok(t);
        }
        let span = info_span!("auth.fetch", provider = self.profile.name, reason = ?reason);
        let fetch = async {
            match &self.store {
                Some(store) => self.fetch_through_store(store.as_ref(), rejected).await,
                None => self.fetch_direct().await,
            }
        };
        let outcome = match tokio::time::timeout(self.config.fetch_timeout, fetch)
            .instrument(span)
            .await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::new(
                ErrorKind::Transient,
                self.profile.name,
                format!(
                    "the token fetch took longer than {:?}",
                    self.config.fetch_timeout
                ),
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
        outcome
    }
}

/// Clears the in-flight slot when the flight ends — normally, by panic, or
/// because its runtime shut down — so the next caller starts a new one.
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
        let mut slot = lock(&self.manager.flight);
        if slot.as_ref().is_some_and(|f| f.id == self.id) {
            *slot = None;
            self.manager.flying.store(false, Ordering::Release);
        }
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
    }
}
