//! Token caches by principal: who shares a cache, how long it lives.
//!
//! Clients built for the same principal (provider, base URL, credential —
//! **secret included** —, region, storefront customer), the same clock, the
//! same store and the same cache policy share one [`TokenManager`]. The
//! registry holds the managers itself, so a cache outlives its clients: a
//! client built per request logs in once, not per request.
//!
//! - **Lookup and creation** are O(1): 64 shards, each a `Mutex` around an
//!   LRU map (the `lru` crate, hashbrown underneath), held for a hash
//!   lookup. No process-wide lock; an ordinary call (a cached token) does
//!   not touch the registry at all.
//! - **Idle eviction**: a principal that no client holds and nobody looked
//!   up for [`RegistryLimits::idle`] after its token's expiry is dropped,
//!   refresh token included — checked a few entries at a time from each
//!   shard's least-recently-used end on every lookup, so no timer or task
//!   exists per principal.
//! - **Bound**: at most [`RegistryLimits::max_principals`] (split evenly
//!   over the shards), least recently looked up first. A principal that a
//!   client still holds, or whose fetch is running, is never evicted: the
//!   bound can be exceeded by principals in use, never by idle ones.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use lru::LruCache;

use super::manager::TokenManager;
use crate::base::sync::lock;

/// Default bound on cached principals per registry.
pub const DEFAULT_MAX_PRINCIPALS: usize = 100_000;
/// Default idle time after a token's expiry before its cache is dropped.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(10 * 60);

const SHARDS: usize = 64;
/// Entries examined at the LRU end per lookup.
const SWEEP: usize = 4;

/// What makes two clients share a cache. Clock and store are compared by
/// identity (`Arc` address): the cache holds both alive, so an address
/// cannot be reused while the entry exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RegistryKey {
    /// HMAC of the principal under a per-process random key.
    pub principal: [u8; 32],
    pub clock: usize,
    pub store: usize,
    /// The cache policy (margin, fetch timeout), hashed.
    pub policy: u64,
}

struct Entry {
    manager: Arc<TokenManager>,
    last_lookup: Instant,
}

/// Limits of a registry; change them at any time.
#[derive(Debug)]
pub struct RegistryLimits {
    max_principals: AtomicUsize,
    idle_ms: AtomicU64,
}

impl RegistryLimits {
    /// The most principals kept (idle ones are evicted first, LRU).
    /// Default [`DEFAULT_MAX_PRINCIPALS`], 100,000.
    pub fn max_principals(&self) -> usize {
        self.max_principals.load(Ordering::Relaxed)
    }
    /// Sets [`max_principals`](RegistryLimits::max_principals) (at least
    /// 1). A principal a client holds, or whose fetch runs, is never
    /// evicted, so the registry may hold more for a while.
    pub fn set_max_principals(&self, n: usize) -> &Self {
        self.max_principals.store(n.max(1), Ordering::Relaxed);
        self
    }
    /// How long a principal nobody uses is kept after its token expired.
    /// Default [`DEFAULT_IDLE`], 10 minutes.
    pub fn idle(&self) -> Duration {
        Duration::from_millis(self.idle_ms.load(Ordering::Relaxed))
    }
    /// Sets [`idle`](RegistryLimits::idle) (millisecond precision,
    /// saturating).
    pub fn set_idle(&self, idle: Duration) -> &Self {
        let ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
        self.idle_ms.store(ms, Ordering::Relaxed);
        self
    }
}

/// A registry of token caches. The process-wide one is
/// [`TokenCaches::global`]; a client built with `shared_cache(false)` gets
/// a private one (shared with the clients derived from it).
pub struct TokenCaches {
    shards: Box<[Mutex<LruCache<RegistryKey, Entry>>]>,
    limits: RegistryLimits,
    evicted: AtomicU64,
}

impl fmt::Debug for TokenCaches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCaches")
            .field("principals", &self.len())
            .field("limits", &self.limits)
            .finish()
    }
}

impl Default for TokenCaches {
    fn default() -> Self {
        TokenCaches {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(LruCache::unbounded()))
                .collect(),
            limits: RegistryLimits {
                max_principals: AtomicUsize::new(DEFAULT_MAX_PRINCIPALS),
                idle_ms: AtomicU64::new(DEFAULT_IDLE.as_millis() as u64),
            },
            evicted: AtomicU64::new(0),
        }
    }
}

static GLOBAL: LazyLock<Arc<TokenCaches>> = LazyLock::new(Arc::default);

