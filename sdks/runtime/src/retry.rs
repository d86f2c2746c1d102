//! Transient-failure retries: which failures, how long to wait, how often.

use std::time::{Duration, Instant, SystemTime};

use rand::Rng;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

/// The response header the runtime adds to a response it returns after
/// more than one HTTP attempt: how many the call took. Absent means one
/// (a server's own header of this name is removed); read it with
/// [`attempts_of`].
pub const ATTEMPTS_HEADER: &str = "x-sdk-attempts";

/// Default retries after the first attempt (Stainless SDKs: 2).
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// First backoff (Stainless: 0.5 s).
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// Backoff cap (Stainless: 8 s).
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(8);
/// No call spends longer than this retrying.
pub const DEFAULT_TOTAL_DEADLINE: Duration = Duration::from_secs(30);
/// A `Retry-After` longer than this is not honoured (the backoff is used).
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

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
/// let p = auth_runtime::RetryPolicy::default().max_retries(3).initial_backoff(Duration::from_millis(10));
/// assert_eq!(p.max_retries, 3);
/// assert!(p.backoff(1) <= Duration::from_millis(10));
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub total_deadline: Duration,
    pub max_retry_after: Duration,
    /// Retry non-idempotent calls (POST to a non-auth endpoint) after
    /// failures that may have reached the server (timeouts, 5xx). Off by
    /// default: a retried payment may be a double payment.
    pub retry_non_idempotent: bool,
    /// Per-attempt timeout put on every request that has none, so an
    /// application's own `reqwest::Client` without timeouts cannot hang a
    /// call. `None`: the SDK builder's timeout.
    pub attempt_timeout: Option<Duration>,
    /// Largest response body read from an API call.
    pub max_response_bytes: u64,
    /// Largest response body read from a token endpoint.
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
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }
    pub fn total_deadline(mut self, d: Duration) -> Self {
        self.total_deadline = d;
        self
    }
    /// The longest `Retry-After` honoured; a longer one ends the call.
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }
    /// Per-attempt timeout for requests that carry none.
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = Some(d);
        self
    }
    /// `d` as the per-attempt timeout unless one is set.
    pub fn default_attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout.get_or_insert(d);
        self
    }
    /// Cap on API response bodies (bytes).
    pub fn max_response_bytes(mut self, n: u64) -> Self {
        self.max_response_bytes = n;
        self
    }
    /// Cap on token-endpoint response bodies (bytes).
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
        let per_attempt = self
            .attempt_timeout
            .unwrap_or(crate::builder::DEFAULT_TIMEOUT);
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
    /// use auth_runtime::RetryPolicy;
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
        match started.checked_add(self.total_deadline) {
            None => true,
            Some(end) => now.checked_add(wait).is_some_and(|at| at <= end),
        }
    }
}

/// Seconds as a `Duration`, saturating at `Duration::MAX`; NaN and
/// negative values are zero.
pub fn secs_f64_saturating(secs: f64) -> Duration {
    if secs.is_nan() || secs <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
}

/// `retry-after-ms` (milliseconds), else `Retry-After` (seconds or an HTTP
/// date). Values that do not parse are ignored; huge ones saturate.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    text("retry-after-ms")
        .and_then(parse_retry_after_ms)
        .or_else(|| {
            text(reqwest::header::RETRY_AFTER.as_str())
                .and_then(|v| parse_retry_after(v, SystemTime::now()))
        })
}

/// A `retry-after-ms` value: non-negative milliseconds, fractional allowed
/// (Stainless SDKs send floats). Negative, NaN or infinite: ignored.
pub fn parse_retry_after_ms(text: &str) -> Option<Duration> {
    let ms: f64 = text.trim().parse().ok()?;
    (ms.is_finite() && ms >= 0.0).then(|| secs_f64_saturating(ms / 1000.0))
}

