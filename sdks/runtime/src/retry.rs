//! Transient-failure retries: which failures, how long to wait, how often.

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

/// The response header the runtime adds to every response it returns: how
/// many HTTP attempts the call took (1 = no retry).
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

/// Bounded exponential backoff with jitter ×(0.75–1.0); `retry-after-ms`
/// and `Retry-After` (seconds or HTTP date) win when present and ≤ the cap.
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
        }
    }
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
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }

    /// The backoff before retry number `retry` (1-based), jittered.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = 2u32.saturating_pow(retry.saturating_sub(1));
        let base = self
            .initial_backoff
            .saturating_mul(exp)
            .min(self.max_backoff);
        let jitter = rand::rng().random_range(0.75..=1.0);
        base.mul_f64(jitter)
    }

    /// The wait before retry number `retry`, honouring the server's hint.
    pub fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Duration {
        match headers.and_then(retry_after) {
            Some(d) if d <= self.max_retry_after => d,
            _ => self.backoff(retry),
        }
    }
}

/// `retry-after-ms` (milliseconds), else `Retry-After` (seconds or an HTTP
/// date). Values that do not parse are ignored.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
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
    if e.is_builder() || e.is_redirect() || e.is_status() {
        None
    } else if e.is_connect() {
        Some(false)
    } else {
        // Timeouts, resets, connections closed mid-message or mid-body.
        Some(true)
    }
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
    fn long_retry_after_is_capped_to_backoff() {
        let p = RetryPolicy::default();
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3600"));
        assert!(p.delay(1, Some(&h)) <= DEFAULT_INITIAL_BACKOFF);
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(p.delay(1, Some(&h)), Duration::from_secs(2));
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
