//! The sandbox's clock and timer: real time plus an offset that only moves forward
//! ([`crate::Sandbox::advance_clock`]). What waits on sandbox time (a callback's next
//! attempt) wakes when real time reaches it *or* when the clock is advanced past it, so a
//! test moves time instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// Longest real sleep between two looks at the clock: the offset is also handed out
/// ([`crate::Sandbox::clock_offset`]) and may move without telling the timer.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct Clock {
    offset_ms: Arc<AtomicI64>,
    /// Bumped on every advance: wakes whatever waits on sandbox time.
    moved: watch::Sender<()>,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            offset_ms: Arc::new(AtomicI64::new(0)),
            moved: watch::Sender::new(()),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// The offset, shared (a client's test clock can follow it).
    pub(crate) fn offset(&self) -> Arc<AtomicI64> {
        self.offset_ms.clone()
    }

    pub(crate) fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    pub(crate) fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
        self.moved.send_replace(());
    }

    /// A waiter that sees every advance from now on: take it *before* telling anyone
    /// what you will wait for, so an advance made in answer is not missed.
    pub(crate) fn waiter(&self) -> Waiter<'_> {
        Waiter {
            clock: self,
            moved: self.moved.subscribe(),
        }
    }
}

/// Waits on sandbox time (see [`Clock::waiter`]).
#[derive(Debug)]
pub(crate) struct Waiter<'a> {
    clock: &'a Clock,
    moved: watch::Receiver<()>,
}

impl Waiter<'_> {
    /// Returns once the sandbox clock reads `at` or later.
    pub(crate) async fn until(mut self, at: DateTime<Utc>) {
        loop {
            let left = match (at - self.clock.now()).to_std() {
                Ok(left) if !left.is_zero() => left,
                // Negative or zero: due.
                _ => return,
            };
            tokio::select! {
                () = tokio::time::sleep(left.min(LOOK_AGAIN)) => {}
                changed = self.moved.changed() => {
                    if changed.is_err() {
                        // The clock is gone with its sandbox: nothing left to wait for.
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_advance_wakes_a_waiter_at_once_and_real_time_is_not_waited() {
        let clock = Clock::new();
        let due = clock.now() + chrono::Duration::hours(1);
        let waiter = clock.waiter();
        let started = std::time::Instant::now();
        tokio::join!(waiter.until(due), async {
            tokio::task::yield_now().await;
            clock.advance(Duration::from_secs(3600));
        });
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(clock.now() >= due);
    }

    #[tokio::test]
    async fn an_advance_made_after_the_waiter_was_taken_is_not_missed() {
        let clock = Clock::new();
        let due = clock.now() + chrono::Duration::hours(1);
        let waiter = clock.waiter();
        // Advanced before the wait starts (a test answering the "will retry" event fast).
        clock.advance(Duration::from_secs(3600));
        tokio::time::timeout(Duration::from_secs(5), waiter.until(due))
            .await
            .expect("woken by the earlier advance");
    }

    #[tokio::test]
    async fn a_time_already_past_is_due() {
        let clock = Clock::new();
        let past = clock.now() - chrono::Duration::seconds(1);
        tokio::time::timeout(Duration::from_millis(100), clock.waiter().until(past))
            .await
            .expect("due at once");
    }
}
