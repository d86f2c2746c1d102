//! The events of a call and of a token fetch, as one interface: every
//! sink — the counters, OpenTelemetry, the log — implements [`Observe`],
//! and the code that does the work reports each event once, to
//! [`Observer`](super::observer::Observer), which hands it to all three.
//! A new signal is a new method here (a no-op by default) and an
//! implementation in the sinks that care — never an edit at each place
//! the event happens.

use std::time::Duration;

use crate::base::error::Error;

/// Which attempt of which call an event is about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    pub(crate) provider: &'static str,
    pub(crate) operation: &'a str,
    /// 1 for the first attempt.
    pub(crate) number: u32,
}

/// Why a call sends its request again after waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryReason {
    /// A transient status (408, 429, 5xx but 501).
    Status(u16),
    /// The attempt timed out.
    Timeout,
    /// The connection failed or broke.
    Connection,
}

/// Why a token fetch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    Missing,
    Expired,
    Proactive,
    Unauthorized,
}

impl Reason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::Expired => "expired",
            Reason::Proactive => "proactive",
            Reason::Unauthorized => "unauthorized",
        }
    }
}

/// What happens during a call and a token fetch. Every method is a no-op
/// unless a sink implements it.
pub(crate) trait Observe {
    /// An attempt of a call goes on the wire (retries included).
    #[inline(always)]
    fn attempt_sent(&self) {}
    /// A bearer came from the cache without waiting.
    #[inline(always)]
    fn token_hit(&self) {}
    /// A 401 for a bearer: the token is dropped, credentials renewed, the
    /// request sent once more.
    #[inline(always)]
    fn renewing(&self, _at: Attempt<'_>) {}
    /// Renewing after a 401 failed: the 401 is the call's answer.
    #[inline(always)]
    fn renewal_failed(&self, _provider: &'static str, _error: &Error) {}
    /// A transient failure: the call waits `delay`, then sends again.
    #[inline(always)]
    fn retrying(&self, _at: Attempt<'_>, _reason: RetryReason, _delay: Duration) {}
    /// A fetch sends a login.
    #[inline(always)]
    fn login_sent(&self, _provider: &'static str) {}
    /// A fetch sends a refresh-token exchange.
    #[inline(always)]
    fn refresh_sent(&self, _provider: &'static str) {}
    /// A fetch failed; the current token, if any, stays.
    #[inline(always)]
    fn fetch_failed(&self, _provider: &'static str, _reason: Reason, _error: &Error) {}
    /// The cached token was dropped after the provider refused it (401).
    #[inline(always)]
    fn invalidated(&self, _provider: &'static str) {}
    /// A background refresh starts ahead of expiry.
    #[inline(always)]
    fn proactive_refresh(&self) {}
    /// A fetch was refused by the login backoff (no login sent).
    #[inline(always)]
    fn login_backoff(&self) {}
    /// A principal's cache was made (+1) or dropped (−1).
    #[inline(always)]
    fn principal(&self, _delta: i64) {}
}
