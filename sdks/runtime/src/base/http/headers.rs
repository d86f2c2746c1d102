//! The response headers the runtime reads (`Retry-After`,
//! `retry-after-ms`) or writes (`x-sdk-attempts`): parsed leniently,
//! never panicking, huge values saturating.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use crate::base::time::duration::secs_f64_saturating;

/// The response header the runtime adds to a response it returns after
/// more than one HTTP attempt: how many the call took. Absent means one
/// (a server's own header of this name is removed); read it with
/// [`attempts_of`].
pub const ATTEMPTS_HEADER: &str = "x-sdk-attempts";

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
    }
}
