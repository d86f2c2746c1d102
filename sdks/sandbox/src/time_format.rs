//! The date-time formats the providers answer with.

use chrono::{TimeZone, Utc};

/// RFC 3339 with seconds precision and `Z`, e.g. `2023-01-31T11:28:09Z`.
pub(crate) fn rfc3339_secs(secs: i64) -> String {
    Utc.timestamp_opt(secs, 0)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// RFC 3339 with milliseconds and `Z`, e.g. `2024-02-09T19:23:17.000Z` (institution style).
pub(crate) fn rfc3339_millis(secs: i64) -> String {
    Utc.timestamp_opt(secs, 0)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
