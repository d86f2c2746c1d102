//! The live counters: one set of atomics per (provider, route), plus logins by identity.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::counters::{Counters, RouteCounters};
use crate::provider::Provider;
use crate::sync::lock;

#[derive(Debug, Default)]
pub(crate) struct AtomicRouteCounters {
    pub requests: AtomicU64,
    pub successes: AtomicU64,
    pub logins: AtomicU64,
    pub refreshes: AtomicU64,
    pub authenticated_ok: AtomicU64,
    pub unauthorized_401: AtomicU64,
    pub forbidden_403: AtomicU64,
    pub faults_served: AtomicU64,
}

impl AtomicRouteCounters {
    fn all(&self) -> [&AtomicU64; 8] {
        [
            &self.requests,
            &self.successes,
            &self.logins,
            &self.refreshes,
            &self.authenticated_ok,
            &self.unauthorized_401,
            &self.forbidden_403,
            &self.faults_served,
        ]
    }

    fn snapshot(&self) -> RouteCounters {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        RouteCounters {
            requests: l(&self.requests),
            successes: l(&self.successes),
            logins: l(&self.logins),
            refreshes: l(&self.refreshes),
            authenticated_ok: l(&self.authenticated_ok),
            unauthorized_401: l(&self.unauthorized_401),
            forbidden_403: l(&self.forbidden_403),
            faults_served: l(&self.faults_served),
        }
    }

    fn reset(&self) {
        for a in self.all() {
            a.store(0, Ordering::Relaxed);
        }
    }
}

pub(crate) fn inc(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

/// Counters of every (provider, route) the registry lists.
#[derive(Debug)]
pub(crate) struct CounterTable {
    /// `[provider index][route index within the provider]`.
    rows: Vec<Vec<AtomicRouteCounters>>,
    logins_by_identity: Mutex<BTreeMap<Provider, BTreeMap<String, u64>>>,
}

/// Shared by routes that do not exist (never handed out by the router).
static NOWHERE: AtomicRouteCounters = AtomicRouteCounters {
    requests: AtomicU64::new(0),
    successes: AtomicU64::new(0),
    logins: AtomicU64::new(0),
    refreshes: AtomicU64::new(0),
    authenticated_ok: AtomicU64::new(0),
    unauthorized_401: AtomicU64::new(0),
    forbidden_403: AtomicU64::new(0),
    faults_served: AtomicU64::new(0),
};

impl CounterTable {
    pub(crate) fn new() -> Self {
        CounterTable {
            rows: Provider::all()
                .map(|p| p.routes().iter().map(|_| Default::default()).collect())
                .collect(),
            logins_by_identity: Mutex::new(BTreeMap::new()),
        }
    }

    /// The counters at `(provider index, route index)`.
    pub(crate) fn at(&self, provider: usize, route: usize) -> &AtomicRouteCounters {
        self.rows
            .get(provider)
            .and_then(|r| r.get(route))
            .unwrap_or(&NOWHERE)
    }

    pub(crate) fn count_login_identity(&self, p: Provider, identity: &str) {
        *lock(&self.logins_by_identity)
            .entry(p)
            .or_default()
            .entry(identity.to_owned())
            .or_default() += 1;
    }

    pub(crate) fn snapshot(&self) -> Counters {
        let routes = Provider::all()
            .map(|p| {
                let row = p
                    .routes()
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (*r, self.at(p.index(), i).snapshot()))
                    .collect();
                (p, row)
            })
            .collect();
        Counters {
            routes,
            logins_by_identity: lock(&self.logins_by_identity).clone(),
        }
    }

    pub(crate) fn reset(&self) {
        for c in self.rows.iter().flatten() {
            c.reset();
        }
        lock(&self.logins_by_identity).clear();
    }
}
