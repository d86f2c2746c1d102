//! A provider described for tools: its name, environment variables (which
//! are secret), mechanism in words, token lifetimes, base URLs, a cheap
//! read-only probe call, and a client built from variables behind a trait
//! object ([`DynClient`]). `payauth`, the demo and the workspace's tests
//! iterate a list of these instead of naming each provider.
//!
//! A provider crate writes `pub static DESCRIPTOR: Descriptor =
//! Descriptor::of::<MyProvider>(About { .. })` and implements
//! [`Described`] (the calls its descriptor names).

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;

use super::env::FileLookup;
use super::sdk::Sdk;
use super::{Builder, Provider};
use crate::base::error::{Error, OperationError};
use crate::base::http::headers::attempts_of;
use crate::base::policy::RetryPolicy;
use crate::base::time::{Clock, Sleep};
use crate::observe::metrics::MetricsSnapshot;
use crate::observe::telemetry::Telemetry;
use crate::token::{Token, TokenManager};

/// Values a call's sample body may need (`merchant_uid` of pledg's
/// purchase link), keyed by name.
pub type Values = BTreeMap<String, String>;

/// One environment variable a provider's `from_env` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The variable's name (`MERCHANT_KEY`); `<name>_FILE` may name a file
    /// holding its value instead.
    pub name: &'static str,
    /// A credential: never printed, never logged.
    pub secret: bool,
    /// `from_env` fails without it (`about` says when it is needed otherwise).
    pub required: bool,
    /// What it holds, in a few words (`payauth check` prints it).
    pub about: &'static str,
    /// The field of the local sandbox's values (credentials and
    /// configuration) this variable takes, when the sandbox has one
    /// (`payauth sandbox` prints it).
    pub sandbox_field: Option<&'static str>,
}

impl Variable {
    /// A required, non-secret variable with no sandbox field.
    pub const fn required(name: &'static str, about: &'static str) -> Variable {
        Variable {
            name,
            secret: false,
            required: true,
            about,
            sandbox_field: None,
        }
    }
    /// An optional, non-secret variable with no sandbox field.
    pub const fn optional(name: &'static str, about: &'static str) -> Variable {
        Variable {
            required: false,
            ..Variable::required(name, about)
        }
    }
    /// Marks the variable as a credential.
    pub const fn secret(mut self) -> Variable {
        self.secret = true;
        self
    }
    /// The sandbox's value `field` fills it.
    pub const fn sandbox(mut self, field: &'static str) -> Variable {
        self.sandbox_field = Some(field);
        self
    }
}

/// How a call is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAuth {
    /// A bearer token (a login first).
    Bearer,
    /// A static API key header.
    ApiKey,
    /// A request signature, no token.
    Signed,
}

/// One documented operation a descriptor names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// The operation's id in the spec.
    pub operation: &'static str,
    /// The HTTP method, upper case (`GET`).
    pub method: &'static str,
    /// The path below the base URL, as the spec writes it.
    pub path: &'static str,
    /// How the call is authenticated.
    pub auth: CallAuth,
    /// Safe to send again after a 5xx (a GET, or idempotent by a request id).
    pub retry_safe: bool,
    /// The variable holding the credential this call uses, when it is not
    /// the login's (bursagb's `ApiKey`): the call is made only when it is set.
    pub needs: Option<&'static str>,
}

/// Token lifetimes as the provider documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// The access token's documented lifetime, when the pages give one.
    pub access: Option<Duration>,
    /// The refresh token's, for providers that issue one.
    pub refresh: Option<Duration>,
    /// Where the expiry is read from, in words.
    pub expiry_from: &'static str,
}

/// What a provider crate writes about itself; [`Descriptor::of`] adds
/// the rest from its [`Provider`] profile.
#[derive(Debug, Clone, Copy)]
pub struct About {
    /// How the provider authenticates, in words.
    pub mechanism: &'static str,
    /// The variables `from_env` reads (the base URL's aside).
    pub variables: &'static [Variable],
    /// The token lifetimes the provider documents.
    pub lifetimes: Lifetimes,
    /// A cheap authenticated read-only call, when the spec has one.
    pub probe: Option<Call>,
    /// The provider's headline typed operation, run with a sample body
    /// against a local sandbox only (the demo, end-to-end tests).
    pub example: Call,
    /// The authenticated endpoint the provider's authentication page
    /// itself documents, when it names one.
    pub login_page_call: Option<Call>,
}

type ConnectFn = fn(
    &'static Descriptor,
    &dyn Fn(&str) -> Option<String>,
    ClientOptions,
) -> Result<Arc<dyn DynClient>, Error>;
type LoginRequestFn = fn(
    &reqwest::Client,
    &str,
    &dyn Fn(&str) -> Option<String>,
) -> Result<reqwest::RequestBuilder, Error>;

