//! One builder for every provider SDK: environment, credentials, policy,
//! `from_env`. A provider crate describes itself by implementing
//! [`Provider`]; the rest is here.

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::metrics::Metrics;
use crate::principal::Principal;
use crate::registry::{RegistryKey, TokenCaches};
use crate::retry::RetryPolicy;
use crate::sdk::Sdk;
use crate::session::{Session, SessionBuilder};
use crate::store::TokenStore;
use crate::token::{ExpiryMargin, ManagerConfig, Profile, TokenFlow, TokenManager};

/// Default per-attempt timeout for provider calls.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a provider SDK crate supplies: its profile (data), its credentials
/// type, and how to wire a client from a [`Connect`].
pub trait Provider: Sized + 'static {
    const PROFILE: Profile;
    type Credentials: Send + 'static;
    type Client;

    /// Read credentials from environment variables (`get` looks one up).
    fn credentials_from_env(
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self::Credentials, Error>;

    /// Build the client for `credentials` against `connect.base_url()`.
    fn connect(connect: Connect, credentials: Self::Credentials) -> Result<Self::Client, Error>;
}

/// A required environment variable, or a config error naming it.
pub fn require_env(
    get: &dyn Fn(&str) -> Option<String>,
    provider: &'static str,
    key: &str,
) -> Result<String, Error> {
    get(key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::config(provider, format!("{key} is not set")))
}

/// The entry points every provider crate exposes: `Client`, `Builder`,
/// `builder()` and `from_env()` (whose doc names the variables).
#[macro_export]
macro_rules! sdk_entry_points {
    ($provider:ty, $api:ty, $env_doc:literal) => {
        /// The client: every typed operation (through `Deref`), each one
        /// authenticated and retried, plus `bearer()` and `send()`.
        pub type Client = $crate::Sdk<$api>;
        /// Environment, credentials, retry policy, clock, HTTP client.
        pub type Builder = $crate::Builder<$provider>;
        pub use $crate::{
            CallError, Environment, Error, ErrorKind, RetryPolicy, Secret, TypedCall,
        };

        /// Start configuring a client.
        pub fn builder() -> Builder {
            Builder::new()
        }

        #[doc = concat!("A client configured from environment variables: ", $env_doc, ".")]
        pub fn from_env() -> Result<Client, $crate::Error> {
            builder().from_env()?.build()
        }
    };
}

/// Which deployment of the provider to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    Sandbox,
    Production,
    /// Any base URL (the local sandbox, a proxy, a new region).
    Custom(String),
}

/// One system clock for every client, so clients built separately share
/// caches (the cache key compares clocks by identity).
static SYSTEM_CLOCK: LazyLock<Arc<SystemClock>> = LazyLock::new(|| Arc::new(SystemClock));

/// The builder every provider crate hands out (`exirom::Exirom::builder()`).
pub struct Builder<P: Provider> {
    environment: Option<Environment>,
    credentials: Option<P::Credentials>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    http: Option<reqwest::Client>,
    timeout: Duration,
    shared_cache: bool,
    store: Option<Arc<dyn TokenStore>>,
    manager: ManagerConfig,
}

impl<P: Provider> fmt::Debug for Builder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("provider", &P::PROFILE.name)
            .field("environment", &self.environment)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "[redacted]"),
            )
            .field("policy", &self.policy)
            .finish()
    }
}

impl<P: Provider> Default for Builder<P> {
    fn default() -> Self {
        Builder {
            environment: None,
            credentials: None,
            policy: RetryPolicy::default(),
            clock: Arc::clone(&SYSTEM_CLOCK) as Arc<dyn Clock>,
            http: None,
            timeout: DEFAULT_TIMEOUT,
            shared_cache: true,
            store: None,
            manager: ManagerConfig::default(),
        }
    }
}

