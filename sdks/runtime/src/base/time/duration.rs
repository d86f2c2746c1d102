//! Durations from untrusted numbers.

use std::time::Duration;

/// Seconds as a `Duration`, saturating at `Duration::MAX`; NaN and
/// negative values are zero.
pub fn secs_f64_saturating(secs: f64) -> Duration {
    if secs.is_nan() || secs <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
}
