//! One builder for every provider SDK: environment, credentials, policy,
//! `from_env`. A provider crate describes itself by implementing
//! [`Provider`]; the rest is here.
//!
//! - this file: [`Provider`], [`Builder`], [`Environment`];
//! - `connect.rs`: [`Connect`] — what a provider crate wires its client
//!   from, and the principal's cache in the registry;
//! - `base_url.rs`: the base URL check;
//! - `client_credentials.rs`: OAuth2 client credentials, ready
//!   ([`TokenEndpoint`], [`Connect::client_credentials`]);
//! - `env.rs`: environment variables (the provider's, and the shared
//!   store's, read once per process).

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use crate::base::error::Error;
use crate::base::policy::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, RetryPolicy};
use crate::base::time::{Clock, Sleep, SystemClock, TokioSleep};
use crate::observe::metrics::Metrics;
use crate::observe::telemetry::{Recorder, Telemetry};
use crate::token::registry::TokenCaches;
use crate::token::store::TokenStore;
use crate::token::{ExpiryMargin, Profile};

mod base_url;
mod client_credentials;
mod connect;
pub mod descriptor;
mod env;
pub(crate) mod sdk;

pub use base_url::check_base_url;
pub use client_credentials::{ClientAuth, ClientCredentials, TokenEndpoint};
pub use connect::Connect;
pub(crate) use env::FileLookup;
pub use env::{env_or_file, optional_env, require_env};

/// What a provider SDK crate supplies: its profile (data), its credentials
/// type, and how to wire a client from a [`Connect`].
pub trait Provider: Sized + 'static {
    /// The provider's data: name, refresh lead, assumed token lifetime,
    /// base URL variable, documented URLs.
    const PROFILE: Profile;
    /// The provider crate's version (`env!("CARGO_PKG_VERSION")`): with the
    /// crate's name, its telemetry's instrumentation scope.
    const VERSION: &'static str;
    /// What [`Builder::credentials`] takes (keys, secrets, ids).
    type Credentials: Send + 'static;
    /// What [`Builder::build`] returns: the provider crate's client
    /// (usually [`Sdk`](crate::Sdk) over its generated client).
    type Client;

    /// Read credentials from environment variables (`get` looks one up).
    ///
    /// # Errors
    ///
    /// `Config` when a required variable is not set, or variables that go
    /// together are not all set.
    fn credentials_from_env(
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self::Credentials, Error>;

    /// Build the client for `credentials` against `connect.base_url()`.
    ///
    /// # Errors
    ///
    /// `Config` for credentials the provider cannot use; nothing is sent.
    fn connect(connect: Connect, credentials: Self::Credentials) -> Result<Self::Client, Error>;
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
            Environment, Error, ErrorKind, OperationError, RetryPolicy, Secret, Telemetry,
        };

        /// Start configuring a client.
        pub fn builder() -> Builder {
            Builder::new()
        }

        #[doc = concat!("A client configured from environment variables: ", $env_doc, ". ")]
        /// Each may instead come from the file `<VAR>_FILE` names (trailing
        /// newlines trimmed; empty is unset).
        pub fn from_env() -> Result<Client, $crate::Error> {
            builder().from_env()?.build()
        }
    };
}

/// Which deployment of the provider to talk to.
#[derive(Clone, PartialEq, Eq)]
pub enum Environment {
    /// The provider's documented sandbox URL ([`Profile::sandbox_url`]);
    /// the default.
    Sandbox,
    /// The provider's documented production URL
    /// ([`Profile::production_url`]).
    Production,
    /// Any base URL (the local sandbox, a proxy, a new region).
    Custom(String),
}

/// A custom URL is shown without its user information (a base URL with a
/// password in it is refused at `build`, and never printed).
impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Environment::Sandbox => f.write_str("Sandbox"),
            Environment::Production => f.write_str("Production"),
            Environment::Custom(url) => f
                .debug_tuple("Custom")
                .field(&base_url::without_userinfo(url))
                .finish(),
        }
    }
}