impl<P: Provider> Builder<P> {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn environment(mut self, env: Environment) -> Self {
        self.environment = Some(env);
        self
    }
    pub fn sandbox(self) -> Self {
        self.environment(Environment::Sandbox)
    }
    pub fn production(self) -> Self {
        self.environment(Environment::Production)
    }
    /// Talk to any base URL. HTTPS is required unless the host is loopback.
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.environment(Environment::Custom(url.into()))
    }
    pub fn credentials(mut self, credentials: P::Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }
    /// Per-attempt timeout of every HTTP call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// Use this `reqwest::Client` (shared connection pool, proxies, TLS).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }
    /// By default clients with the same principal in one process share one
    /// token cache; `false` gives this client its own.
    pub fn shared_cache(mut self, shared: bool) -> Self {
        self.shared_cache = shared;
        self
    }

    /// How long before expiry a token stops being attached (default
    /// `min(10 s, 10 % of its lifetime)`); callers then wait for the fresh one.
    pub fn expiry_margin(mut self, margin: ExpiryMargin) -> Self {
        self.manager.expiry_margin = margin;
        self
    }

    /// The longest one token fetch (refresh, then login, with retries) may
    /// take, whatever the HTTP client's own timeouts (default 60 s).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.manager.fetch_timeout = timeout;
        self
    }

    /// Share tokens with other processes through `store` (second level,
    /// behind the in-process cache).
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Fill environment and credentials from variables (see the provider
    /// crate's docs for their names); values set on the builder win.
    pub fn from_env(self) -> Result<Self, Error> {
        self.from_env_with(&|k| std::env::var(k).ok())
    }

    /// [`Builder::from_env`] reading from `get` instead of the process.
    pub fn from_env_with(mut self, get: &dyn Fn(&str) -> Option<String>) -> Result<Self, Error> {
        if self.environment.is_none()
            && let Some(url) = get(P::PROFILE.base_url_env).filter(|u| !u.is_empty())
        {
            self.environment = Some(Environment::Custom(url));
        }
        if self.credentials.is_none() {
            self.credentials = Some(P::credentials_from_env(get)?);
        }
        Ok(self)
    }

    pub fn build(self) -> Result<P::Client, Error> {
        let profile = P::PROFILE;
        let name = profile.name;
        let base_url = match self.environment.clone().unwrap_or(Environment::Sandbox) {
            Environment::Sandbox => profile.sandbox_url.map(str::to_string).ok_or_else(|| {
                Error::config(
                    name,
                    "the provider documents no sandbox URL; set one with .base_url(..)",
                )
            })?,
            Environment::Production => {
                profile.production_url.map(str::to_string).ok_or_else(|| {
                    Error::config(
                        name,
                        "the provider documents no production URL; set one with .base_url(..)",
                    )
                })?
            }
            Environment::Custom(url) => url,
        };
        let base_url = check_base_url(name, &base_url)?;
        let credentials = self.credentials.ok_or_else(|| {
            Error::config(name, "no credentials: call .credentials(..) or .from_env()")
        })?;
        // The client the SDK builds bounds every request itself; an
        // application's client may not, so its requests get a timeout each.
        let (http, http_timeout) = match self.http {
            Some(h) => (h, None),
            None => (
                reqwest::Client::builder()
                    .timeout(self.timeout)
                    .connect_timeout(DEFAULT_CONNECT_TIMEOUT.min(self.timeout))
                    // The session retries (its policy, its classification:
                    // `retry::classify_transport` knows the HTTP/2 refusals
                    // reqwest's own layer would replay). That layer would
                    // copy every request once more, in case.
                    .retry(reqwest::retry::never().max_retries_per_request(0))
                    .build()
                    .map_err(|_| Error::config(name, "could not build the HTTP client"))?,
                Some(self.timeout),
            ),
        };
        // With the `redis` feature, `AUTH_RUNTIME_REDIS_URL` switches the
        // shared store on without a code change.
        #[cfg(feature = "redis")]
        let store = self.store.or_else(crate::redis_store::from_env);
        #[cfg(not(feature = "redis"))]
        let store = self.store;
        let connect = Connect {
            profile,
            base_url,
            http,
            http_timeout,
            policy: self.policy.default_attempt_timeout(self.timeout),
            clock: self.clock,
            metrics: Arc::new(Metrics::default()),
            registry: if self.shared_cache {
                Arc::clone(TokenCaches::global())
            } else {
                Arc::default()
            },
            store,
            manager: self.manager,
        };
        P::connect(connect, credentials)
    }
}