/// A provider, described: see the module's documentation.
pub struct Descriptor {
    /// The provider's name (its profile's: `exirom`).
    pub name: &'static str,
    /// What the provider crate wrote about itself.
    pub about: About,
    /// The variable naming the base URL.
    pub base_url_env: &'static str,
    /// The documented sandbox base URL, when there is one.
    pub sandbox_url: Option<&'static str>,
    /// The documented production base URL, when there is one.
    pub production_url: Option<&'static str>,
    connect: ConnectFn,
    login_request: LoginRequestFn,
}

impl fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Descriptor")
            .field("name", &self.name)
            .field("about", &self.about)
            .field("base_url_env", &self.base_url_env)
            .field("sandbox_url", &self.sandbox_url)
            .field("production_url", &self.production_url)
            .finish_non_exhaustive()
    }
}

/// Which deployment a base URL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// The provider's documented sandbox (test) host.
    Sandbox,
    /// The provider's documented production host.
    Production,
    /// A loopback host: a local emulator.
    Local,
    /// Any other host (a proxy, a region the docs do not name).
    Other,
}

impl Deployment {
    /// `sandbox`, `production`, `local`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Deployment::Sandbox => "sandbox",
            Deployment::Production => "production",
            Deployment::Local => "local",
            Deployment::Other => "other",
        }
    }
}

impl Descriptor {
    /// The descriptor of provider `P`.
    pub const fn of<P: Described>(about: About) -> Descriptor {
        Descriptor {
            name: P::PROFILE.name,
            about,
            base_url_env: P::PROFILE.base_url_env,
            sandbox_url: P::PROFILE.sandbox_url,
            production_url: P::PROFILE.production_url,
            connect: connect::<P>,
            login_request: P::login_request,
        }
    }

    /// The base URL's variable (first), then [`About::variables`].
    pub fn variables(&self) -> impl Iterator<Item = Variable> + '_ {
        let about = match self.sandbox_url {
            Some(_) => "base URL (default: the provider's sandbox host)",
            None => "base URL (required: the provider documents no default host)",
        };
        let base = Variable::optional(self.base_url_env, about).sandbox("base_url");
        std::iter::once(base).chain(self.about.variables.iter().copied())
    }

    /// Whether any of the provider's credential variables is set (the
    /// base URL's does not count).
    pub fn is_configured(&self, get: &dyn Fn(&str) -> Option<String>) -> bool {
        let files = FileLookup::new(self.name, get);
        self.about
            .variables
            .iter()
            .any(|v| files.get(v.name).is_some())
    }

    /// Which deployment `base_url` is, by the documented hosts.
    pub fn deployment(&self, base_url: &str) -> Deployment {
        let same = |doc: Option<&str>| {
            doc.is_some_and(|d| d.trim_end_matches('/') == base_url.trim_end_matches('/'))
        };
        if same(self.sandbox_url) {
            Deployment::Sandbox
        } else if same(self.production_url) {
            Deployment::Production
        } else if is_loopback(base_url) {
            Deployment::Local
        } else {
            Deployment::Other
        }
    }

    /// A client from variables looked up with `get` (`<VAR>_FILE` read as
    /// `from_env` does), with `options` applied.
    ///
    /// # Errors
    ///
    /// `Config`, as [`Builder::from_env`] and [`Builder::build`].
    pub fn connect(
        &'static self,
        get: &dyn Fn(&str) -> Option<String>,
        options: ClientOptions,
    ) -> Result<Arc<dyn DynClient>, Error> {
        (self.connect)(self, get, options)
    }

    /// A client from the process's environment.
    ///
    /// # Errors
    ///
    /// As [`Descriptor::connect`].
    pub fn from_env(&'static self) -> Result<Arc<dyn DynClient>, Error> {
        self.connect(&|k| std::env::var(k).ok(), ClientOptions::default())
    }

    /// The documented token request, built by hand with `http` from the
    /// variables (no SDK, nothing sent): for testing an emulator.
    ///
    /// # Errors
    ///
    /// `Config` when a variable the request needs is not set.
    pub fn login_request(
        &self,
        http: &reqwest::Client,
        base_url: &str,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<reqwest::RequestBuilder, Error> {
        (self.login_request)(http, base_url, get)
    }
}

/// What a provider crate implements for its descriptor: the calls it
/// names, and its token request by hand.
pub trait Described: Provider<Client = Sdk<Self::Api>> {
    /// The generated client.
    type Api: Clone + Send + Sync + 'static;