impl TokenCaches {
    /// The registry every client built with `shared_cache(true)` (the
    /// default) uses.
    pub fn global() -> &'static Arc<TokenCaches> {
        &GLOBAL
    }

    /// This registry's limits, changeable at any time.
    pub fn limits(&self) -> &RegistryLimits {
        &self.limits
    }

    /// Principals cached now.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Whether no principal is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Principals evicted so far (idle or over the bound).
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Drop every principal no client holds and no fetch uses, whatever
    /// its age (tests, memory pressure).
    pub fn purge_unused(&self) -> usize {
        let mut dropped = 0;
        for shard in self.shards.iter() {
            let mut s = lock(shard);
            let unused: Vec<RegistryKey> = s
                .iter()
                .filter(|(_, e)| Arc::strong_count(&e.manager) == 1)
                .map(|(k, _)| *k)
                .collect();
            for k in unused {
                s.pop(&k);
                dropped += 1;
            }
        }
        self.evicted.fetch_add(dropped as u64, Ordering::Relaxed);
        dropped
    }

    /// The manager for `key`, made by `make` if there is none.
    pub(crate) fn get_or_insert(
        &self,
        key: RegistryKey,
        make: impl FnOnce() -> Arc<TokenManager>,
    ) -> Arc<TokenManager> {
        let shard = &self.shards[usize::from(key.principal[0]) % SHARDS];
        let mut s = lock(shard);
        if let Some(e) = s.get_mut(&key) {
            e.last_lookup = e.manager.clock().now();
            let manager = Arc::clone(&e.manager);
            self.sweep(&mut s);
            return manager;
        }
        let manager = make();
        let last_lookup = manager.clock().now();
        s.put(
            key,
            Entry {
                manager: Arc::clone(&manager),
                last_lookup,
            },
        );
        self.sweep(&mut s);
        manager
    }

    /// Evict from the LRU end: over the shard's share of the bound, any
    /// unused entry; otherwise unused entries idle past their token.
    fn sweep(&self, s: &mut LruCache<RegistryKey, Entry>) {
        let cap = self.limits.max_principals().div_ceil(SHARDS).max(1);
        let idle = self.limits.idle();
        for _ in 0..SWEEP {
            let over = s.len() > cap;
            let Some((key, e)) = s.peek_lru() else { return };
            let key = *key;
            let unused = Arc::strong_count(&e.manager) == 1;
            let idle_past = || {
                let now = e.manager.clock().now();
                let token_end = e.manager.cached().map(|t| t.deadline());
                let since = token_end.map_or(e.last_lookup, |d| d.max(e.last_lookup));
                now.saturating_duration_since(since) >= idle
            };
            if unused && (over || idle_past()) {
                s.pop(&key);
                self.evicted.fetch_add(1, Ordering::Relaxed);
            } else if over {
                // In use: move it out of the way and look further.
                s.promote(&key);
            } else {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::error::Error;
    use crate::base::time::{Clock, OffsetClock};
    use crate::observe::metrics::Metrics;
    use crate::token::{Issued, Lead, Profile, TokenFlow};
    use futures::future::BoxFuture;
    use std::sync::atomic::AtomicI64;

    const PROFILE: Profile = Profile {
        name: "test",
        refresh_lead: Lead::Fraction(0.2),
        assumed_lifetime: Duration::from_secs(60),
        base_url_env: "X",
        sandbox_url: None,
        production_url: None,
    };

    struct Never;
    impl TokenFlow for Never {
        fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
            Box::pin(async { Err(Error::config("test", "no")) })
        }
    }

    fn key(i: u32) -> RegistryKey {
        let mut principal = [0u8; 32];
        principal[..4].copy_from_slice(&i.to_le_bytes());
        RegistryKey {
            principal,
            clock: 0,
            store: 0,
            policy: 0,
        }
    }

    fn manager(clock: &Arc<dyn Clock>) -> Arc<TokenManager> {
        TokenManager::new(
            PROFILE,
            Arc::new(Never),
            Arc::clone(clock),
            Arc::new(Metrics::default()),
        )
    }

    #[test]
    fn same_key_same_manager_and_bound_holds() {
        let clock: Arc<dyn Clock> = Arc::new(OffsetClock::new(Arc::new(AtomicI64::new(0))));
        let caches = TokenCaches::default();
        caches.limits().set_max_principals(640);
        let a = caches.get_or_insert(key(1), || manager(&clock));
        let b = caches.get_or_insert(key(1), || manager(&clock));
        assert!(Arc::ptr_eq(&a, &b));
        for i in 2..5_000 {
            caches.get_or_insert(key(i), || manager(&clock));
        }
        assert!(caches.len() <= 640 + SHARDS, "{}", caches.len());
        // Held by a client: never evicted.
        let again = caches.get_or_insert(key(1), || manager(&clock));
        assert!(Arc::ptr_eq(&a, &again));
    }

    #[test]
    fn idle_principals_go_after_the_idle_time() {
        let offset = Arc::new(AtomicI64::new(0));
        let oc = OffsetClock::new(Arc::clone(&offset));
        let clock: Arc<dyn Clock> = Arc::new(oc.clone());
        let caches = TokenCaches::default();
        caches.limits().set_idle(Duration::from_secs(60));
        for i in 0..200 {
            caches.get_or_insert(key(i), || manager(&clock));
        }
        let held = caches.get_or_insert(key(7), || manager(&clock));
        oc.advance(Duration::from_secs(61));
        for i in 1000..1400 {
            caches.get_or_insert(key(i), || manager(&clock));
        }
        let stale = (0..200).filter(|i| *i != 7).count();
        assert!(caches.evicted() >= stale as u64 / 2, "{}", caches.evicted());
        let again = caches.get_or_insert(key(7), || manager(&clock));
        assert!(Arc::ptr_eq(&held, &again));
    }
}
