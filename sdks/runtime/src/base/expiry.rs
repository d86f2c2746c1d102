//! When a token expires, from whatever the provider gives.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDateTime, Utc};
use tracing::warn;

use crate::base::time::Clock;

/// No deadline is set further than this from receipt, whatever a provider
/// says (a token "valid for 10⁹ years" is refreshed within ten).
pub const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 86_400);

/// Everything a provider may say about a token's expiry. When several are
/// present, the earliest wins (axept's `ExpiresAt` and JWT `exp` disagree in
/// its own sample).
#[derive(Debug, Clone, Default)]
pub struct ExpiryHints {
    /// Absolute Unix seconds (institution's misnamed `expiresIn`).
    pub unix_seconds: Option<i64>,
    /// Relative seconds from receipt (OAuth2 `expires_in`), measured on the
    /// local monotonic clock when the response arrived.
    pub relative: Option<Duration>,
    /// An RFC 3339 date-time (axept `ExpiresAt`, bursagb `Expiration`).
    pub at: Option<DateTime<Utc>>,
}

/// Where a deadline came from, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpirySource {
    /// The JWT's own `exp` claim.
    JwtExp,
    /// [`ExpiryHints::unix_seconds`]: an absolute Unix time in the answer.
    UnixSeconds,
    /// [`ExpiryHints::relative`]: seconds from receipt (`expires_in`).
    Relative,
    /// [`ExpiryHints::at`]: a date-time in the answer.
    DateTime,
    /// Nothing usable: the provider's documented lifetime was assumed.
    Assumed,
}

/// A token's deadline on the monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct Expiry {
    /// When the token stops being valid, on the monotonic clock of the
    /// [`Clock`] it was resolved with (at most [`MAX_LIFETIME`] after
    /// receipt).
    pub deadline: Instant,
    /// Lifetime from receipt to deadline (zero when already expired).
    pub lifetime: Duration,
    /// Which of the hints (or the JWT, or the assumed lifetime) set the
    /// deadline: the earliest.
    pub source: ExpirySource,
    /// The token arrived already expired (by our clock).
    pub expired_on_arrival: bool,
}

#[derive(serde::Deserialize)]
struct ExpClaim {
    exp: Option<serde_json::Value>,
}

/// The `exp` claim of a JWT, in Unix seconds (a number, or a string of
/// one; saturating). Anything else — other types, no JWT — is `None`.
///
/// The signature is NOT verified: the client does not hold the provider's
/// key (HS256 secrets stay with the provider). The claim is only used to
/// schedule refreshes; the provider still verifies every token it receives.
pub fn jwt_exp(token: &str) -> Option<i64> {
    let claims: ExpClaim = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    unix_seconds_of(&claims.exp?)
}

/// Unix seconds from a JSON number or numeric string, saturating at the
/// ends of `i64`; fractions are dropped.
pub fn unix_seconds_of(value: &serde_json::Value) -> Option<i64> {
    let f = match value {
        serde_json::Value::Number(n) => return n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    // `as` saturates; NaN is rejected first.
    (!f.is_nan()).then_some(f as i64)
}

/// A relative lifetime (OAuth2 `expires_in`) from a JSON number or numeric
/// string: non-negative seconds, saturating. Negative values are zero
/// (expired), anything else `None`.
pub fn relative_of(value: &serde_json::Value) -> Option<Duration> {
    let secs = match value {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (!secs.is_nan()).then(|| crate::base::time::duration::secs_f64_saturating(secs))
}

/// A date-time as providers actually write it: RFC 3339 with an offset,
/// or without one (UTC, as axept and bursagb document: .NET writes
/// `2023-01-31T11:28:09.0000000`), `T` or space between date and time,
/// fractional seconds to nanoseconds; or Unix seconds in a string. Years
/// out of range saturate; anything else is `None`.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    // Longest legitimate form: 2023-01-31T11:28:09.123456789+14:00 (35).
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(naive.and_utc());
        }
    }
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        let secs = unix_seconds_of(&serde_json::Value::String(text.to_string()))?;
        return Some(DateTime::from_timestamp(secs, 0).unwrap_or(if secs < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        }));
    }
    None
}

/// A provider's date-time expiry field, read with [`parse_datetime`]. An
/// unreadable one is `None` with a warning — the JWT `exp`, then the
/// profile's assumed lifetime take over; it never fails a login.
pub fn lenient_datetime(
    provider: &'static str,
    field: &'static str,
    text: &str,
) -> Option<DateTime<Utc>> {
    let at = parse_datetime(text);
    if at.is_none() {
        warn!(
            provider,
            field,
            len = text.len(),
            "unreadable expiry field; using the JWT `exp` or the assumed lifetime"
        );
    }
    at
}

/// The earliest of all sources, as a monotonic deadline. `received` is the
/// monotonic instant the response arrived, `fallback` the provider's
/// documented lifetime used when there is no source at all.
pub fn resolve(
    token: &str,
    hints: &ExpiryHints,
    clock: &dyn Clock,
    received: Instant,
    fallback: Duration,
) -> Expiry {
    let wall_now = clock.wall();
    let now_unix = wall_now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    // Seconds from receipt until expiry, per source (negative: expired).
    let mut candidates: Vec<(f64, ExpirySource)> = Vec::with_capacity(4);
    if let Some(exp) = jwt_exp(token) {
        candidates.push((exp as f64 - now_unix, ExpirySource::JwtExp));
    }
    if let Some(unix) = hints.unix_seconds {
        candidates.push((unix as f64 - now_unix, ExpirySource::UnixSeconds));
    }
    if let Some(rel) = hints.relative {
        candidates.push((rel.as_secs_f64(), ExpirySource::Relative));
    }
    if let Some(at) = hints.at {
        let at = at.timestamp_millis() as f64 / 1000.0;
        candidates.push((at - now_unix, ExpirySource::DateTime));
    }
    let (secs, source) = candidates
        .into_iter()
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap_or((fallback.as_secs_f64(), ExpirySource::Assumed));
    let secs = if secs.is_finite() { secs } else { 0.0 };
    let lifetime = Duration::from_secs_f64(secs.clamp(0.0, MAX_LIFETIME.as_secs_f64()));
    Expiry {
        // Saturating: an `Instant` near the end of its range cannot panic.
        deadline: received.checked_add(lifetime).unwrap_or(received),
        lifetime,
        source,
        expired_on_arrival: secs <= 0.0,
    }
}

