//! Snapshots of the sandbox's counters: [`RouteCounters`] per (provider, route), [`Counters`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::provider::Provider;
use crate::route::Route;

/// Counters of one (provider, route).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteCounters {
    /// Every request that reached the route (faulted ones included).
    pub requests: u64,
    /// 2xx answers produced by the emulated provider (not injected `malformed_body` answers).
    pub successes: u64,
    /// Tokens issued by a successful login.
    pub logins: u64,
    /// Tokens issued by a successful refresh.
    pub refreshes: u64,
    /// Requests whose bearer token / API key was accepted.
    pub authenticated_ok: u64,
    /// 401 answers (injected ones included).
    pub unauthorized_401: u64,
    /// 403 answers (injected ones included).
    pub forbidden_403: u64,
    /// Requests that consumed an injected fault.
    pub faults_served: u64,
}

impl RouteCounters {
    pub(crate) fn add(&mut self, o: &RouteCounters) {
        self.requests += o.requests;
        self.successes += o.successes;
        self.logins += o.logins;
        self.refreshes += o.refreshes;
        self.authenticated_ok += o.authenticated_ok;
        self.unauthorized_401 += o.unauthorized_401;
        self.forbidden_403 += o.forbidden_403;
        self.faults_served += o.faults_served;
    }
}

/// Snapshot of the sandbox's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// provider → route → counters (every route the provider offers is present).
    pub routes: BTreeMap<Provider, BTreeMap<Route, RouteCounters>>,
    /// provider → credential identity (merchant key, email, api key, `merchantId:keyId`) →
    /// successful logins.
    pub logins_by_identity: BTreeMap<Provider, BTreeMap<String, u64>>,
}

impl Counters {
    /// Counters of one route (zeros if never hit).
    pub fn route(&self, p: Provider, r: Route) -> RouteCounters {
        self.routes
            .get(&p)
            .and_then(|m| m.get(&r))
            .copied()
            .unwrap_or_default()
    }
    /// Sum over the provider's routes.
    pub fn provider_total(&self, p: Provider) -> RouteCounters {
        let mut t = RouteCounters::default();
        if let Some(m) = self.routes.get(&p) {
            for c in m.values() {
                t.add(c);
            }
        }
        t
    }
    /// Sum over everything.
    pub fn total(&self) -> RouteCounters {
        let mut t = RouteCounters::default();
        for p in Provider::all() {
            t.add(&self.provider_total(p));
        }
        t
    }
    /// Successful logins (tokens issued by the login route).
    pub fn logins(&self, p: Provider) -> u64 {
        self.provider_total(p).logins
    }
    /// Successful refreshes.
    pub fn refreshes(&self, p: Provider) -> u64 {
        self.provider_total(p).refreshes
    }
    /// Requests accepted by token / API-key authentication.
    pub fn authenticated(&self, p: Provider) -> u64 {
        self.provider_total(p).authenticated_ok
    }
    /// 401 answers on any route of the provider.
    pub fn unauthorized(&self, p: Provider) -> u64 {
        self.provider_total(p).unauthorized_401
    }
    /// 403 answers on any route of the provider.
    pub fn forbidden(&self, p: Provider) -> u64 {
        self.provider_total(p).forbidden_403
    }
    /// All requests to the provider's routes.
    pub fn requests(&self, p: Provider) -> u64 {
        self.provider_total(p).requests
    }
    /// Faults consumed on any route of the provider.
    pub fn faults_served(&self, p: Provider) -> u64 {
        self.provider_total(p).faults_served
    }
    /// Successful logins of one credential identity.
    pub fn logins_by(&self, p: Provider, identity: &str) -> u64 {
        self.logins_by_identity
            .get(&p)
            .and_then(|m| m.get(identity))
            .copied()
            .unwrap_or(0)
    }
}