/// One system clock for every client, so clients built separately share
/// caches (the cache key compares clocks by identity). It holds nothing of
/// any runtime.
static SYSTEM_CLOCK: LazyLock<Arc<SystemClock>> = LazyLock::new(|| Arc::new(SystemClock));

/// The builder every provider crate hands out (`exirom::builder()`):
/// where to talk to, with which credentials, and how. Every setting has a
/// default but the credentials; [`build`](Builder::build) checks them.
///
/// | setting | default |
/// |---|---|
/// | [`environment`](Builder::environment) | [`Environment::Sandbox`] (or the provider's base URL variable, with [`from_env`](Builder::from_env)) |
/// | [`retry_policy`](Builder::retry_policy) | [`RetryPolicy::default`]: 2 retries, 0.5–8 s backoff, 30 s deadline |
/// | [`timeout`](Builder::timeout) | [`DEFAULT_TIMEOUT`], 30 s per attempt |
/// | [`clock`](Builder::clock), [`sleep`](Builder::sleep) | the system clock, Tokio's timer |
/// | [`http_client`](Builder::http_client) | one built for the client (timeouts set, reqwest's own retries off) |
/// | [`shared_cache`](Builder::shared_cache) | `true`: one token cache per principal in the process |
/// | [`expiry_margin`](Builder::expiry_margin) | `min(10 s, 15 %)` of the token's lifetime |
/// | [`fetch_timeout`](Builder::fetch_timeout) | [`RetryPolicy::fetch_timeout`], 240 s with the defaults |
/// | [`token_store`](Builder::token_store) | none (or the environment's Redis store, feature `redis`) |
/// | [`telemetry`](Builder::telemetry) | [`Telemetry::default`] |
pub struct Builder<P: Provider> {
    environment: Option<Environment>,
    credentials: Option<P::Credentials>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    sleep: Arc<dyn Sleep>,
    http: Option<reqwest::Client>,
    timeout: Duration,
    shared_cache: bool,
    store: Option<Arc<dyn TokenStore>>,
    expiry_margin: ExpiryMargin,
    fetch_timeout: Option<Duration>,
    telemetry: Telemetry,
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
            .field("telemetry", &self.telemetry)
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
            sleep: Arc::new(TokioSleep),
            http: None,
            timeout: DEFAULT_TIMEOUT,
            shared_cache: true,
            store: None,
            expiry_margin: ExpiryMargin::default(),
            fetch_timeout: None,
            telemetry: Telemetry::default(),
        }
    }
}

