//! The call policy: how often to retry, how long to wait, how long an
//! attempt and a call may take, how large an answer may be — each default
//! named here, with its reason.

use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::HeaderMap;

use crate::base::http::headers::retry_after;
use crate::base::time::duration::secs_f64_saturating;

/// Default per-attempt timeout of a provider call: every attempt of a call
/// the SDK's own HTTP client sends is bounded by it, and it is the
/// per-attempt bound [`RetryPolicy::call_budget`] assumes when the policy
/// sets none. Payment APIs answer in well under a second; 30 s leaves room
/// for a slow provider and still ends a hung connection.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default connect timeout (never longer than the per-attempt timeout): a
/// TCP + TLS handshake to a provider takes milliseconds; 10 s says the
/// host is unreachable.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default retries after the first attempt (Stainless SDKs: 2).
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// First backoff (Stainless: 0.5 s).
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// Backoff cap (Stainless: 8 s).
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(8);
/// No call spends longer than this retrying.
pub const DEFAULT_TOTAL_DEADLINE: Duration = Duration::from_secs(30);
/// A `Retry-After` longer than this ends the call (a `Transient` error
/// carrying the requested wait: [`Delay::TooLong`]), never an early retry.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Default longest one token fetch (a refresh-token call, then a login,
/// with their retries) may take: what the default policy allows two calls,
/// [`RetryPolicy::fetch_timeout`] of [`RetryPolicy::default`] (3 attempts
/// of 30 s and 30 s of waits, twice). An SDK client derives its own from
/// its login retry policy; a [`TokenManager`](crate::TokenManager) or
/// [`TokenSource`](crate::provider::TokenSource) made directly uses this.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(240);

/// Default cap on a token endpoint's response: a token response is a few
/// KiB (a JWT with claims, a refresh token); 1 MiB leaves room for any
/// provider's envelope and still bounds what a broken server costs us.
pub const DEFAULT_MAX_TOKEN_RESPONSE_BYTES: u64 = 1024 * 1024;
/// Default cap on an API response: payment APIs answer with orders,
/// customers and product pages of KiBs to a few MiB; 16 MiB is far above
/// any documented page and keeps one call's buffer bounded.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// The call policy of every HTTP attempt: bounded exponential backoff with
/// jitter ×(0.75–1.0); `retry-after-ms` and `Retry-After` (seconds or HTTP
/// date) win when present and ≤ the cap — a longer ask ends the call with
/// a typed `Transient` error carrying the requested wait, never an early
/// retry; a per-attempt timeout; response-size caps.
///
/// ```
/// use std::time::Duration;
/// let p = payauth_runtime::RetryPolicy::default().max_retries(3).initial_backoff(Duration::from_millis(10));
/// assert_eq!(p.max_retries, 3);
/// assert!(p.backoff(1) <= Duration::from_millis(10));
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: one attempt only). Default
    /// [`DEFAULT_MAX_RETRIES`], 2.
    pub max_retries: u32,
    /// The backoff before the first retry; each later one doubles, up to
    /// `max_backoff`, jittered ×(0.75–1.0). Default
    /// [`DEFAULT_INITIAL_BACKOFF`], 500 ms.
    pub initial_backoff: Duration,
    /// The longest backoff between two attempts (a `Retry-After` is capped
    /// by `max_retry_after` instead). Default
    /// [`DEFAULT_MAX_BACKOFF`], 8 s.
    pub max_backoff: Duration,
    /// The time a call may spend retrying, from its first attempt: a wait
    /// that would end past it is not taken and the last answer is the
    /// call's. Default [`DEFAULT_TOTAL_DEADLINE`], 30 s.
    pub total_deadline: Duration,
    /// The longest `Retry-After` (or `retry-after-ms`) honoured; a longer
    /// ask ends the call with a `Transient` error carrying it
    /// ([`Error::retry_after`](crate::Error::retry_after)). Default
    /// [`DEFAULT_MAX_RETRY_AFTER`], 60 s.
    pub max_retry_after: Duration,
    /// Retry non-idempotent calls (POST to a non-auth endpoint) after
    /// failures that may have reached the server (timeouts, 5xx). Off by
    /// default: a retried payment may be a double payment.
    pub retry_non_idempotent: bool,
    /// Per-attempt timeout put on every request that has none, so an
    /// application's own `reqwest::Client` without timeouts cannot hang a
    /// call. `None` (the default): the SDK builder's timeout
    /// ([`DEFAULT_TIMEOUT`], 30 s, unless set).
    pub attempt_timeout: Option<Duration>,
    /// Largest response body read from an API call, in bytes. Default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`], 16 MiB.
    pub max_response_bytes: u64,
    /// Largest response body read from a token endpoint, in bytes. Default
    /// [`DEFAULT_MAX_TOKEN_RESPONSE_BYTES`], 1 MiB.
    pub max_token_response_bytes: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            total_deadline: DEFAULT_TOTAL_DEADLINE,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            retry_non_idempotent: false,
            attempt_timeout: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_token_response_bytes: DEFAULT_MAX_TOKEN_RESPONSE_BYTES,
        }
    }
}

