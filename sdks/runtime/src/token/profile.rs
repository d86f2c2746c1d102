//! What differs between providers' token handling — data, not code — and
//! the timing rules every provider shares.

use std::time::Duration;

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
    /// How long before expiry the proactive refresh starts (capped at
    /// [`MAX_LEAD_FRACTION`] of the lifetime, jittered by up to
    /// [`LEAD_JITTER`]).
    pub refresh_lead: Lead,
    /// Lifetime assumed for a token that states no expiry at all.
    pub assumed_lifetime: Duration,
    /// Environment variable naming the base URL, for `from_env`.
    pub base_url_env: &'static str,
    /// Documented sandbox base URL, when the docs name one
    /// ([`Environment::Sandbox`](crate::Environment::Sandbox)).
    pub sandbox_url: Option<&'static str>,
    /// Documented production base URL, when the docs name one
    /// ([`Environment::Production`](crate::Environment::Production)).
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