/// A `Retry-After` value: delay-seconds (fractional tolerated) or an HTTP
/// date, relative to `now` (a past date is zero). Negative, NaN or
/// infinite seconds: ignored.
pub fn parse_retry_after(text: &str, now: SystemTime) -> Option<Duration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| secs_f64_saturating(secs));
    }
    let when = httpdate::parse_http_date(text).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Statuses worth another try: 408, 429 and 5xx (except 501 Not Implemented).
pub fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429) || (status.is_server_error() && status.as_u16() != 501)
}

/// Whether a status says the server did not process the request, so a
/// retry is safe whatever the method.
pub fn is_unprocessed_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
}

/// Whether a transport error is worth another try, and whether the request
/// can have reached the server.
pub fn classify_transport(e: &reqwest::Error) -> Option<bool /* may have reached server */> {
    if e.is_builder() || e.is_redirect() || e.is_status() || crate::body::too_large(e).is_some() {
        // A body over the cap would be over it again.
        None
    } else if e.is_connect() || refused_by_http2(e) {
        Some(false)
    } else {
        // Timeouts, resets, connections closed mid-message or mid-body.
        Some(true)
    }
}

/// An HTTP/2 server's word that it did not process the request: the
/// stream refused (`RST_STREAM REFUSED_STREAM`) or the connection closing
/// before it (`GOAWAY NO_ERROR`). Any request may be sent again after it
/// (RFC 9113 §8.7) — what reqwest's own retry layer replays, and the
/// client the SDK builds leaves retries to the session.
fn refused_by_http2(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            return h2.is_remote()
                && ((h2.is_reset() && h2.reason() == Some(h2::Reason::REFUSED_STREAM))
                    || (h2.is_go_away() && h2.reason() == Some(h2::Reason::NO_ERROR)));
        }
        source = err.source();
    }
    false
}

/// Methods that are safe to send twice without the caller's say-so: the
/// read-only ones. (PUT and DELETE are idempotent by HTTP's rules, but a
/// payment API's are not trusted to be; opt in with
/// [`RetryPolicy::retry_non_idempotent`].)
pub fn is_idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The attempt count the runtime put on a response (1 when absent).
pub fn attempts_of(headers: &HeaderMap) -> u32 {
    headers
        .get(ATTEMPTS_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
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
    fn retry_after_variants() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let mut h = HeaderMap::new();
        let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(20));
        h.insert("retry-after", HeaderValue::from_str(&date).unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d <= Duration::from_secs(20) && d >= Duration::from_secs(18),
            "{d:?}"
        );
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
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
    fn hostile_retry_after_values_saturate_or_are_ignored() {
        let mut h = HeaderMap::new();
        h.insert("retry-after-ms", HeaderValue::from_static("1e23"));
        assert_eq!(retry_after(&h), Some(Duration::MAX));
        let now = SystemTime::now();
        for (text, want) in [
            ("-5", None),
            ("-0.5", None),
            ("NaN", None),
            ("inf", None),
            ("1.5", Some(Duration::from_millis(1500))),
            ("99999999999999999999999", Some(Duration::MAX)),
            ("18446744073709551616", Some(Duration::MAX)),
            ("Thu, 01 Jan 1970 00:00:00 GMT", Some(Duration::ZERO)),
        ] {
            assert_eq!(parse_retry_after(text, now), want, "{text}");
        }
        assert_eq!(parse_retry_after_ms("-1"), None);
        assert_eq!(
            parse_retry_after_ms("0.5"),
            Some(Duration::from_micros(500))
        );
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

    #[test]
    fn only_read_only_methods_are_retried_unasked() {
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(is_idempotent(&m), "{m}");
        }
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(!is_idempotent(&m), "{m}");
        }
    }

    #[test]
    fn transient_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_transient_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 501] {
            assert!(
                !is_transient_status(StatusCode::from_u16(s).unwrap()),
                "{s}"
            );
        }
    }
}
