//! One builder for every provider SDK: environment, credentials, policy,
//! `from_env`. A provider crate describes itself by implementing
//! [`Provider`]; the rest is here.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::metrics::Metrics;
use crate::retry::RetryPolicy;
use crate::sdk::Sdk;
use crate::secret::fingerprint;
use crate::session::{Session, SessionBuilder};
use crate::store::TokenStore;
use crate::token::{Profile, TokenFlow, TokenManager};

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
            clock: Arc::new(SystemClock),
            http: None,
            timeout: DEFAULT_TIMEOUT,
            shared_cache: true,
            store: None,
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
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .connect_timeout(DEFAULT_CONNECT_TIMEOUT.min(self.timeout))
                .build()
                .map_err(|_| Error::config(name, "could not build the HTTP client"))?,
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
            policy: self.policy,
            clock: self.clock,
            metrics: Arc::new(Metrics::default()),
            registry: if self.shared_cache {
                Arc::clone(&REGISTRY)
            } else {
                Registry::default()
            },
            store,
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
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    registry: Registry,
    store: Option<Arc<dyn TokenStore>>,
}

impl fmt::Debug for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connect")
            .field("provider", &self.profile.name)
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// Token caches by principal key. The process-wide one is shared by every
/// client built with `shared_cache(true)` (the default); a client built
/// with `shared_cache(false)` gets its own, shared with the clients derived
/// from it (bursagb storefronts).
type Registry = Arc<Mutex<HashMap<String, Weak<TokenManager>>>>;
static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::default);

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
    }

    /// A session whose bearer tokens come from `flow`, cached per
    /// principal: this provider, this base URL, and `identity` (the
    /// credential's public parts and, for storefront tokens, the customer).
    /// `identity` is hashed; it never appears in a key in clear.
    pub fn bearer_session(&self, identity: &[&str], flow: impl TokenFlow) -> SessionBuilder {
        let manager = self.token_manager(identity, Arc::new(flow));
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
        identity: &[&str],
        flow: impl FnOnce(Api) -> F,
    ) -> Sdk<Api> {
        self.sdk_with(make, login_session, identity, flow, |api| api)
    }

    /// [`Connect::sdk`], with `api` adding static credentials (signing
    /// secret, dashboard Basic) to the API session next to its bearer.
    pub fn sdk_with<Api, F: TokenFlow>(
        self,
        make: fn(&str, reqwest::Client, Session) -> Api,
        login_session: SessionBuilder,
        identity: &[&str],
        flow: impl FnOnce(Api) -> F,
        api: impl FnOnce(SessionBuilder) -> SessionBuilder,
    ) -> Sdk<Api> {
        let login = make(
            &self.base_url,
            self.http.clone(),
            login_session.auth_endpoint().build(),
        );
        let session = api(self.bearer_session(identity, flow(login))).build();
        let api = make(&self.base_url, self.http.clone(), session.clone());
        Sdk::new(api, session, self)
    }

    /// The cache key of a principal.
    pub fn principal_key(&self, identity: &[&str]) -> String {
        format!(
            "{}:{}",
            self.profile.name,
            fingerprint(&[&[self.base_url.as_str()], identity].concat())
        )
    }

    fn token_manager(&self, identity: &[&str], flow: Arc<dyn TokenFlow>) -> Arc<TokenManager> {
        let key = self.principal_key(identity);
        let make = || {
            TokenManager::with_store(
                self.profile,
                Arc::clone(&flow),
                Arc::clone(&self.clock),
                Arc::clone(&self.metrics),
                self.store.clone(),
                key.clone(),
            )
        };
        let mut registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        registry.retain(|_, weak| weak.strong_count() > 0);
        if let Some(existing) = registry.get(&key).and_then(Weak::upgrade) {
            return existing;
        }
        let manager = make();
        registry.insert(key, Arc::downgrade(&manager));
        manager
    }
}
