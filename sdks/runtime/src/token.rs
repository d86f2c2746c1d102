//! The token cache for one principal: lock-free reads, single-flight
//! fetches, proactive background refresh, 401 invalidation.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use futures::future::BoxFuture;
use rand::Rng;
use reqwest::header::HeaderValue;
use tracing::{Instrument, debug, info_span, warn};

use crate::clock::Clock;
use crate::error::{Error, ErrorKind};
use crate::expiry::{self, Expiry, ExpiryHints, ExpirySource};
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::store::{FetchFn, Outcome, Record, TokenStore, Wanted, unix_ms};

/// How far ahead of expiry a provider's tokens are refreshed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lead {
    /// A fixed lead (exirom asks for one day).
    Fixed(Duration),
    /// A fraction of the token's lifetime (short-lived tokens).
    Fraction(f64),
}

/// What differs between providers' token handling: data, not code.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// Provider name, used in errors, logs and cache keys.
    pub name: &'static str,
    pub refresh_lead: Lead,
    /// Lifetime assumed for a token that states no expiry at all.
    pub assumed_lifetime: Duration,
    /// Environment variable naming the base URL, for `from_env`.
    pub base_url_env: &'static str,
    /// Documented sandbox and production base URLs, when the docs name them.
    pub sandbox_url: Option<&'static str>,
    pub production_url: Option<&'static str>,
}

/// Tokens never count as fresh for less than this, whatever they say: a
/// token that arrives already expired (clock skew, provider bug) is used
/// for this long and then fetched again — at most one fetch per floor, never
/// a refresh loop. The provider's 401 is the judge meanwhile (and 401
/// recovery retries once, no more).
pub const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(1);
/// After a failed background refresh, wait this long before the next one
/// (Google: 10 s, Azure: 30 s); the current token keeps serving meanwhile.
pub const REFRESH_COOL_DOWN: Duration = Duration::from_secs(10);
/// Jitter adds up to this fraction of the lead (AWS: up to 50 % of the
/// buffer), so a fleet started together does not refresh in lockstep.
pub const LEAD_JITTER: f64 = 0.5;
/// A lead never exceeds this fraction of the lifetime, so a short token
/// configured with a long lead still serves most of its life.
pub const MAX_LEAD_FRACTION: f64 = 0.5;

/// What a provider's auth endpoint returned.
#[derive(Clone)]
pub struct Issued {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub hints: ExpiryHints,
}

impl Issued {
    /// A bare access token whose expiry is only in its JWT `exp`.
    pub fn jwt(token: impl Into<String>) -> Self {
        Issued {
            access_token: Secret::new(token),
            refresh_token: None,
            hints: ExpiryHints::default(),
        }
    }
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("hints", &self.hints)
            .finish()
    }
}

/// How one provider obtains tokens. Provider crates implement it in a few
/// lines over their generated login operation; everything else (caching,
/// single-flight, refresh timing, fallbacks) is the runtime's.
pub trait TokenFlow: Send + Sync + 'static {
    /// A full login with the configured credentials.
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>>;

    /// Exchange a refresh token, if the provider has them. `None`: it has not.
    fn refresh<'a>(
        &'a self,
        _refresh_token: &'a Secret,
    ) -> Option<BoxFuture<'a, Result<Issued, Error>>> {
        None
    }
}

/// A shared flow is a flow.
impl<T: TokenFlow + ?Sized> TokenFlow for Arc<T> {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        (**self).login()
    }
    fn refresh<'a>(
        &'a self,
        refresh_token: &'a Secret,
    ) -> Option<BoxFuture<'a, Result<Issued, Error>>> {
        (**self).refresh(refresh_token)
    }
}

/// A cached access token.
pub struct Token {
    value: Secret,
    header: HeaderValue,
    expiry: Expiry,
    refresh_at: Instant,
    id: u64,
}

