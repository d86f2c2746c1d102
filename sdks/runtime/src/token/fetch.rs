//! One fetch, run inside a detached flight: refresh token or login, this
//! process alone or through the fleet's shared store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;
use tracing::{debug, warn};

use super::backoff::is_refusal;
use super::cached::{Token, bearer_header};
use super::flow::Issued;
use super::manager::TokenManager;
use super::profile::{MIN_TOKEN_LIFETIME, REFRESH_COOL_DOWN};
use super::source::TokenSource;
use super::timing::{schedule, schedule_shared};
use crate::base::error::{Error, ErrorKind};
use crate::base::expiry::{self, Expiry, ExpirySource};
use crate::base::secret::Secret;
use crate::observe::events::Observe as _;
use crate::token::store::{FetchFn, Outcome, Record, TokenStore, Wanted, unix_ms};

static NEXT_TOKEN_ID: AtomicU64 = AtomicU64::new(1);

/// Extra login attempts after a malformed or truncated token answer.
pub const MALFORMED_RETRIES: u32 = 2;

impl TokenManager {
    fn lock_state(&self) -> std::sync::MutexGuard<'_, super::manager::FetchState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// When the refresh token this cache holds expires (its JWT `exp`,
    /// unverified), if it holds one that says; for operators' tools
    /// (`payauth check`).
    pub fn refresh_token_expires_at(&self) -> Option<std::time::SystemTime> {
        let secs = self
            .lock_state()
            .refresh_token
            .as_ref()
            .and_then(|rt| crate::base::expiry::jwt_exp(rt.expose()))?;
        let secs = u64::try_from(secs).ok()?;
        std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs))
    }

    /// This process alone: ask the provider, cache the result.
    pub(super) async fn fetch_direct(&self, source: &TokenSource) -> Result<Arc<Token>, Error> {
        let refresh_token = self.lock_state().refresh_token.clone();
        let (issued, refresh_token) = self.obtain(refresh_token, source).await?;
        let received = self.clock.now();
        let expiry = self.expiry_of(&issued, received);
        self.lock_state().refresh_token = issued.refresh_token.clone().or(refresh_token);
        let floored = expiry.expired_on_arrival || expiry.lifetime <= MIN_TOKEN_LIFETIME;
        let times = self.schedule(received, &expiry);
        Ok(self.build(issued.access_token, expiry, times, received, floored))
    }

    /// Through the shared store: a token another process already fetched
    /// is reused; otherwise one process of the fleet fetches (with the
    /// fleet's latest refresh token) and publishes the result. A due but
    /// unexpired stored token serves when the fetch fails or another
    /// process is slow; a proactive refresh that finds the fleet busy keeps
    /// the current token.
    pub(super) async fn fetch_through_store(
        &self,
        store: &dyn TokenStore,
        rejected: Option<HeaderValue>,
        source: &TokenSource,
    ) -> Result<Arc<Token>, Error> {
        let rejected = rejected.or_else(|| self.lock_state().rejected.clone());
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
        let wall_now = move || unix_ms(clock.wall());
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
        self.lock_state().refresh_token = None;
        let fetch: FetchFn<'_> = Box::new(move |stored: Option<Record>| {
            Box::pin(async move {
                // The fleet's refresh token is the latest; ours may be spent.
                let stored_rt = stored.and_then(|r| r.refresh_token);
                let (issued, kept_rt) = self.obtain(stored_rt, source).await?;
                let received = self.clock.now();
                let expiry = self.expiry_of(&issued, received);
                let wall = unix_ms(self.clock.wall());
                // The refresh time of every process that shares this
                // record: the latest the jittered lead allows (the store's
                // lock, not jitter, keeps the fleet from fetching together).
                let (refresh_at, _) = schedule_shared(
                    self.profile.refresh_lead,
                    self.config.expiry_margin,
                    received,
                    expiry.deadline,
                    expiry.lifetime,
                );
                let lifetime_ms = i64::try_from(expiry.lifetime.as_millis()).unwrap_or(i64::MAX);
                let refresh_ms =
                    i64::try_from(refresh_at.saturating_duration_since(received).as_millis())
                        .unwrap_or(i64::MAX);
                let refresh_token = issued.refresh_token.or(kept_rt);
                // A JWT refresh token says how long the store keeps it.
                let refresh_token_expires_at_unix_ms = refresh_token
                    .as_ref()
                    .and_then(|rt| expiry::jwt_exp(rt.expose()))
                    .map(|secs| secs.saturating_mul(1000));
                Ok(Record {
                    access_token: issued.access_token,
                    refresh_token,
                    expires_at_unix_ms: wall.saturating_add(lifetime_ms),
                    refresh_at_unix_ms: wall.saturating_add(refresh_ms),
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
        let until = |ms: i64| {
            now.checked_add(Duration::from_millis(ms.saturating_sub(wall).max(0) as u64))
                .unwrap_or(now)
        };
        let mut expiry = Expiry {
            deadline: until(record.expires_at_unix_ms),
            lifetime: Duration::from_millis(
                record.expires_at_unix_ms.saturating_sub(wall).max(0) as u64
            ),
            source: ExpirySource::UnixSeconds,
            expired_on_arrival: record.expires_at_unix_ms <= wall,
        };
        let floored = expiry.lifetime < MIN_TOKEN_LIFETIME;
        if floored {
            expiry.deadline = now + MIN_TOKEN_LIFETIME;
            expiry.lifetime = MIN_TOKEN_LIFETIME;
        }
        let (_, usable_until) = self.schedule(now, &expiry);
        let mut refresh_at = until(record.refresh_at_unix_ms).min(usable_until);
        if stale {
            // Due already: try again after a pause, not on every call.
            refresh_at = now
                .checked_add(REFRESH_COOL_DOWN)
                .unwrap_or(now)
                .min(usable_until);
        }
        self.lock_state().refresh_token = record.refresh_token;
        Ok(self.build(
            record.access_token,
            expiry,
            (refresh_at, usable_until),
            now,
            floored,
        ))
    }

    /// Refresh token first when there is one; a login otherwise, or when
    /// the refresh token is refused (any non-transient failure), or when a
    /// transient refresh failure leaves no usable access token. Returns
    /// the refresh token still worth keeping when the result has none.
    async fn obtain(
        &self,
        refresh_token: Option<Secret>,
        source: &TokenSource,
    ) -> Result<(Issued, Option<Secret>), Error> {
        let mut kept = None;
        if let Some(rt) = refresh_token
            && let Some(result) = self.refresh_with(&rt, source).await
        {
            match result {
                Ok(issued) => return Ok((self.checked(issued)?, None)),
                Err(e) if !e.is_transient() => {
                    self.lock_state().refresh_token = None;
                    debug!(provider = self.profile.name, kind = ?e.kind(), "refresh token refused; logging in");
                }
                Err(e) => {
                    // Transient: the refresh token may still be good.
                    let now = self.clock.now();
                    let valid = self
                        .current
                        .load()
                        .as_ref()
                        .is_some_and(|t| now < t.expiry.deadline);
                    if valid {
                        self.lock_state().refresh_token = Some(rt);
                        return Err(e);
                    }
                    debug!(
                        provider = self.profile.name,
                        "refresh failed and the token has expired; logging in"
                    );
                    kept = Some(rt);
                }
            }
        }
        // Bound first: the guard must not live into the block, which locks again.
        let blocked = self.lock_state().backoff.check(self.clock.now());
        if let Some(e) = blocked {
            if kept.is_some() {
                self.lock_state().refresh_token = kept;
            }
            return Err(e);
        }
        self.observer(source).login_sent(self.profile.name);
        match self.login_retrying(source).await {
            Ok(issued) => {
                self.lock_state().backoff.succeeded();
                Ok((issued, kept))
            }
            Err(e) => {
                let mut state = self.lock_state();
                if is_refusal(e.kind()) {
                    state.refresh_token = None;
                    return Err(state.backoff.refused(&e, self.clock.now()));
                }
                if kept.is_some() {
                    state.refresh_token = kept;
                }
                Err(e)
            }
        }
    }

    /// A login; a malformed or truncated answer (a token call is always
    /// safe to repeat) is tried again, [`MALFORMED_RETRIES`] times at most,
    /// before it is surfaced — to every waiter of the flight alike.
    async fn login_retrying(&self, source: &TokenSource) -> Result<Issued, Error> {
        let mut attempt = 0;
        loop {
            let result = source.flow().login().await.and_then(|i| self.checked(i));
            match result {
                Err(e)
                    if e.kind() == ErrorKind::MalformedResponse && attempt < MALFORMED_RETRIES =>
                {
                    attempt += 1;
                    debug!(
                        provider = self.profile.name,
                        attempt, "malformed token answer; asking again"
                    );
                    source.sleep_for(Duration::from_millis(50 << attempt)).await;
                }
                other => return other,
            }
        }
    }

    async fn refresh_with(
        &self,
        rt: &Secret,
        source: &TokenSource,
    ) -> Option<Result<Issued, Error>> {
        let fut = source.flow().refresh(rt)?;
        self.observer(source).refresh_sent(self.profile.name);
        Some(fut.await)
    }

    fn checked(&self, issued: Issued) -> Result<Issued, Error> {
        // Never cached: a token that cannot form a header would fail every call.
        if let Some(defect) = crate::base::http::header::token_defect(issued.access_token.expose())
        {
            let message = format!("the provider returned an unusable access token: {defect}");
            return Err(Error::new(
                ErrorKind::MalformedResponse,
                self.profile.name,
                message,
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

    fn schedule(&self, received: Instant, expiry: &Expiry) -> (Instant, Instant) {
        schedule(
            self.profile.refresh_lead,
            self.config.expiry_margin,
            received,
            expiry.deadline,
            expiry.lifetime,
        )
    }

    /// `times`: (refresh_at, usable_until).
    fn build(
        &self,
        value: Secret,
        expiry: Expiry,
        (refresh_at, usable_until): (Instant, Instant),
        received: Instant,
        floored: bool,
    ) -> Arc<Token> {
        let header = bearer_header(&value);
        Arc::new(Token {
            value,
            header,
            expiry,
            refresh_at,
            usable_until,
            received,
            floored,
            id: NEXT_TOKEN_ID.fetch_add(1, Ordering::Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use futures::future::BoxFuture;

    use super::super::{Lead, Profile, TokenFlow};
    use super::*;
    use crate::base::expiry::ExpiryHints;
    use crate::base::time::{Clock, SimulatedTime};
    use crate::observe::metrics::Metrics;
    use crate::token::principal::Principal;

    const PROFILE: Profile = Profile {
        name: "test",
        refresh_lead: Lead::Fraction(0.15),
        assumed_lifetime: Duration::from_secs(30),
        base_url_env: "TEST_BASE_URL",
        sandbox_url: None,
        production_url: None,
    };

    /// pledg's production answer: an opaque token, `expires_in: 600`.
    struct TenMinutes;

    impl TokenFlow for TenMinutes {
        fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
            Box::pin(async {
                Ok(Issued {
                    access_token: Secret::new("opaque-access-token"),
                    refresh_token: None,
                    hints: ExpiryHints {
                        relative: Some(Duration::from_secs(600)),
                        ..ExpiryHints::default()
                    },
                })
            })
        }
    }

    /// A store that lets every fetch run and keeps what it would publish.
    #[derive(Debug, Default)]
    struct Keeps(Mutex<Vec<Record>>);

    impl TokenStore for Keeps {
        fn key_for(&self, _: &Principal) -> String {
            "test:key".into()
        }

        fn get_or_fetch<'a>(
            &'a self,
            _key: &'a str,
            _wanted: Wanted<'a>,
            fetch: FetchFn<'a>,
        ) -> futures::future::BoxFuture<'a, Result<Outcome, Error>> {
            Box::pin(async move {
                let record = fetch(None).await?;
                self.0.lock().expect("records").push(record.clone());
                Ok(Outcome::Fetched(record))
            })
        }
    }

    /// The record a fleet shares is due at the latest point of the jittered
    /// lead — 92.5 % of a 600 s token's life, every time — and so is the
    /// fetching process's own copy; a token fetched for this process alone
    /// keeps its jitter (85–92.5 %). On simulated time: nothing sleeps.
    #[tokio::test]
    async fn a_shared_record_is_due_at_the_latest_point_of_the_lead() {
        let time = Arc::new(SimulatedTime::new());
        let clock: Arc<dyn Clock> = time.clone();
        let store = Arc::new(Keeps::default());
        let manager = TokenManager::with_store(
            PROFILE,
            Arc::new(TenMinutes),
            Arc::clone(&clock),
            Arc::new(Metrics::default()),
            Some(store.clone()),
            "test:key".into(),
        );
        for round in 0..20 {
            let wall = unix_ms(clock.wall());
            let token = manager.token().await.expect("token");
            let record = store.0.lock().expect("records")[round].clone();
            assert_eq!(record.expires_at_unix_ms - wall, 600_000);
            assert_eq!(record.refresh_at_unix_ms - wall, 555_000, "round {round}");
            let now = clock.now();
            assert_eq!(token.refresh_at() - now, Duration::from_secs(555));
            assert_eq!(token.usable_until() - now, Duration::from_secs(590));
            // Past its refresh time (and its margin): the next call fetches.
            time.advance(Duration::from_secs(591));
        }

        let alone = TokenManager::new(
            PROFILE,
            Arc::new(TenMinutes),
            Arc::clone(&clock),
            Arc::new(Metrics::default()),
        );
        for _ in 0..50 {
            let token = alone.token().await.expect("token");
            let due = token.refresh_at() - clock.now();
            assert!(
                due >= Duration::from_secs(510) && due <= Duration::from_secs(555),
                "{due:?}"
            );
            time.advance(Duration::from_secs(591));
        }
    }
}
