//! Time, injectable so tests move it instead of sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// The runtime's view of time. Deadlines are kept on the monotonic clock
/// ([`Clock::now`]); the wall clock ([`Clock::wall`]) only converts absolute
/// expiry times (JWT `exp`, RFC 3339) into monotonic deadlines at receipt.
///
/// (`Any`: the token cache recognises [`SystemClock`] and reads
/// `Instant::now()` itself on its hot path, without the indirect call.)
pub trait Clock: std::any::Any + Send + Sync + fmt::Debug + 'static {
    /// Monotonic now: every deadline, refresh time and backoff is measured
    /// on it. Never goes back.
    fn now(&self) -> Instant;
    /// Wall-clock now: only to turn an absolute expiry (a JWT `exp`, a
    /// date-time, Unix seconds) into a monotonic deadline, and a
    /// `Retry-After` date into a wait.
    fn wall(&self) -> SystemTime;
}

/// The real clocks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

/// Whether `clock` is the [`SystemClock`].
pub(crate) fn is_system(clock: &dyn Clock) -> bool {
    (clock as &dyn std::any::Any).is::<SystemClock>()
}

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The real clocks shifted by a shared offset in milliseconds, so a test
/// can move an SDK's time together with the sandbox's
/// (`Sandbox::clock_offset()` hands out the same kind of handle).
///
/// ```
/// use std::sync::{Arc, atomic::AtomicI64};
/// use payauth_runtime::{Clock, OffsetClock};
/// let offset = Arc::new(AtomicI64::new(0));
/// let clock = OffsetClock::new(offset.clone());
/// let before = clock.now();
/// clock.advance(std::time::Duration::from_secs(60));
/// assert!(clock.now() >= before + std::time::Duration::from_secs(60));
/// ```
#[derive(Debug, Clone)]
pub struct OffsetClock {
    offset_ms: Arc<AtomicI64>,
}

impl OffsetClock {
    /// The system clocks plus `offset_ms` milliseconds (negative: behind),
    /// read at every call, so whoever holds the same `Arc` moves this
    /// clock too.
    pub fn new(offset_ms: Arc<AtomicI64>) -> Self {
        OffsetClock { offset_ms }
    }

    /// Moves this clock, and every clock sharing its offset, `by` forward
    /// (millisecond precision).
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    fn offset(&self) -> (bool, Duration) {
        let ms = self.offset_ms.load(Ordering::Relaxed);
        (ms >= 0, Duration::from_millis(ms.unsigned_abs()))
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> Instant {
        let (forward, d) = self.offset();
        let now = Instant::now();
        if forward {
            now + d
        } else {
            now.checked_sub(d).unwrap_or(now)
        }
    }
    fn wall(&self) -> SystemTime {
        let (forward, d) = self.offset();
        let now = SystemTime::now();
        if forward { now + d } else { now - d }
    }
}
