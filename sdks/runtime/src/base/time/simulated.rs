//! Simulated time: a clock and a timer that move only when told.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

use futures::future::BoxFuture;

use super::clock::Clock;
use super::sleep::Sleep;

/// A [`Clock`] and a [`Sleep`] in one: time stands still until
/// [`SimulatedTime::advance`] moves it, which wakes every sleep it
/// reaches. Give the same value to a builder's `.clock(..)` and
/// `.sleep(..)`; it works on any Tokio runtime, or none, and across
/// runtimes (unlike `tokio::time::pause`, which is per runtime).
///
/// ```
/// use std::time::Duration;
/// use payauth_runtime::{Clock, Sleep, SimulatedTime};
/// let time = SimulatedTime::new();
/// let start = time.now();
/// let mut nap = time.sleep(Duration::from_secs(30));
/// assert!(futures::FutureExt::now_or_never(&mut nap).is_none());
/// time.advance(Duration::from_secs(30));
/// assert!(futures::FutureExt::now_or_never(&mut nap).is_some());
/// assert_eq!(time.now() - start, Duration::from_secs(30));
/// ```
#[derive(Clone)]
pub struct SimulatedTime {
    inner: Arc<Inner>,
}

struct Inner {
    start: Instant,
    wall_start: SystemTime,
    next_id: AtomicU64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    elapsed: Duration,
    /// Pending sleeps by (wake-up time, id).
    sleepers: BTreeMap<(Duration, u64), Waker>,
    /// Sleeps an advance woke whose futures have not yet seen it (not
    /// polled since, nor dropped).
    woken: BTreeSet<(Duration, u64)>,
}

impl fmt::Debug for SimulatedTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.inner.lock();
        f.debug_struct("SimulatedTime")
            .field("elapsed", &s.elapsed)
            .field("sleepers", &s.sleepers.len())
            .finish()
    }
}

impl Default for SimulatedTime {
    fn default() -> Self {
        Self::new()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SimulatedTime {
    /// Simulated time starting now (wall clock included).
    pub fn new() -> Self {
        SimulatedTime {
            inner: Arc::new(Inner {
                start: Instant::now(),
                wall_start: SystemTime::now(),
                next_id: AtomicU64::new(0),
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Move time forward by `by` and wake every sleep that is now due.
    pub fn advance(&self, by: Duration) {
        let due = {
            let mut s = self.inner.lock();
            s.elapsed = s.elapsed.saturating_add(by);
            let now = s.elapsed;
            let later = s.sleepers.split_off(&(now, u64::MAX));
            let due = std::mem::replace(&mut s.sleepers, later);
            s.woken.extend(due.keys().copied());
            due
        };
        for (_, waker) in due {
            waker.wake();
        }
    }

    /// Sleeps the last advances woke that their tasks have not yet
    /// observed: while this is not 0, work that time released is still
    /// to run (on whatever thread polls it).
    pub fn woken(&self) -> usize {
        self.inner.lock().woken.len()
    }

    /// How far time has moved since [`SimulatedTime::new`].
    pub fn elapsed(&self) -> Duration {
        self.inner.lock().elapsed
    }

    /// Sleeps waiting now.
    pub fn sleepers(&self) -> usize {
        self.inner.lock().sleepers.len()
    }

    /// How long until the earliest waiting sleep is due, if any.
    pub fn next_wake(&self) -> Option<Duration> {
        let s = self.inner.lock();
        s.sleepers
            .keys()
            .next()
            .map(|(at, _)| at.saturating_sub(s.elapsed))
    }
}

impl Clock for SimulatedTime {
    fn now(&self) -> Instant {
        let elapsed = self.elapsed();
        self.inner
            .start
            .checked_add(elapsed)
            .unwrap_or(self.inner.start)
    }
    fn wall(&self) -> SystemTime {
        let elapsed = self.elapsed();
        self.inner
            .wall_start
            .checked_add(elapsed)
            .unwrap_or(self.inner.wall_start)
    }
}

impl Sleep for SimulatedTime {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let until = self.elapsed().saturating_add(duration);
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        Box::pin(SimulatedSleep {
            inner: Arc::clone(&self.inner),
            key: (until, id),
        })
    }
}

/// One pending simulated sleep.
struct SimulatedSleep {
    inner: Arc<Inner>,
    key: (Duration, u64),
}

impl Future for SimulatedSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.inner.lock();
        if s.elapsed >= self.key.0 {
            s.sleepers.remove(&self.key);
            s.woken.remove(&self.key);
            return Poll::Ready(());
        }
        s.sleepers.insert(self.key, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for SimulatedSleep {
    fn drop(&mut self) {
        let mut s = self.inner.lock();
        s.sleepers.remove(&self.key);
        s.woken.remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn sleeps_wake_in_order_and_dropped_ones_are_forgotten() {
        let time = SimulatedTime::new();
        let mut a = time.sleep(Duration::from_secs(1));
        let mut b = time.sleep(Duration::from_secs(5));
        let c = time.sleep(Duration::from_secs(3));
        assert!((&mut a).now_or_never().is_none());
        assert!((&mut b).now_or_never().is_none());
        assert_eq!(time.sleepers(), 2, "registered when polled");
        drop(c);
        assert_eq!(time.next_wake(), Some(Duration::from_secs(1)));
        time.advance(Duration::from_secs(2));
        assert_eq!(time.woken(), 1, "woken, not yet seen");
        assert!(a.now_or_never().is_some());
        assert_eq!(time.woken(), 0);
        assert!((&mut b).now_or_never().is_none());
        assert_eq!(time.next_wake(), Some(Duration::from_secs(3)));
        drop(b);
        assert_eq!(time.sleepers(), 0);
        // Never overflows.
        time.advance(Duration::MAX);
        assert!(time.sleep(Duration::MAX).now_or_never().is_some());
        let _ = (time.now(), time.wall());
    }
}