impl<P: Provider> Builder<P> {
    /// A builder with every default (see the table above) and no
    /// credentials.
    pub fn new() -> Self {
        Self::default()
    }
    /// Which deployment to talk to (default [`Environment::Sandbox`]).
    pub fn environment(mut self, env: Environment) -> Self {
        self.environment = Some(env);
        self
    }
    /// The provider's documented sandbox ([`Environment::Sandbox`]).
    pub fn sandbox(self) -> Self {
        self.environment(Environment::Sandbox)
    }
    /// The provider's documented production URL
    /// ([`Environment::Production`]).
    pub fn production(self) -> Self {
        self.environment(Environment::Production)
    }
    /// Talk to any base URL ([`Environment::Custom`]). HTTPS is required
    /// unless the host is loopback; a URL with user information is
    /// refused. Both are checked by [`build`](Builder::build).
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.environment(Environment::Custom(url.into()))
    }
    /// The credentials to log in or sign with (the provider crate's
    /// `Credentials`). Required: [`build`](Builder::build) fails without
    /// them unless [`from_env`](Builder::from_env) found them.
    pub fn credentials(mut self, credentials: P::Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }
    /// The retry policy of every call, the login's included (default
    /// [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }
    /// Per-attempt timeout of every HTTP call (default [`DEFAULT_TIMEOUT`],
    /// 30 s); the connect timeout is the shorter of it and
    /// [`DEFAULT_CONNECT_TIMEOUT`] (10 s). Applies to the HTTP client the
    /// SDK builds, and to an application's own client's requests that carry
    /// no timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// The clock the client reads (token lifetimes, refresh times,
    /// backoff). Clients share a principal's cache only with clients of
    /// the same clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// The timer the client waits on (retry backoff, `Retry-After`, the
    /// fetch timeout). With [`crate::SimulatedTime`] as both clock and
    /// timer, a test moves time instead of sleeping.
    pub fn sleep(mut self, sleep: Arc<dyn Sleep>) -> Self {
        self.sleep = sleep;
        self
    }
    /// Use this `reqwest::Client` (shared connection pool, proxies, TLS).
    /// Default: a client built for this SDK client, bounded by
    /// [`timeout`](Builder::timeout).
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
    /// `min(10 s, 15 % of its lifetime)`, [`ExpiryMargin::default`]);
    /// callers then wait for the fresh one.
    pub fn expiry_margin(mut self, margin: ExpiryMargin) -> Self {
        self.expiry_margin = margin;
        self
    }

    /// The longest one token fetch (refresh, then login, with retries) may
    /// take, whatever the HTTP client's own timeouts. Default: what the
    /// retry policy allows two calls ([`RetryPolicy::fetch_timeout`]: 240 s
    /// with the defaults).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = Some(timeout);
        self
    }

    /// Share tokens with other processes through `store` (second level,
    /// behind the in-process cache). Without it, the store the environment
    /// configures (`AUTH_RUNTIME_REDIS_URL`, with the `redis` feature),
    /// read once per process.
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Where this client's spans and metrics go (with the `otel`
    /// feature: the application's global OpenTelemetry providers unless
    /// set; without it, nowhere). See the README, "Telemetry".
    pub fn telemetry(mut self, telemetry: Telemetry) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// Fill environment and credentials from variables (see the provider
    /// crate's docs for their names); values set on the builder win.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when a required
    /// variable is missing or empty, or a `<VAR>_FILE` cannot be read.
    pub fn from_env(self) -> Result<Self, Error> {
        self.from_env_with(&|k| std::env::var(k).ok())
    }

    /// [`Builder::from_env`] reading from `get` instead of the process.
    /// Every variable may come from the file `<VAR>_FILE` names instead
    /// ([`env_or_file`]).
    ///
    /// # Errors
    ///
    /// As [`from_env`](Builder::from_env).
    pub fn from_env_with(mut self, get: &dyn Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let files = FileLookup::new(P::PROFILE.name, get);
        let get = &|k: &str| files.get(k);
        if self.environment.is_none()
            && let Some(url) = optional_env(get, P::PROFILE.base_url_env)
        {
            self.environment = Some(Environment::Custom(url));
        }
        let credentials = self
            .credentials
            .is_none()
            .then(|| P::credentials_from_env(get));
        // A file that cannot be read explains a "not set" that follows it.
        files.finish()?;
        if let Some(credentials) = credentials {
            self.credentials = Some(credentials?);
        }
        Ok(self)
    }

    /// The client: checks the settings, builds the HTTP client and joins
    /// (or makes) the principal's token cache. Nothing is sent: the first
    /// call logs in.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config): no credentials; no
    /// documented URL for the environment; a base URL that is not a URL,
    /// not HTTPS (loopback aside) or carries user information; an HTTP
    /// client that cannot be built; or what the provider's
    /// [`Provider::connect`] refuses.
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
                // TLS from one configuration per process: building a
                // client stays cheap (base/http/tls.rs).
                crate::base::http::tls::client_builder()
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
        let store = self.store.or_else(env::shared_store);
        let policy = self.policy.default_attempt_timeout(self.timeout);
        let fetch_timeout = self.fetch_timeout.unwrap_or_else(|| policy.fetch_timeout());
        let connect = Connect {
            profile,
            base_url,
            http,
            http_timeout,
            policy,
            clock: self.clock,
            sleep: self.sleep,
            metrics: Arc::new(Metrics::default()),
            registry: if self.shared_cache {
                Arc::clone(TokenCaches::global())
            } else {
                Arc::default()
            },
            store,
            expiry_margin: self.expiry_margin,
            fetch_timeout,
            telemetry: Recorder::new(&self.telemetry, name, P::VERSION),
        };
        P::connect(connect, credentials)
    }
}