/// Unix seconds → `SystemTime`, saturating.
pub fn unix_to_system(secs: i64) -> SystemTime {
    u64::try_from(secs)
        .ok()
        .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)))
        .unwrap_or(UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::time::SystemClock;
    use base64::Engine;

    fn jwt(exp: Option<i64>) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = match exp {
            Some(e) => format!(r#"{{"sub":"x","exp":{e}}}"#),
            None => r#"{"sub":"x"}"#.to_string(),
        };
        format!("{header}.{}.c2ln", b64.encode(claims))
    }

    fn now_unix() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    #[test]
    fn earliest_source_wins() {
        let clock = SystemClock;
        let now = Instant::now();
        let t = jwt(Some(now_unix() + 3600));
        let hints = ExpiryHints {
            relative: Some(Duration::from_secs(600)),
            at: Some(Utc::now() + chrono::Duration::seconds(1800)),
            ..Default::default()
        };
        let e = resolve(&t, &hints, &clock, now, Duration::from_secs(1));
        assert_eq!(e.source, ExpirySource::Relative);
        assert_eq!(e.lifetime, Duration::from_secs(600));
        let hints = ExpiryHints {
            at: Some(Utc::now() + chrono::Duration::seconds(60)),
            ..Default::default()
        };
        let e = resolve(&t, &hints, &clock, now, Duration::from_secs(1));
        assert_eq!(e.source, ExpirySource::DateTime);
        assert!(e.lifetime <= Duration::from_secs(60) && e.lifetime >= Duration::from_secs(58));
    }

    #[test]
    fn jwt_exp_only() {
        let e = resolve(
            &jwt(Some(now_unix() + 100)),
            &ExpiryHints::default(),
            &SystemClock,
            Instant::now(),
            Duration::from_secs(1),
        );
        assert_eq!(e.source, ExpirySource::JwtExp);
        assert!(!e.expired_on_arrival);
    }

    #[test]
    fn missing_expiry_assumes_fallback_and_expired_is_flagged() {
        let e = resolve(
            &jwt(None),
            &ExpiryHints::default(),
            &SystemClock,
            Instant::now(),
            Duration::from_secs(42),
        );
        assert_eq!(e.source, ExpirySource::Assumed);
        assert_eq!(e.lifetime, Duration::from_secs(42));
        let e = resolve(
            &jwt(Some(now_unix() - 10)),
            &ExpiryHints::default(),
            &SystemClock,
            Instant::now(),
            Duration::from_secs(42),
        );
        assert!(e.expired_on_arrival);
        assert_eq!(e.lifetime, Duration::ZERO);
    }

    #[test]
    fn provider_date_times_are_read_leniently() {
        let at = |t: &str| parse_datetime(t).map(|d| d.timestamp_nanos_opt());
        let base = Some(Some(1_675_164_489_000_000_000));
        for t in [
            "2023-01-31T11:28:09Z",
            "2023-01-31T11:28:09.0000000",
            "2023-01-31T11:28:09",
            "2023-01-31 11:28:09",
            "2023-01-31T12:28:09+01:00",
            "2023-01-31T11:28:09.000000000Z",
            " 1675164489 ",
        ] {
            assert_eq!(at(t), base, "{t}");
        }
        assert_eq!(
            at("2023-01-31T11:28:09.123456789"),
            Some(Some(1_675_164_489_123_456_789))
        );
        for t in ["", "soon", "2023-13-45T99:99:99", "2023-01-31", "--", "."] {
            assert_eq!(parse_datetime(t), None, "{t}");
        }
        assert_eq!(
            parse_datetime("99999999999999999999"),
            Some(DateTime::<Utc>::MAX_UTC)
        );
    }

    #[test]
    fn expiry_numbers_of_any_json_type() {
        use serde_json::json;
        assert_eq!(unix_seconds_of(&json!(5)), Some(5));
        assert_eq!(unix_seconds_of(&json!("5")), Some(5));
        assert_eq!(unix_seconds_of(&json!(1e300)), Some(i64::MAX));
        assert_eq!(unix_seconds_of(&json!(-1e300)), Some(i64::MIN));
        assert_eq!(unix_seconds_of(&json!([1])), None);
        assert_eq!(relative_of(&json!("3600")), Some(Duration::from_secs(3600)));
        assert_eq!(relative_of(&json!(-5)), Some(Duration::ZERO));
        assert_eq!(relative_of(&json!(1e300)), Some(Duration::MAX));
        assert_eq!(relative_of(&json!(null)), None);
        assert_eq!(
            unix_to_system(i64::MAX),
            UNIX_EPOCH
                .checked_add(Duration::from_secs(i64::MAX as u64))
                .unwrap_or(UNIX_EPOCH)
        );
    }

    #[test]
    fn garbage_tokens_do_not_panic() {
        for t in ["", ".", "a.b.c", "not a jwt", "eyJ.eyJ.x", "a.!!!.c"] {
            assert_eq!(jwt_exp(t), None, "{t}");
        }
    }
}
