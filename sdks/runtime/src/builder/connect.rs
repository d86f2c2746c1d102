//! What a provider crate wires its client from: the built settings, the
//! sessions, and the principal's cache in the registry.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::base::policy::RetryPolicy;
use crate::base::time::{Clock, Sleep};
use crate::call::session::SessionBuilder;
use crate::observe::metrics::Metrics;
use crate::observe::telemetry::Recorder;
use crate::token::principal::Principal;
use crate::token::registry::{RegistryKey, TokenCaches};
use crate::token::store::TokenStore;
use crate::token::{ExpiryMargin, Profile, TokenFlow, TokenManager, TokenSource};

/// Everything a provider crate needs to wire its client.
#[derive(Clone)]
pub struct Connect {
    pub(super) profile: Profile,
    pub(super) base_url: String,
    pub(super) http: reqwest::Client,
    /// The timeout `http` applies to every request, when the SDK built it.
    pub(super) http_timeout: Option<Duration>,
    pub(super) policy: RetryPolicy,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) sleep: Arc<dyn Sleep>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) registry: Arc<TokenCaches>,
    pub(super) store: Option<Arc<dyn TokenStore>>,
    pub(super) expiry_margin: ExpiryMargin,
    /// The longest one fetch of this client may take (derived from its
    /// login retry policy unless set).
    pub(super) fetch_timeout: Duration,
    /// Where this client's spans and metrics go.
    pub(super) telemetry: Recorder,
}

impl fmt::Debug for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connect")
            .field("provider", &self.profile.name)
            .field("base_url", &self.base_url)
            .field("fetch_timeout", &self.fetch_timeout)
            .finish_non_exhaustive()
    }
}

impl Connect {
    /// The provider's profile ([`Provider::PROFILE`](crate::provider::Provider::PROFILE)).
    pub fn profile(&self) -> &Profile {
        &self.profile
    }
    /// The checked base URL (no trailing slash): the environment's or the
    /// custom one.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// The HTTP client every session of this client sends with.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
    /// This client's counters (requests, retries, 401 recoveries).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }
    /// The clock of token lifetimes, refresh times and backoff.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
    /// The timer every wait of this client sleeps on.
    pub fn sleep(&self) -> &Arc<dyn Sleep> {
        &self.sleep
    }
    /// The longest one token fetch of this client may take.
    pub fn fetch_timeout(&self) -> Duration {
        self.fetch_timeout
    }

    /// A session with static credentials only (add them on the builder).
    /// Login clients use one: they retry transient failures and never
    /// carry a bearer.
    pub fn session(&self) -> SessionBuilder {
        SessionBuilder::new(
            self.profile.name,
            self.policy.clone(),
            Arc::clone(&self.clock),
            Arc::clone(&self.metrics),
        )
        .origin_of(&self.base_url)
        .client_timeout(self.http_timeout)
        .sleep(Arc::clone(&self.sleep))
        .telemetry(self.telemetry.clone())
    }

    /// The identity of a principal of this provider at this base URL; the
    /// provider crate adds the credential's parts (public and secret).
    pub fn principal(&self) -> Principal {
        Principal::new(self.profile.name, self.base_url.as_str())
    }

    /// A session whose bearer tokens come from `flow`, cached per
    /// `principal` (see [`Principal`]: the secret is part of it). The
    /// cache may be shared with other clients of the principal; the
    /// fetches this client triggers run with its own `flow` (its HTTP
    /// client, its login retry policy), fetch timeout and timer.
    pub fn bearer_session(&self, principal: &Principal, flow: impl TokenFlow) -> SessionBuilder {
        let source = Arc::new(
            TokenSource::new(Arc::new(flow))
                .with_fetch_timeout(self.fetch_timeout)
                .with_sleep(Arc::clone(&self.sleep))
                .with_telemetry(self.telemetry.clone()),
        );
        let manager = self.token_manager(principal, &source);
        self.session().bearer(manager, source)
    }

    fn token_manager(&self, principal: &Principal, source: &Arc<TokenSource>) -> Arc<TokenManager> {
        let key = RegistryKey {
            principal: principal.process_key(),
            clock: Arc::as_ptr(&self.clock).cast::<()>() as usize,
            store: self
                .store
                .as_ref()
                .map_or(0, |s| Arc::as_ptr(s).cast::<()>() as usize),
            policy: margin_hash(&self.expiry_margin),
        };
        let make = || {
            let store_key = self
                .store
                .as_ref()
                .map(|s| s.key_for(principal))
                .unwrap_or_default();
            // The cache's own counters: every client of the principal
            // reports the same logins and refreshes.
            TokenManager::counted(
                self.profile,
                self.expiry_margin,
                Arc::clone(source),
                Arc::clone(&self.clock),
                Arc::new(Metrics::default()),
                self.store.clone(),
                store_key,
                self.telemetry.clone(),
            )
        };
        self.registry.get_or_insert(key, make)
    }
}

/// The expiry margin as part of the registry key: it decides when the hot
/// path stops serving a token, so clients with another margin get their
/// own cache. (Fetch settings are not part of it: each fetch runs with the
/// triggering client's.)
fn margin_hash(m: &ExpiryMargin) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    m.max.hash(&mut h);
    m.fraction.to_bits().hash(&mut h);
    h.finish()
}
