//! Tokens and the per-principal token cache.
//!
//! - this file: what a provider supplies ([`Profile`], [`TokenFlow`],
//!   [`Issued`]) and what the cache hands out ([`Token`]);
//! - `manager.rs`: [`TokenManager`] — the lock-free hot path, detached
//!   single-flight fetches, proactive refresh, 401 invalidation;
//! - `fetch.rs`: one fetch — refresh token or login, direct or through a
//!   shared store;
//! - `source.rs`: [`TokenSource`] — what a fetch runs with (the triggering
//!   client's flow, fetch timeout and timer);
//! - `timing.rs`: expiry, refresh lead, expiry margin;
//! - `backoff.rs`: login backoff (account-lockout protection).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use reqwest::header::HeaderValue;

use crate::error::Error;
use crate::expiry::{Expiry, ExpiryHints, ExpirySource};
use crate::secret::Secret;

mod backoff;
mod fetch;
mod manager;
mod source;
mod timing;

pub use backoff::{LOGIN_BACKOFF_INITIAL, LOGIN_BACKOFF_MAX};
pub use fetch::MALFORMED_RETRIES;
pub use manager::{DEFAULT_FETCH_TIMEOUT, FLIGHT_GRACE, ManagerConfig, TokenFuture, TokenManager};
pub use source::TokenSource;
pub use timing::{DEFAULT_MARGIN_FRACTION, DEFAULT_MAX_MARGIN, ExpiryMargin};

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
/// Jitter takes up to this fraction off the lead (AWS: up to 50 % of the
/// buffer), so a fleet started together does not refresh in lockstep.
pub const LEAD_JITTER: f64 = 0.5;
/// A lead never exceeds this fraction of the lifetime, so a short token
/// configured with a long lead (exirom's one day) still serves most of its
/// life: with a 50 % cap, exirom's 2-second test tokens were refreshed at
/// 25–50 % of their life, three logins per lifetime.
pub const MAX_LEAD_FRACTION: f64 = 0.2;

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
    /// When a background refresh starts (monotonic clock).
    refresh_at: Instant,
    /// Past this instant the token is no longer attached: the expiry
    /// margin, so a request never leaves in the token's last moments.
    usable_until: Instant,
    /// When this process received it.
    received: Instant,
    /// Its stated lifetime was below [`MIN_TOKEN_LIFETIME`] and was raised:
    /// a 401 for it says nothing about the credentials.
    floored: bool,
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
    /// When the token stops being valid (monotonic clock).
    pub fn deadline(&self) -> Instant {
        self.expiry.deadline
    }
    /// When a background refresh starts (monotonic clock).
    pub fn refresh_at(&self) -> Instant {
        self.refresh_at
    }
    /// When the runtime stops attaching it (the expiry margin before
    /// [`Token::deadline`]); callers after this wait for a fresh token.
    pub fn usable_until(&self) -> Instant {
        self.usable_until
    }
    pub fn expiry_source(&self) -> ExpirySource {
        self.expiry.source
    }
    /// Unique per fetched token within a process.
    pub fn id(&self) -> u64 {
        self.id
    }
    /// How long the provider said it lives, from receipt.
    pub fn lifetime(&self) -> Duration {
        self.expiry.lifetime
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

/// `Bearer <token>` as a sensitive header value. A token with characters
/// not allowed in a header becomes an empty (rejected) value, never a panic.
pub fn bearer_header(token: &Secret) -> HeaderValue {
    crate::header::bearer_value(token.expose()).unwrap_or_else(|| HeaderValue::from_static(""))
}