impl Token {
    /// The raw token, for hand-made requests.
    pub fn secret(&self) -> &Secret {
        &self.value
    }
    /// `Bearer <token>`, marked sensitive.
    pub fn header_value(&self) -> &HeaderValue {
        &self.header
    }
    /// When the token stops being usable (monotonic clock).
    pub fn deadline(&self) -> Instant {
        self.expiry.deadline
    }
    /// When a background refresh starts (monotonic clock).
    pub fn refresh_at(&self) -> Instant {
        self.refresh_at
    }
    pub fn expiry_source(&self) -> ExpirySource {
        self.expiry.source
    }
    /// Unique per fetched token within a process.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &self.value)
            .field("expiry", &self.expiry)
            .field("id", &self.id)
            .finish()
    }
}

static NEXT_TOKEN_ID: AtomicU64 = AtomicU64::new(1);

/// State only touched by the single fetcher.
struct FetchState {
    refresh_token: Option<Secret>,
    /// Outcome of the latest completed fetch, for callers that waited on it.
    last_error: Option<Error>,
}

/// Why a fetch happens, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Missing,
    Expired,
    Proactive,
    Unauthorized,
}

/// The token cache of one principal (provider, environment, credential
/// identity, end-user customer).
pub struct TokenManager {
    profile: Profile,
    flow: Arc<dyn TokenFlow>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    current: ArcSwapOption<Token>,
    /// Completed fetch attempts; waiters compare it to know one finished.
    completed: AtomicU64,
    fetch: tokio::sync::Mutex<FetchState>,
    refreshing: AtomicBool,
    /// Milliseconds since `epoch` before which no background refresh starts.
    not_before_ms: AtomicU64,
    epoch: Instant,
    /// Second-level cache shared by a fleet, and this principal's key in it.
    store: Option<Arc<dyn TokenStore>>,
    key: String,
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
    pub fn new(
        profile: Profile,
        flow: Arc<dyn TokenFlow>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        Self::with_store(profile, flow, clock, metrics, None, String::new())
    }

