//! What the store counted (for tests and dashboards).

use std::sync::atomic::{AtomicU64, Ordering};

/// What the store counted so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Records served from Redis without waiting.
    pub hits: u64,
    /// Records another process fetched while this one waited.
    pub waited: u64,
    /// Fetches this process ran holding the fleet lock.
    pub fetches_run: u64,
    /// Fetches run without Redis (Redis down, or skipped during backoff).
    pub fallbacks: u64,
    /// Waits for another process that ran out.
    pub wait_timeouts: u64,
    /// Redis commands that failed or timed out.
    pub redis_errors: u64,
    /// Stored values that did not decrypt (unknown key id, another key,
    /// tampering). They are never overwritten while they live.
    pub undecryptable: u64,
    /// Due but unexpired stored records served because the fetch failed or
    /// another process was still fetching.
    pub stale_served: u64,
    /// Fetched records not written because the lock was lost meanwhile
    /// (the fence held).
    pub lost_locks: u64,
    /// Records written without the lock, after a wait ran out.
    pub published: u64,
    /// Proactive refreshes that gave up waiting (the caller kept its token).
    pub gave_up: u64,
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) hits: AtomicU64,
    pub(super) waited: AtomicU64,
    pub(super) fetches_run: AtomicU64,
    pub(super) fallbacks: AtomicU64,
    pub(super) wait_timeouts: AtomicU64,
    pub(super) redis_errors: AtomicU64,
    pub(super) undecryptable: AtomicU64,
    pub(super) stale_served: AtomicU64,
    pub(super) lost_locks: AtomicU64,
    pub(super) published: AtomicU64,
    pub(super) gave_up: AtomicU64,
}

pub(super) fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub(super) fn snapshot(&self) -> StoreStats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StoreStats {
            hits: get(&self.hits),
            waited: get(&self.waited),
            fetches_run: get(&self.fetches_run),
            fallbacks: get(&self.fallbacks),
            wait_timeouts: get(&self.wait_timeouts),
            redis_errors: get(&self.redis_errors),
            undecryptable: get(&self.undecryptable),
            stale_served: get(&self.stale_served),
            lost_locks: get(&self.lost_locks),
            published: get(&self.published),
            gave_up: get(&self.gave_up),
        }
    }
}
