//! When a token expires, from whatever the provider gives.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};

use crate::clock::Clock;

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
    JwtExp,
    UnixSeconds,
    Relative,
    DateTime,
    /// Nothing usable: the provider's documented lifetime was assumed.
    Assumed,
}

/// A token's deadline on the monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct Expiry {
    pub deadline: Instant,
    /// Lifetime from receipt to deadline (zero when already expired).
    pub lifetime: Duration,
    pub source: ExpirySource,
    /// The token arrived already expired (by our clock).
    pub expired_on_arrival: bool,
}

#[derive(serde::Deserialize)]
struct ExpClaim {
    exp: Option<serde_json::Value>,
}

/// The `exp` claim of a JWT, in Unix seconds.
///
/// The signature is NOT verified: the client does not hold the provider's
/// key (HS256 secrets stay with the provider). The claim is only used to
/// schedule refreshes; the provider still verifies every token it receives.
pub fn jwt_exp(token: &str) -> Option<i64> {
    let claims: ExpClaim = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    match claims.exp? {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    }
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
    let lifetime = Duration::from_secs_f64(secs.clamp(0.0, 10.0 * 365.0 * 86_400.0));
    Expiry {
        deadline: received + lifetime,
        lifetime,
        source,
        expired_on_arrival: secs <= 0.0,
    }
}

/// Unix seconds → `SystemTime`, saturating.
pub fn unix_to_system(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
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
    fn garbage_tokens_do_not_panic() {
        for t in ["", ".", "a.b.c", "not a jwt", "eyJ.eyJ.x", "a.!!!.c"] {
            assert_eq!(jwt_exp(t), None, "{t}");
        }
    }
}
