//! Injected faults waiting for their request: queued ones (FIFO per route) and random
//! mixes (one seeded RNG per route).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::SandboxError;
use crate::faults::{Fault, FaultMix};
use crate::provider::Provider;
use crate::route::Route;
use crate::sync::lock;

#[derive(Debug, Default)]
pub(crate) struct FaultQueues {
    queued: Mutex<HashMap<(Provider, Route), VecDeque<Fault>>>,
    /// How many faults are queued (a lock-free "nothing to do" check).
    queued_count: AtomicUsize,
    mixes: Mutex<HashMap<(Provider, Route), (FaultMix, StdRng)>>,
    active_mixes: AtomicUsize,
}

fn offered(p: Provider, r: Route) -> Result<usize, SandboxError> {
    p.route_index(r).ok_or(SandboxError::RouteNotOffered {
        provider: p,
        route: r,
    })
}

impl FaultQueues {
    pub(crate) fn inject(&self, p: Provider, r: Route, f: Fault) -> Result<(), SandboxError> {
        offered(p, r)?;
        lock(&self.queued).entry((p, r)).or_default().push_back(f);
        self.queued_count.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// The next fault for a request: a queued one first, else a draw from the route's mix.
    pub(crate) fn take(&self, p: Provider, r: Route) -> Option<Fault> {
        self.take_queued(p, r).or_else(|| self.draw(p, r))
    }

    fn take_queued(&self, p: Provider, r: Route) -> Option<Fault> {
        if self.queued_count.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let f = lock(&self.queued).get_mut(&(p, r))?.pop_front()?;
        self.queued_count.fetch_sub(1, Ordering::SeqCst);
        Some(f)
    }

    fn draw(&self, p: Provider, r: Route) -> Option<Fault> {
        if self.active_mixes.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut mixes = lock(&self.mixes);
        let (mix, rng) = mixes.get_mut(&(p, r))?;
        if mix.faults.is_empty() || !rng.random_bool(mix.rate) {
            return None;
        }
        let i = rng.random_range(0..mix.faults.len());
        mix.faults.get(i).cloned()
    }

    /// Installs (replaces) the random faults of (provider, route).
    pub(crate) fn set_mix(&self, p: Provider, r: Route, mix: FaultMix) -> Result<(), SandboxError> {
        let route_index = offered(p, r)?;
        mix.validate()?;
        // Each route draws from its own stream, so routes do not share a sequence.
        let seed = mix.seed ^ ((p.index() as u64) << 40) ^ ((route_index as u64) << 32);
        let mut mixes = lock(&self.mixes);
        mixes.insert((p, r), (mix, StdRng::seed_from_u64(seed)));
        self.active_mixes.store(mixes.len(), Ordering::SeqCst);
        Ok(())
    }

    pub(crate) fn clear(&self) {
        lock(&self.queued).clear();
        self.queued_count.store(0, Ordering::SeqCst);
        let mut mixes = lock(&self.mixes);
        mixes.clear();
        self.active_mixes.store(0, Ordering::SeqCst);
    }
}
