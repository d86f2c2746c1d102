//! When a token is refreshed, and when it stops being attached.

use std::time::{Duration, Instant};

use rand::Rng;

use super::profile::{LEAD_JITTER, Lead, MAX_LEAD_FRACTION};

/// Default cap of the expiry margin (smithy-rs `buffer_time`: 10 s).
pub const DEFAULT_MAX_MARGIN: Duration = Duration::from_secs(10);
/// Default expiry margin as a fraction of the token's lifetime.
pub const DEFAULT_MARGIN_FRACTION: f64 = 0.15;

/// The last part of a token's life in which it is no longer attached to a
/// request: a request leaving then (or queued behind a slow connection)
/// would arrive expired and cost a 401, a re-authentication and a retry.
/// The margin is `min(max, fraction × lifetime)`; callers inside it wait
/// for the fresh token like callers after expiry. The proactive refresh
/// lead always starts before the margin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpiryMargin {
    /// The longest margin, whatever the lifetime (default
    /// [`DEFAULT_MAX_MARGIN`], 10 s).
    pub max: Duration,
    /// The margin as a share of the token's lifetime, 0.0–1.0 (default
    /// [`DEFAULT_MARGIN_FRACTION`], 0.15); out-of-range values are clamped
    /// by the computation, never a panic.
    pub fraction: f64,
}

impl Default for ExpiryMargin {
    /// `min(10 s, 15 % of the lifetime)`: 10 s for any token living more
    /// than about a minute; for short tokens a share of their life large
    /// enough to ride out a slow request (300 ms on a 2 s token).
    fn default() -> Self {
        ExpiryMargin {
            max: DEFAULT_MAX_MARGIN,
            fraction: DEFAULT_MARGIN_FRACTION,
        }
    }
}

impl ExpiryMargin {
    /// No margin: a token is attached until its very last instant.
    pub fn none() -> Self {
        ExpiryMargin {
            max: Duration::ZERO,
            fraction: 0.0,
        }
    }

    /// The margin of a token living `lifetime`: `min(max, fraction ×
    /// lifetime)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let m = payauth_runtime::ExpiryMargin::default();
    /// assert_eq!(m.of(Duration::from_secs(3600)), Duration::from_secs(10));
    /// assert_eq!(m.of(Duration::from_secs(2)), Duration::from_millis(300));
    /// ```
    pub fn of(&self, lifetime: Duration) -> Duration {
        scale(lifetime, self.fraction).min(self.max)
    }
}

/// `d × f` for `f` clamped to 0..=1, never panicking.
fn scale(d: Duration, f: f64) -> Duration {
    let f = if f.is_finite() {
        f.clamp(0.0, 1.0)
    } else {
        0.0
    };
    Duration::try_from_secs_f64(d.as_secs_f64() * f).unwrap_or(Duration::ZERO)
}

/// `at - d`, saturating at `floor`.
pub(crate) fn before(at: Instant, d: Duration, floor: Instant) -> Instant {
    at.checked_sub(d).map_or(floor, |t| t.max(floor))
}

/// The instants of a token's life: (refresh_at, usable_until), both
/// between `received` and `deadline`. Jitter takes up to half the lead
/// off, so processes that each fetch their own token do not refresh in
/// lockstep.
pub(crate) fn schedule(
    lead: Lead,
    margin: ExpiryMargin,
    received: Instant,
    deadline: Instant,
    lifetime: Duration,
) -> (Instant, Instant) {
    let jitter = rand::rng().random_range(0.0..=LEAD_JITTER);
    schedule_with_jitter(lead, margin, received, deadline, lifetime, jitter)
}

/// [`schedule`] for a token a fleet shares through a store: the latest
/// refresh time the jitter could draw (the lead halved), every time.
///
/// Jitter spreads the refreshes of processes that each log in; a fleet
/// sharing a store refreshes once per token anyway — the store's lock
/// lets one process fetch while the others wait for its record, and the
/// record's refresh time (set once, by the process that fetched it) is the
/// whole fleet's. A random draw there only moves the fleet's refresh
/// earlier, at random: with a 15 % lead, refreshes at 85–92.5 % of a
/// token's life, 1.13 logins per lifetime on average; at the latest point,
/// 92.5 %, 1.08. (The expiry margin still bounds it: a short token whose
/// margin is longer than the halved lead is refreshed at the margin.)
pub(crate) fn schedule_shared(
    lead: Lead,
    margin: ExpiryMargin,
    received: Instant,
    deadline: Instant,
    lifetime: Duration,
) -> (Instant, Instant) {
    schedule_with_jitter(lead, margin, received, deadline, lifetime, LEAD_JITTER)
}

