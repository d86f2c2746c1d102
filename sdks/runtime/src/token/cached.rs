//! What the cache hands out: a [`Token`].

use std::fmt;
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;

use crate::base::expiry::{Expiry, ExpirySource};
use crate::base::http::header::bearer_value;
use crate::base::secret::Secret;

/// A cached access token.
pub struct Token {
    pub(super) value: Secret,
    pub(super) header: HeaderValue,
    pub(super) expiry: Expiry,
    /// When a background refresh starts (monotonic clock).
    pub(super) refresh_at: Instant,
    /// Past this instant the token is no longer attached: the expiry
    /// margin, so a request never leaves in the token's last moments.
    pub(super) usable_until: Instant,
    /// When this process received it.
    pub(super) received: Instant,
    /// Its stated lifetime was below [`MIN_TOKEN_LIFETIME`] and was raised:
    /// a 401 for it says nothing about the credentials.
    pub(super) floored: bool,
    pub(super) id: u64,
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
    /// Where the token's deadline came from (its JWT `exp`, a field of the
    /// answer, or the assumed lifetime).
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
    bearer_value(token.expose()).unwrap_or_else(|| HeaderValue::from_static(""))
}