/// What to do before the next retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delay {
    /// Wait this long, then retry.
    Retry(Duration),
    /// The server asked for this wait, longer than
    /// [`RetryPolicy::max_retry_after`]: no retry now.
    TooLong(Duration),
}

impl RetryPolicy {
    /// No retries at all: one attempt per call, every other setting its
    /// default.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }
    /// Sets `max_retries`: retries after the first
    /// attempt (default 2).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }
    /// Sets `initial_backoff`, the wait before the
    /// first retry (default 500 ms).
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }
    /// Sets `max_backoff`, the cap of the doubling
    /// backoff (default 8 s).
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }
    /// Sets `total_deadline`, the time a call may
    /// spend retrying (default 30 s).
    pub fn total_deadline(mut self, d: Duration) -> Self {
        self.total_deadline = d;
        self
    }
    /// Sets `max_retry_after`, the longest
    /// `Retry-After` honoured; a longer one ends the call (default 60 s).
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }
    /// Sets `retry_non_idempotent`: whether a
    /// call that is not safe to repeat (a `POST` without an idempotency
    /// key) is retried after a failure that may have reached the server
    /// (default `false`: a retried payment may be a double payment).
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }
    /// Sets `attempt_timeout`, the per-attempt
    /// timeout of requests that carry none (default: the SDK builder's
    /// timeout, [`DEFAULT_TIMEOUT`]).
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = Some(d);
        self
    }
    /// `d` as the per-attempt timeout unless one is set.
    pub fn default_attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout.get_or_insert(d);
        self
    }
    /// Sets `max_response_bytes`, the cap on an
    /// API response body in bytes (default 16 MiB); a longer answer fails
    /// the call with `ErrorKind::TooLarge`.
    pub fn max_response_bytes(mut self, n: u64) -> Self {
        self.max_response_bytes = n;
        self
    }
    /// Sets `max_token_response_bytes`,
    /// the cap on a token endpoint's response body in bytes (default
    /// 1 MiB); a longer answer fails the fetch with `ErrorKind::TooLarge`.
    pub fn max_token_response_bytes(mut self, n: u64) -> Self {
        self.max_token_response_bytes = n;
        self
    }

    /// The backoff before retry number `retry` (1-based), jittered.
    /// Saturates for any configuration, `Duration::MAX` included.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = 2u32.saturating_pow(retry.saturating_sub(1));
        let base = self
            .initial_backoff
            .saturating_mul(exp)
            .min(self.max_backoff);
        let jitter = rand::rng().random_range(0.75..=1.0);
        secs_f64_saturating(base.as_secs_f64() * jitter).min(base)
    }

    /// The wait before retry number `retry`, honouring the server's hint
    /// when it is within [`RetryPolicy::max_retry_after`].
    pub fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Delay {
        match headers.and_then(retry_after) {
            Some(d) if d <= self.max_retry_after => Delay::Retry(d),
            Some(d) => Delay::TooLong(d),
            None => Delay::Retry(self.backoff(retry)),
        }
    }

    /// The longest one call under this policy may take: every attempt to
    /// its per-attempt timeout (the SDK's default, 30 s, when none is set),
    /// and the waits between them — each a backoff or a `Retry-After` up
    /// to [`RetryPolicy::max_retry_after`], all within
    /// [`RetryPolicy::total_deadline`] (a wait past it is never taken).
    /// Saturates.
    pub fn call_budget(&self) -> Duration {
        let attempts = self.max_retries.saturating_add(1);
        let per_attempt = self.attempt_timeout.unwrap_or(DEFAULT_TIMEOUT);
        // Enough terms to pass any deadline that matters; the rest at the cap.
        const TERMS: u32 = 64;
        let mut waits = Duration::ZERO;
        for retry in 1..=self.max_retries.min(TERMS) {
            let exp = 2u32.saturating_pow(retry - 1);
            let backoff = self
                .initial_backoff
                .saturating_mul(exp)
                .min(self.max_backoff);
            waits = waits.saturating_add(backoff.max(self.max_retry_after));
            if waits >= self.total_deadline {
                break;
            }
        }
        if self.max_retries > TERMS && waits < self.total_deadline {
            let each = self.max_backoff.max(self.max_retry_after);
            waits = waits.saturating_add(each.saturating_mul(self.max_retries - TERMS));
        }
        per_attempt
            .saturating_mul(attempts)
            .saturating_add(waits.min(self.total_deadline))
    }

    /// The longest one token fetch under this policy (the login client's)
    /// may take: a refresh-token call and a login call, each
    /// [`RetryPolicy::call_budget`] — 240 s with the defaults (3 attempts
    /// of 30 s and 30 s of waits, twice). What an SDK client uses as its
    /// fetch timeout unless the builder sets one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use payauth_runtime::RetryPolicy;
    /// let p = RetryPolicy::none().attempt_timeout(Duration::from_secs(5));
    /// assert_eq!(p.fetch_timeout(), Duration::from_secs(10));
    /// ```
    pub fn fetch_timeout(&self) -> Duration {
        self.call_budget().saturating_mul(2)
    }

    /// Whether waiting `wait` from `now` stays within the total deadline of
    /// a call that started at `started`. Never overflows: a deadline past
    /// the end of the clock is no deadline.
    pub fn within_deadline(&self, started: Instant, now: Instant, wait: Duration) -> bool {
        self.allows_wait(now.saturating_duration_since(started), wait)
    }

    /// Whether waiting `wait` more, `elapsed` into a call, stays within
    /// the total deadline. Never overflows; a deadline of `Duration::MAX`
    /// is no deadline.
    pub fn allows_wait(&self, elapsed: Duration, wait: Duration) -> bool {
        if self.total_deadline == Duration::MAX {
            return true;
        }
        self.total_deadline
            .checked_sub(elapsed)
            .is_some_and(|left| wait <= left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// The fetch timeout follows the login retry policy: attempts × the
    /// per-attempt timeout, plus the waits (within the total deadline),
    /// for a refresh call and a login call.
    #[test]
    fn the_fetch_timeout_is_derived_from_the_retry_policy() {
        let secs = Duration::from_secs;
        // Defaults: 3 × 30 s + min(30 s deadline, 60 s + 60 s Retry-After), twice.
        assert_eq!(RetryPolicy::default().call_budget(), secs(120));
        assert_eq!(RetryPolicy::default().fetch_timeout(), secs(240));
        assert_eq!(
            RetryPolicy::default().fetch_timeout(),
            DEFAULT_FETCH_TIMEOUT
        );
        // No retries: one attempt per call.
        let p = RetryPolicy::none().attempt_timeout(secs(7));
        assert_eq!(p.fetch_timeout(), secs(14));
        // Backoff only (no Retry-After honoured): 0.1 + 0.2 + 0.4 s.
        let p = RetryPolicy::default()
            .max_retries(3)
            .attempt_timeout(secs(5))
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(secs(1))
            .max_retry_after(Duration::ZERO);
        assert_eq!(p.call_budget(), Duration::from_millis(20_700));
        assert_eq!(p.fetch_timeout(), Duration::from_millis(41_400));
        // The backoff cap and the total deadline bound the waits.
        let p = p.max_retries(10).total_deadline(secs(2));
        assert_eq!(p.call_budget(), secs(5 * 11 + 2));
        // Huge settings saturate, never panic; many retries end quickly.
        let p = RetryPolicy::default()
            .max_retries(u32::MAX)
            .attempt_timeout(Duration::MAX)
            .total_deadline(Duration::MAX);
        assert_eq!(p.fetch_timeout(), Duration::MAX);
        let p = RetryPolicy::default()
            .max_retries(u32::MAX)
            .attempt_timeout(Duration::ZERO)
            .initial_backoff(Duration::ZERO)
            .max_backoff(Duration::ZERO)
            .max_retry_after(Duration::ZERO);
        assert_eq!(p.fetch_timeout(), Duration::ZERO);
    }

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let p = RetryPolicy::default();
        for retry in 1..=10 {
            let nominal = (DEFAULT_INITIAL_BACKOFF * 2u32.pow(retry - 1)).min(DEFAULT_MAX_BACKOFF);
            let d = p.backoff(retry);
            assert!(d <= nominal, "retry {retry}: {d:?} > {nominal:?}");
            assert!(d >= nominal.mul_f64(0.75), "retry {retry}: {d:?} too short");
        }
    }

    #[test]
    fn long_retry_after_is_not_retried_early() {
        let p = RetryPolicy::default();
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3600"));
        assert_eq!(
            p.delay(1, Some(&h)),
            Delay::TooLong(Duration::from_secs(3600))
        );
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(p.delay(1, Some(&h)), Delay::Retry(Duration::from_secs(2)));
    }

    #[test]
    fn a_huge_retry_after_is_too_long() {
        let mut h = HeaderMap::new();
        h.insert("retry-after-ms", HeaderValue::from_static("1e23"));
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, Some(&h)), Delay::TooLong(Duration::MAX));
    }

    #[test]
    fn deadline_and_backoff_arithmetic_saturates() {
        let now = Instant::now();
        let unbounded = RetryPolicy::default()
            .total_deadline(Duration::MAX)
            .initial_backoff(Duration::MAX)
            .max_backoff(Duration::MAX);
        assert!(unbounded.within_deadline(now, now, Duration::from_secs(1)));
        assert!(unbounded.within_deadline(now, now, Duration::MAX));
        for retry in [0, 1, 2, 64, u32::MAX] {
            assert!(unbounded.backoff(retry) >= Duration::from_secs(1));
        }
        let p = RetryPolicy::default();
        assert!(!p.within_deadline(now, now, Duration::MAX));
        assert!(p.within_deadline(now, now, Duration::from_secs(1)));
    }
}