/// A base URL must parse, and be HTTPS unless its host is loopback.
/// Returns it without a trailing slash.
pub fn check_base_url(provider: &'static str, url: &str) -> Result<String, Error> {
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::config(provider, format!("base URL `{url}` does not parse: {e}")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::config(
                provider,
                format!("base URL `{url}` is plain HTTP; HTTPS is required for non-loopback hosts"),
            ));
        }
        other => {
            return Err(Error::config(
                provider,
                format!("base URL `{url}` has unsupported scheme `{other}`"),
            ));
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::config(
            provider,
            "base URL must not embed credentials",
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// Everything a provider crate needs to wire its client.
#[derive(Clone)]
pub struct Connect {
    profile: Profile,
    base_url: String,
    http: reqwest::Client,
    /// The timeout `http` applies to every request, when the SDK built it.
    http_timeout: Option<Duration>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    registry: Arc<TokenCaches>,
    store: Option<Arc<dyn TokenStore>>,
    manager: ManagerConfig,
}

impl fmt::Debug for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connect")
            .field("provider", &self.profile.name)
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Connect {
    pub fn profile(&self) -> &Profile {
        &self.profile
    }
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
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
    }

    /// The identity of a principal of this provider at this base URL; the
    /// provider crate adds the credential's parts (public and secret).
    pub fn principal(&self) -> Principal {
        Principal::new(self.profile.name, self.base_url.as_str())
    }

    /// A session whose bearer tokens come from `flow`, cached per
    /// `principal` (see [`Principal`]: the secret is part of it).
    pub fn bearer_session(&self, principal: &Principal, flow: impl TokenFlow) -> SessionBuilder {
        let manager = self.token_manager(principal, Arc::new(flow));
        self.session().bearer(manager)
    }

    /// Wire the usual shape: a login client (`login_session`: static
    /// credentials only, never a bearer), a [`TokenFlow`] over it, and the
    /// API client whose bearer tokens come from that flow, cached per
    /// principal `identity`. `make` is the generated `Client::new_with_client`.
    pub fn sdk<Api, F: TokenFlow>(
        self,
        make: fn(&str, reqwest::Client, Session) -> Api,
        login_session: SessionBuilder,
        principal: &Principal,
        flow: impl FnOnce(Api) -> F,
    ) -> Sdk<Api> {
        self.sdk_with(make, login_session, principal, flow, |api| api)
    }

    /// [`Connect::sdk`], with `api` adding static credentials (signing
    /// secret, dashboard Basic) to the API session next to its bearer.
    pub fn sdk_with<Api, F: TokenFlow>(
        self,
        make: fn(&str, reqwest::Client, Session) -> Api,
        login_session: SessionBuilder,
        principal: &Principal,
        flow: impl FnOnce(Api) -> F,
        api: impl FnOnce(SessionBuilder) -> SessionBuilder,
    ) -> Sdk<Api> {
        let login = make(
            &self.base_url,
            self.http.clone(),
            login_session.auth_endpoint().build(),
        );
        let session = api(self.bearer_session(principal, flow(login))).build();
        let api = make(&self.base_url, self.http.clone(), session.clone());
        Sdk::new(api, session, self)
    }

    fn token_manager(&self, principal: &Principal, flow: Arc<dyn TokenFlow>) -> Arc<TokenManager> {
        let key = RegistryKey {
            principal: principal.process_key(),
            clock: Arc::as_ptr(&self.clock).cast::<()>() as usize,
            store: self
                .store
                .as_ref()
                .map_or(0, |s| Arc::as_ptr(s).cast::<()>() as usize),
            policy: policy_hash(&self.manager),
        };
        let make = || {
            let store_key = self
                .store
                .as_ref()
                .map(|s| s.key_for(principal))
                .unwrap_or_default();
            TokenManager::with_config(
                self.profile,
                self.manager.clone(),
                Arc::clone(&flow),
                Arc::clone(&self.clock),
                Arc::clone(&self.metrics),
                self.store.clone(),
                store_key,
            )
        };
        self.registry.get_or_insert(key, make)
    }
}

/// The cache policy as part of the registry key: clients with another
/// margin or fetch timeout get their own cache.
fn policy_hash(c: &ManagerConfig) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    c.expiry_margin.max.hash(&mut h);
    c.expiry_margin.fraction.to_bits().hash(&mut h);
    c.fetch_timeout.hash(&mut h);
    h.finish()
}