/// The schedule with `jitter` (0..=[`LEAD_JITTER`]) of the lead taken off.
fn schedule_with_jitter(
    lead: Lead,
    margin: ExpiryMargin,
    received: Instant,
    deadline: Instant,
    lifetime: Duration,
    jitter: f64,
) -> (Instant, Instant) {
    let margin = margin.of(lifetime);
    let usable_until = before(deadline, margin, received);
    let base = match lead {
        Lead::Fixed(d) => d,
        Lead::Fraction(f) => scale(lifetime, f),
    };
    let capped = base.min(scale(lifetime, MAX_LEAD_FRACTION));
    // The refresh never starts later than the margin. (For a short token
    // whose lead is no longer than its margin, callers at the margin wait
    // for the refresh: a token used for 85 % of its life costs 1.18 logins
    // per lifetime.)
    let jitter = jitter.clamp(0.0, LEAD_JITTER);
    let lead = scale(capped, 1.0 - jitter).max(margin);
    let refresh_at = before(deadline, lead, received).min(usable_until);
    (refresh_at, usable_until)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_is_min_of_cap_and_fraction() {
        let m = ExpiryMargin::default();
        assert_eq!(m.of(Duration::from_secs(2)), Duration::from_millis(300));
        assert_eq!(m.of(Duration::from_secs(30 * 60)), Duration::from_secs(10));
        assert_eq!(ExpiryMargin::none().of(Duration::MAX), Duration::ZERO);
        let weird = ExpiryMargin {
            max: Duration::MAX,
            fraction: f64::NAN,
        };
        assert_eq!(weird.of(Duration::MAX), Duration::ZERO);
    }

    #[test]
    fn refresh_precedes_margin_and_short_tokens_serve_most_of_their_life() {
        let now = Instant::now();
        for lead in [
            Lead::Fixed(Duration::from_secs(86_400)),
            Lead::Fraction(0.2),
            Lead::Fraction(5.0),
        ] {
            for _ in 0..200 {
                let life = Duration::from_secs(2);
                let (refresh_at, usable_until) =
                    schedule(lead, ExpiryMargin::default(), now, now + life, life);
                assert!(refresh_at <= usable_until);
                assert_eq!(usable_until, now + Duration::from_millis(1700));
                let at = refresh_at - now;
                assert!(
                    at >= Duration::from_millis(1600) && at <= Duration::from_millis(1700),
                    "{lead:?}: refresh at {at:?} of 2 s"
                );
            }
        }
    }

    #[test]
    fn long_fixed_lead_is_kept_for_long_tokens() {
        let now = Instant::now();
        let life = Duration::from_secs(30 * 86_400);
        let (refresh_at, _) = schedule(
            Lead::Fixed(Duration::from_secs(86_400)),
            ExpiryMargin::default(),
            now,
            now + life,
            life,
        );
        let lead = (now + life) - refresh_at;
        assert!(lead >= Duration::from_secs(43_200) && lead <= Duration::from_secs(86_400));
    }

    /// A fleet's shared record: always the latest point of the jittered
    /// range — never later than the margin, never earlier than the
    /// unshared schedule could be.
    #[test]
    fn shared_schedule_is_the_latest_the_jitter_allows() {
        let now = Instant::now();
        let ms = Duration::from_millis;
        // pledg's production token: 600 s, lead 15 %, margin 10 s.
        let life = Duration::from_secs(600);
        let lead = Lead::Fraction(0.15);
        let (refresh_at, usable_until) =
            schedule_shared(lead, ExpiryMargin::default(), now, now + life, life);
        assert_eq!(usable_until - now, Duration::from_secs(590));
        assert_eq!(refresh_at - now, ms(555_000), "92.5 % of its life");
        for _ in 0..200 {
            let (r, u) = schedule(lead, ExpiryMargin::default(), now, now + life, life);
            assert!(r <= refresh_at && u == usable_until);
            assert!(r - now >= Duration::from_secs(510), "{:?}", r - now);
        }
        // A 2 s token with the default margin (300 ms): the margin decides.
        let life = Duration::from_secs(2);
        let (refresh_at, usable_until) =
            schedule_shared(lead, ExpiryMargin::default(), now, now + life, life);
        assert_eq!((refresh_at - now, usable_until - now), (ms(1700), ms(1700)));
        // The same with the margin capped at 150 ms (the fleet test's): the
        // halved lead (150 ms) decides, 92.5 % again.
        let capped = ExpiryMargin {
            max: ms(150),
            ..ExpiryMargin::default()
        };
        let (refresh_at, usable_until) = schedule_shared(lead, capped, now, now + life, life);
        assert_eq!((refresh_at - now, usable_until - now), (ms(1850), ms(1850)));
        // A long fixed lead stays capped, then halved.
        let life = Duration::from_secs(30 * 86_400);
        let (refresh_at, _) = schedule_shared(
            Lead::Fixed(Duration::from_secs(86_400)),
            ExpiryMargin::default(),
            now,
            now + life,
            life,
        );
        assert_eq!((now + life) - refresh_at, Duration::from_secs(43_200));
        // Same inputs, same answer: no randomness.
        let life = Duration::from_secs(7);
        let a = schedule_shared(lead, ExpiryMargin::none(), now, now + life, life);
        let b = schedule_shared(lead, ExpiryMargin::none(), now, now + life, life);
        assert_eq!(a, b);
    }

    #[test]
    fn saturates_for_huge_values() {
        let now = Instant::now();
        let (r, u) = schedule(
            Lead::Fixed(Duration::MAX),
            ExpiryMargin {
                max: Duration::MAX,
                fraction: 1.0,
            },
            now,
            now,
            Duration::MAX,
        );
        assert_eq!((r, u), (now, now));
        let (r, u) = schedule_shared(
            Lead::Fixed(Duration::MAX),
            ExpiryMargin {
                max: Duration::MAX,
                fraction: 1.0,
            },
            now,
            now,
            Duration::MAX,
        );
        assert_eq!((r, u), (now, now));
    }
}