    /// Run `call` (one of the descriptor's) with its sample body.
    ///
    /// # Errors
    ///
    /// The call's error ([`answered`]), or [`unknown_call`]'s `Config`
    /// error for a call the provider has no sample for.
    fn run<'a>(
        client: &'a Sdk<Self::Api>,
        call: &'a Call,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Answered, Error>>;

    /// See [`Descriptor::login_request`].
    ///
    /// # Errors
    ///
    /// `Config` when a variable the request needs is not set.
    fn login_request(
        http: &reqwest::Client,
        base_url: &str,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<reqwest::RequestBuilder, Error>;
}

/// A successful answer to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answered {
    /// The HTTP status of the answer (a success).
    pub status: u16,
    /// HTTP attempts the runtime made.
    pub attempts: u32,
}

/// A typed operation's result as an [`Answered`] or the runtime's error.
///
/// # Errors
///
/// The operation's error, as [`OperationError::into_error`] gives it.
pub fn answered<T, E>(
    result: Result<progenitor_client::ResponseValue<T>, OperationError<E>>,
) -> Result<Answered, Error> {
    match result {
        Ok(value) => Ok(Answered {
            status: value.status().as_u16(),
            attempts: attempts_of(value.headers()),
        }),
        Err(e) => Err(e.into_error()),
    }
}

/// The error of a call a provider's [`Described::run`] does not know.
pub fn unknown_call(provider: &'static str, call: &Call) -> Error {
    Error::config(
        provider,
        format!("no sample for operation `{}`", call.operation),
    )
}

/// Settings of a client built from a descriptor; unset ones keep the
/// builder's defaults.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Wins over the base URL variable.
    pub base_url: Option<String>,
    /// [`Builder::clock`].
    pub clock: Option<Arc<dyn Clock>>,
    /// [`Builder::sleep`].
    pub sleep: Option<Arc<dyn Sleep>>,
    /// [`Builder::retry_policy`].
    pub retry_policy: Option<RetryPolicy>,
    /// [`Builder::telemetry`].
    pub telemetry: Option<Telemetry>,
    /// [`Builder::shared_cache`].
    pub shared_cache: Option<bool>,
    /// [`Builder::timeout`].
    pub timeout: Option<Duration>,
}

impl ClientOptions {
    /// Sets [`base_url`](ClientOptions::base_url): the base URL, winning
    /// over the variable.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// The client's clock ([`Builder::clock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }
    /// The client's timer ([`Builder::sleep`]).
    pub fn sleep(mut self, sleep: Arc<dyn Sleep>) -> Self {
        self.sleep = Some(sleep);
        self
    }
    /// The client's retry policy ([`Builder::retry_policy`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }
    /// Where the client's spans and metrics go ([`Builder::telemetry`]).
    pub fn telemetry(mut self, telemetry: Telemetry) -> Self {
        self.telemetry = Some(telemetry);
        self
    }
    /// Whether the client shares the process's token caches
    /// ([`Builder::shared_cache`]).
    pub fn shared_cache(mut self, shared: bool) -> Self {
        self.shared_cache = Some(shared);
        self
    }
    /// The per-attempt timeout ([`Builder::timeout`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    fn apply<P: Provider>(self, mut b: Builder<P>) -> Builder<P> {
        if let Some(url) = self.base_url {
            b = b.base_url(url);
        }
        if let Some(clock) = self.clock {
            b = b.clock(clock);
        }
        if let Some(sleep) = self.sleep {
            b = b.sleep(sleep);
        }
        if let Some(policy) = self.retry_policy {
            b = b.retry_policy(policy);
        }
        if let Some(telemetry) = self.telemetry {
            b = b.telemetry(telemetry);
        }
        if let Some(shared) = self.shared_cache {
            b = b.shared_cache(shared);
        }
        if let Some(timeout) = self.timeout {
            b = b.timeout(timeout);
        }
        b
    }
}

