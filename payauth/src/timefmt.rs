//! Times and durations as `check` prints them.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// A monotonic instant as wall time.
pub fn wall(at: Instant) -> SystemTime {
    let now = Instant::now();
    if at >= now {
        SystemTime::now() + (at - now)
    } else {
        SystemTime::now() - (now - at)
    }
}

pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .unwrap_or(0)
}

/// The token's `iat` (unverified: only read to compare clocks).
pub fn issued_at(token: &str) -> Option<i64> {
    let claims: serde_json::Map<String, Value> =
        jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    payauth_runtime::provider::expiry::unix_seconds_of(claims.get("iat")?)
}

/// A duration in days, hours, minutes and seconds (`1h 5min 7s`).
pub use payauth_runtime::descriptor::human_duration as human;