    /// A manager whose fetches go through `store` under `key` (a principal
    /// key: hashed, never a raw credential).
    pub fn with_store(
        profile: Profile,
        flow: Arc<dyn TokenFlow>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        store: Option<Arc<dyn TokenStore>>,
        key: String,
    ) -> Arc<Self> {
        let epoch = clock.now();
        Arc::new(TokenManager {
            profile,
            flow,
            clock,
            metrics,
            current: ArcSwapOption::empty(),
            completed: AtomicU64::new(0),
            fetch: tokio::sync::Mutex::new(FetchState {
                refresh_token: None,
                last_error: None,
            }),
            refreshing: AtomicBool::new(false),
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

    /// A usable token. The hot path — a cached token before its refresh
    /// time — is one atomic load, one clock read and a reference-count
    /// bump: no lock, no I/O, no allocation.
    pub async fn token(self: &Arc<Self>) -> Result<Arc<Token>, Error> {
        let now = self.clock.now();
        let guard = self.current.load();
        if let Some(token) = guard.as_ref() {
            if now < token.refresh_at {
                return Ok(Arc::clone(token));
            }
            if now < token.expiry.deadline {
                self.refresh_in_background(now);
                return Ok(Arc::clone(token));
            }
        }
        let reason = if guard.is_some() {
            Reason::Expired
        } else {
            Reason::Missing
        };
        drop(guard);
        // Boxed: the slow path's state (mutex wait, provider call) stays out
        // of this future, which every caller embeds — 448 bytes copied per
        // cached read otherwise.
        Box::pin(self.fetch(reason, None, None)).await
    }

    /// The cached token, if any, without fetching (expired ones included).
    pub fn cached(&self) -> Option<Arc<Token>> {
        self.current.load_full()
    }

    /// Drop `used` after the provider rejected it with 401 — only if it is
    /// still the cached one (a newer token fetched by another task stays),
    /// then return a fresh token through single-flight.
    pub async fn renew_after_unauthorized(
        self: &Arc<Self>,
        used: &HeaderValue,
    ) -> Result<Arc<Token>, Error> {
        let current = self.current.load_full();
        if let Some(cur) = &current {
            if cur.header != used && self.clock.now() < cur.expiry.deadline {
                // Someone already replaced the rejected token.
                return Ok(Arc::clone(cur));
            }
            if cur.header == used {
                self.current.compare_and_swap(&current, None);
                self.metrics.inc_invalidations();
            }
        }
        self.fetch(Reason::Unauthorized, None, Some(used.clone()))
            .await
    }

    fn now_ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_millis() as u64
    }

    fn refresh_in_background(self: &Arc<Self>, now: Instant) {
        if self.now_ms(now) < self.not_before_ms.load(Ordering::Relaxed) {
            return;
        }
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.refreshing.store(false, Ordering::Release);
            return;
        };
        let this = Arc::clone(self);
        let seen = self.current.load().as_ref().map(|t| t.id);
        handle.spawn(async move {
            let result = this.fetch(Reason::Proactive, seen, None).await;
            if result.is_err() {
                let retry_at = this.now_ms(this.clock.now()) + REFRESH_COOL_DOWN.as_millis() as u64;
                this.not_before_ms.store(retry_at, Ordering::Relaxed);
            }
            this.refreshing.store(false, Ordering::Release);
        });
    }

    /// Single-flight fetch. `proactive_seen`: for background refreshes, the
    /// id of the token that was due (a newer one makes the refresh moot).
    async fn fetch(
        self: &Arc<Self>,
        reason: Reason,
        proactive_seen: Option<u64>,
        rejected: Option<HeaderValue>,
    ) -> Result<Arc<Token>, Error> {
        let before = self.completed.load(Ordering::Acquire);
        let mut state = self.fetch.lock().await;
        let now = self.clock.now();
        let current = self.current.load_full();
        let usable = current.as_ref().filter(|t| now < t.expiry.deadline);
        if self.completed.load(Ordering::Acquire) != before {
            // A fetch finished while we waited: share its outcome.
            if let Some(t) = usable {
                return Ok(Arc::clone(t));
            }
            if let Some(e) = &state.last_error {
                return Err(e.clone());
            }
        }
        match reason {
            Reason::Proactive => {
                if let Some(t) = usable
                    && (Some(t.id) != proactive_seen || now < t.refresh_at)
                {
                    return Ok(Arc::clone(t));
                }
            }
            Reason::Unauthorized => {}
            Reason::Missing | Reason::Expired => {
                if let Some(t) = usable {
                    return Ok(Arc::clone(t));
                }
            }
        }
        let span = info_span!("auth.fetch", provider = self.profile.name, reason = ?reason);
        let rejected = match reason {
            Reason::Unauthorized => rejected,
            _ => None,
        };
        let outcome = match &self.store {
            Some(store) => {
                self.fetch_through_store(store.as_ref(), &mut state, rejected)
                    .instrument(span)
                    .await
            }
            None => self.fetch_direct(&mut state).instrument(span).await,
        };
        self.completed.fetch_add(1, Ordering::AcqRel);
        match outcome {
            Ok(token) => {
                state.last_error = None;
                self.current.store(Some(Arc::clone(&token)));
                Ok(token)
            }
            Err(e) => {
                warn!(provider = self.profile.name, reason = ?reason, kind = ?e.kind(), "token fetch failed: {e}");
                self.metrics.inc_fetch_failures();
                state.last_error = Some(e.clone());
                // A failed refresh never displaces a still-valid token:
                // `current` is left as it was.
                Err(e)
            }
        }
    }

    /// This process alone: ask the provider, cache the result.
    async fn fetch_direct(&self, state: &mut FetchState) -> Result<Arc<Token>, Error> {
        let issued = self.obtain(state).await?;
        let received = self.clock.now();
        let expiry = self.expiry_of(&issued, received);
        if let Some(rt) = issued.refresh_token {
            state.refresh_token = Some(rt);
        }
        let refresh_at = expiry.deadline - self.lead(expiry.lifetime);
        Ok(self.build(issued.access_token, expiry, refresh_at))
    }

    /// Through the shared store: a token another process already fetched
    /// is reused; otherwise one process of the fleet fetches (with the
    /// fleet's latest refresh token) and publishes the result. A due but
    /// unexpired stored token serves when the fetch fails or another
    /// process is slow; a proactive refresh that finds the fleet busy keeps
    /// the current token.
    async fn fetch_through_store(
        &self,
        store: &dyn TokenStore,
        state: &mut FetchState,
        rejected: Option<HeaderValue>,
    ) -> Result<Arc<Token>, Error> {
        // A token of our own to keep serving (a proactive refresh).
        let own = self.current.load_full().filter(|t| {
            self.clock.now() < t.expiry.deadline && rejected.as_ref().is_none_or(|h| t.header != h)
        });
        let clock = Arc::clone(&self.clock);
        let not_rejected = move |r: &Record| {
            rejected
                .as_ref()
                .is_none_or(|h| bearer_header(&r.access_token) != *h)
        };
        let wall_now = {
            let clock = Arc::clone(&clock);
            move || unix_ms(clock.wall())
        };
        let fresh = {
            let (wall_now, not_rejected) = (wall_now.clone(), not_rejected.clone());
            move |r: &Record| wall_now() < r.refresh_at_unix_ms && not_rejected(r)
        };
        let serviceable = {
            let (wall_now, not_rejected) = (wall_now.clone(), not_rejected.clone());
            move |r: &Record| wall_now() < r.expires_at_unix_ms && not_rejected(r)
        };
        // This process's refresh token may already be spent by another
        // process: only the stored (fleet-latest) one is used, so each
        // rotating refresh token is used by exactly one process. Without a
        // stored record (store down, wait timed out) the fetch logs in.
        state.refresh_token = None;
        let fetch: FetchFn<'_> = Box::new(move |stored: Option<Record>| {
            Box::pin(async move {
                // The fleet's refresh token is the latest; ours may be spent.
                let mut scratch = FetchState {
                    refresh_token: stored.and_then(|r| r.refresh_token),
                    last_error: None,
                };
                let issued = self.obtain(&mut scratch).await?;
                let received = self.clock.now();
                let expiry = self.expiry_of(&issued, received);
                let wall = unix_ms(self.clock.wall());
                let lifetime_ms = expiry.lifetime.as_millis() as i64;
                let lead_ms = self.lead(expiry.lifetime).as_millis() as i64;
                let refresh_token = issued.refresh_token.or(scratch.refresh_token);
                // A JWT refresh token says how long the store keeps it.
                let refresh_token_expires_at_unix_ms = refresh_token
                    .as_ref()
                    .and_then(|rt| expiry::jwt_exp(rt.expose()))
                    .map(|secs| secs.saturating_mul(1000));
                Ok(Record {
                    access_token: issued.access_token,
                    refresh_token,
                    expires_at_unix_ms: wall + lifetime_ms,
                    refresh_at_unix_ms: wall + lifetime_ms - lead_ms,
                    refresh_token_expires_at_unix_ms,
                })
            })
        });
        let wanted = Wanted {
            fresh: &fresh,
            serviceable: &serviceable,
            give_up_when_busy: own.is_some(),
        };
        let (record, stale) = match store.get_or_fetch(&self.key, wanted, fetch).await? {
            Outcome::Stored(r) | Outcome::Fetched(r) => (r, false),
            Outcome::Stale { record, error } => {
                if let Some(e) = error {
                    warn!(provider = self.profile.name, kind = ?e.kind(), "token fetch failed; serving the stored token until it expires: {e}");
                }
                (record, true)
            }
            Outcome::Busy => {
                if let Some(t) = own {
                    return Ok(t);
                }
                return Err(Error::new(
                    ErrorKind::Transient,
                    self.profile.name,
                    "another process is still fetching the token",
                ));
            }
        };
        let now = self.clock.now();
        let wall = unix_ms(self.clock.wall());
        let until = |ms: i64| now + Duration::from_millis(ms.saturating_sub(wall).max(0) as u64);
        let mut expiry = Expiry {
            deadline: until(record.expires_at_unix_ms),
            lifetime: Duration::from_millis(
                record.expires_at_unix_ms.saturating_sub(wall).max(0) as u64
            ),
            source: ExpirySource::UnixSeconds,
            expired_on_arrival: record.expires_at_unix_ms <= wall,
        };
        if expiry.lifetime < MIN_TOKEN_LIFETIME {
            expiry.deadline = now + MIN_TOKEN_LIFETIME;
        }
        let mut refresh_at = until(record.refresh_at_unix_ms).min(expiry.deadline);
        if stale {
            // Due already: try again after a pause, not on every call.
            refresh_at = (now + REFRESH_COOL_DOWN).min(expiry.deadline);
        }
        state.refresh_token = record.refresh_token;
        Ok(self.build(record.access_token, expiry, refresh_at))
    }

    /// Refresh token first when there is one; a login otherwise, or when
    /// the refresh token is expired or rejected.
    async fn obtain(&self, state: &mut FetchState) -> Result<Issued, Error> {
        if let Some(rt) = state.refresh_token.take() {
            let outcome = match self.flow.refresh(&rt) {
                Some(fut) => {
                    self.metrics.inc_refreshes();
                    debug!(
                        provider = self.profile.name,
                        "refreshing with refresh token"
                    );
                    Some(fut.await)
                }
                None => None,
            };
            if let Some(result) = outcome {
                match result {
                    Ok(issued) => return self.checked(issued),
                    Err(e)
                        if matches!(
                            e.kind(),
                            ErrorKind::RefreshTokenExpired
                                | ErrorKind::InvalidCredentials
                                | ErrorKind::Unauthorized
                                | ErrorKind::BadRequest
                        ) =>
                    {
                        debug!(provider = self.profile.name, kind = ?e.kind(), "refresh token refused; logging in");
                    }
                    Err(e) => {
                        // Transient: the refresh token may still be good.
                        state.refresh_token = Some(rt);
                        return Err(e);
                    }
                }
            }
        }
        self.metrics.inc_logins();
        debug!(provider = self.profile.name, "logging in");
        let issued = self.flow.login().await?;
        self.checked(issued)
    }

    fn checked(&self, issued: Issued) -> Result<Issued, Error> {
        if issued.access_token.is_empty() {
            return Err(Error::new(
                ErrorKind::MalformedResponse,
                self.profile.name,
                "the provider returned an empty access token",
            ));
        }
        Ok(issued)
    }

    /// The token's expiry (earliest source), floored at [`MIN_TOKEN_LIFETIME`].
    fn expiry_of(&self, issued: &Issued, received: Instant) -> Expiry {
        let mut expiry = expiry::resolve(
            issued.access_token.expose(),
            &issued.hints,
            self.clock.as_ref(),
            received,
            self.profile.assumed_lifetime,
        );
        if expiry.source == ExpirySource::Assumed {
            warn!(provider = self.profile.name, assumed = ?self.profile.assumed_lifetime, "token states no expiry; assuming the documented lifetime");
        }
        if expiry.lifetime < MIN_TOKEN_LIFETIME {
            warn!(provider = self.profile.name, lifetime = ?expiry.lifetime, expired_on_arrival = expiry.expired_on_arrival, "token (nearly) expired on arrival; using it for {MIN_TOKEN_LIFETIME:?} at most");
            expiry.deadline = received + MIN_TOKEN_LIFETIME;
            expiry.lifetime = MIN_TOKEN_LIFETIME;
        }
        expiry
    }

    fn build(&self, value: Secret, expiry: Expiry, refresh_at: Instant) -> Arc<Token> {
        let header = bearer_header(&value);
        Arc::new(Token {
            value,
            header,
            expiry,
            refresh_at,
            id: NEXT_TOKEN_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// The jittered refresh lead for a token of `lifetime`.
    fn lead(&self, lifetime: Duration) -> Duration {
        let base = match self.profile.refresh_lead {
            Lead::Fixed(d) => d,
            Lead::Fraction(f) => lifetime.mul_f64(f.clamp(0.0, 1.0)),
        };
        let capped = base.min(lifetime.mul_f64(MAX_LEAD_FRACTION));
        let jitter = rand::rng().random_range(0.0..=LEAD_JITTER);
        capped
            .mul_f64(1.0 + jitter)
            .min(lifetime.mul_f64(MAX_LEAD_FRACTION * (1.0 + LEAD_JITTER)))
    }
}

/// `Bearer <token>` as a sensitive header value. A token with characters
/// not allowed in a header becomes an empty (rejected) value, never a panic.
pub fn bearer_header(token: &Secret) -> HeaderValue {
    let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
        .unwrap_or_else(|_| HeaderValue::from_static(""));
    v.set_sensitive(true);
    v
}