/// A client of any provider, behind a trait object.
pub trait DynClient: Send + Sync + fmt::Debug + 'static {
    /// The provider's descriptor.
    fn descriptor(&self) -> &'static Descriptor;
    /// The base URL the client talks to.
    fn base_url(&self) -> &str;
    /// A current bearer token (a `Config` error for API-key-only credentials).
    fn bearer(&self) -> BoxFuture<'_, Result<Arc<Token>, Error>>;
    /// The token cache; `None` when the credentials use no token.
    fn token_manager(&self) -> Option<&Arc<TokenManager>>;
    /// When the cached refresh token expires, for providers that issue one.
    fn refresh_token_expires_at(&self) -> Option<SystemTime> {
        self.token_manager()
            .and_then(|m| m.refresh_token_expires_at())
    }
    /// The client's counters with its token cache's ([`Sdk::metrics`]).
    fn metrics(&self) -> MetricsSnapshot;
    /// A hand-made request to `path` below the base URL.
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder;
    /// Send a hand-made request with a bearer token, retries and 401 recovery.
    fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> BoxFuture<'_, Result<reqwest::Response, Error>>;
    /// The descriptor's probe, when it has one and the variable it needs
    /// was set when the client was built.
    fn probe(&self) -> Option<BoxFuture<'_, Result<Answered, Error>>>;
    /// One of the descriptor's calls with its sample body; refused unless
    /// the base URL is a loopback host (a sample may create something).
    fn run_sample<'a>(
        &'a self,
        call: &'a Call,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Answered, Error>>;
    /// The provider crate's own client (`exirom::Client`, …), for downcasting.
    fn as_any(&self) -> &dyn Any;
}

struct Erased<P: Described> {
    descriptor: &'static Descriptor,
    client: Sdk<P::Api>,
    /// The probe, when the variable it needs was set.
    probe: Option<Call>,
}

impl<P: Described> fmt::Debug for Erased<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.client.fmt(f)
    }
}

fn connect<P: Described>(
    descriptor: &'static Descriptor,
    get: &dyn Fn(&str) -> Option<String>,
    options: ClientOptions,
) -> Result<Arc<dyn DynClient>, Error> {
    let client = options
        .apply(Builder::<P>::new())
        .from_env_with(get)?
        .build()?;
    let files = FileLookup::new(descriptor.name, get);
    let probe = descriptor
        .about
        .probe
        .filter(|p| p.needs.is_none_or(|v| files.get(v).is_some()));
    Ok(Arc::new(Erased::<P> {
        descriptor,
        client,
        probe,
    }))
}

impl<P: Described> DynClient for Erased<P> {
    fn descriptor(&self) -> &'static Descriptor {
        self.descriptor
    }
    fn base_url(&self) -> &str {
        self.client.base_url()
    }
    fn bearer(&self) -> BoxFuture<'_, Result<Arc<Token>, Error>> {
        Box::pin(self.client.bearer())
    }
    fn token_manager(&self) -> Option<&Arc<TokenManager>> {
        self.client.session().token_manager()
    }
    fn metrics(&self) -> MetricsSnapshot {
        self.client.metrics()
    }
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, path)
    }
    fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> BoxFuture<'_, Result<reqwest::Response, Error>> {
        Box::pin(self.client.send(request))
    }
    fn probe(&self) -> Option<BoxFuture<'_, Result<Answered, Error>>> {
        static NO_VALUES: Values = BTreeMap::new();
        let call = self.probe.as_ref()?;
        Some(P::run(&self.client, call, &NO_VALUES))
    }
    fn run_sample<'a>(
        &'a self,
        call: &'a Call,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Answered, Error>> {
        if !is_loopback(self.client.base_url()) {
            return Box::pin(std::future::ready(Err(Error::config(
                self.descriptor.name,
                "sample calls run against a local sandbox only (a loopback base URL)",
            ))));
        }
        P::run(&self.client, call, values)
    }
    fn as_any(&self) -> &dyn Any {
        &self.client
    }
}

fn is_loopback(url: &str) -> bool {
    match url::Url::parse(url).ok().as_ref().and_then(url::Url::host) {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// A required variable for a provider's [`Described::login_request`]
/// (`<VAR>_FILE` honoured, empty is unset).
///
/// # Errors
///
/// `Config` when it is not set, or its file cannot be read.
pub fn variable(
    provider: &'static str,
    get: &dyn Fn(&str) -> Option<String>,
    key: &str,
) -> Result<String, Error> {
    let files = FileLookup::new(provider, get);
    let value = files.get(key);
    files.finish()?;
    value.ok_or_else(|| Error::config(provider, format!("{key} is not set")))
}

pub use super::env::env_or_file;

/// A duration for people, to the second: `2d 0h 0min`, `1h 5min 0s`,
/// `26min 51s` — how `payauth check` and the demo print a token's
/// lifetime and refresh lead.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 86_400 => format!(
            "{}d {}h {}min",
            s / 86_400,
            s % 86_400 / 3600,
            s % 3600 / 60
        ),
        s if s >= 3600 => format!("{}h {}min {}s", s / 3600, s % 3600 / 60, s % 60),
        s => format!("{}min {}s", s / 60, s % 60),
    }
}

#[cfg(test)]
#[path = "descriptor_tests.rs"]
mod tests;
