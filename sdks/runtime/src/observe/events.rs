//! The events of a call and of a token fetch, as one interface: every
//! sink — the counters, OpenTelemetry, the log — implements [`Observe`],
//! and the code that does the work reports each event once, to
//! [`Observer`](super::observer::Observer), which hands it to all three.
//! A new signal is a new method here (a no-op by default) and an
//! implementation in the sinks that care — never an edit at each place
//! the event happens.

use std::time::Duration;

use reqwest::Request;

pub(crate) use super::payload::{
    Answered, Attempt, CallEnd, CallStart, Reason, Resend, RetryReason,
};
#[cfg(feature = "otel")]
pub(crate) use super::telemetry::call_trace::CallTrace;
use crate::base::error::Error;

/// What a call keeps between its events for the sinks that need it (its
/// spans and its timings, with the `otel` feature): owned by the call,
/// handed to every call event, ended however the call ends. (Not a unit
/// struct: made with `CallTrace::default()` where the `otel` one is.)
#[cfg(not(feature = "otel"))]
#[derive(Debug, Default)]
pub(crate) struct CallTrace(());

/// What happens during a call and a token fetch. Every method is a no-op
/// unless a sink implements it.
pub(crate) trait Observe {
    /// A call starts: `trace` is its own, empty until a sink fills it.
    #[inline(always)]
    fn call_started(&self, _trace: &mut CallTrace, _call: CallStart<'_>) {}
    /// An attempt of a call goes on the wire (retries included), with its
    /// credentials on: `resend` says why it is not the first.
    #[inline(always)]
    fn attempt_started(
        &self,
        _trace: &mut CallTrace,
        _at: Attempt<'_>,
        _request: &mut Request,
        _resend: Option<Resend>,
    ) {
    }
    /// An attempt came back (a token answer: its body read too).
    #[inline(always)]
    fn attempt_answered(&self, _trace: &mut CallTrace, _at: Attempt<'_>, _answer: Answered<'_>) {}
    /// The call ends with `end` (a call dropped before this ends when its
    /// `trace` drops).
    #[inline(always)]
    fn call_ended(&self, _trace: &mut CallTrace, _end: CallEnd<'_>) {}
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
