//! A provider described for tools: its name, environment variables (which
//! are secret), mechanism in words, token lifetimes, base URLs, a cheap
//! read-only probe call, and a client built from variables behind a trait
//! object ([`DynClient`]). `payauth`, the demo and the workspace's tests
//! iterate a list of these instead of naming each provider.
//!
//! A provider crate writes `pub static DESCRIPTOR: Descriptor =
//! Descriptor::of::<MyProvider>(About { .. })` and implements
//! [`Described`] (the calls its descriptor names, the objects its
//! callbacks are about).
//!
//! - this file: [`Descriptor`], [`About`], [`DynClient`];
//! - `variables.rs`: [`Variable`], the sandbox's [`Values`], [`variable`];
//! - `calls.rs`: [`Call`], [`Answered`];
//! - `callbacks.rs`: [`Callbacks`] — verifying one, [`CallbackEvent`]s a
//!   sandbox can be made to send;
//! - `described.rs`: [`Described`];
//! - `options.rs`: [`ClientOptions`];
//! - `deployment.rs`: [`Deployment`];
//! - `lifetimes.rs`: [`Lifetimes`], [`human_duration`].

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use futures::future::BoxFuture;

use super::Builder;
use super::env::FileLookup;
use super::sdk::Sdk;
use crate::base::error::Error;
use crate::observe::metrics::MetricsSnapshot;
use crate::token::{Token, TokenManager};

mod callbacks;
mod calls;
mod deployment;
mod described;
mod lifetimes;
mod options;
mod variables;

pub use callbacks::{CallbackEvent, Callbacks, TriggerRequest, Triggered, Verifier, VerifyFn};
pub use calls::{Answered, Call, CallAuth, answered, unknown_call};
pub use deployment::Deployment;
use deployment::is_loopback;
pub use described::Described;
pub use lifetimes::{Lifetimes, human_duration};
pub use options::ClientOptions;
pub use variables::{Values, Variable, env_or_file, variable};

/// What a provider crate writes about itself; [`Descriptor::of`] adds
/// the rest from its [`Provider`](super::Provider) profile.
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
    /// The provider's callbacks, when it sends any.
    pub callbacks: Option<Callbacks>,
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
type TriggerFn = for<'a> fn(
    &'static Descriptor,
    TriggerRequest<'a>,
    ClientOptions,
) -> BoxFuture<'a, Result<Triggered, Error>>;

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
    trigger: TriggerFn,
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
            trigger: trigger::<P>,
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

    /// The event of the provider's callbacks called `name`.
    pub fn callback_event(&self, name: &str) -> Option<&'static CallbackEvent> {
        self.about.callbacks.as_ref()?.event(name)
    }

    /// Create the object of `request`'s event in a sandbox, with a client
    /// built from its values: each variable takes the value its
    /// [`Variable::sandbox_field`] names (the base URL `base_url`), and
    /// `options` apply.
    ///
    /// # Errors
    ///
    /// `Config` as [`Descriptor::connect`], or for an event the provider
    /// does not know; the call's error.
    pub fn trigger<'a>(
        &'static self,
        request: TriggerRequest<'a>,
        options: ClientOptions,
    ) -> BoxFuture<'a, Result<Triggered, Error>> {
        (self.trigger)(self, request, options)
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

fn trigger<'a, P: Described>(
    descriptor: &'static Descriptor,
    request: TriggerRequest<'a>,
    options: ClientOptions,
) -> BoxFuture<'a, Result<Triggered, Error>> {
    let values = request.values;
    let get = |name: &str| {
        let field = descriptor
            .variables()
            .find(|v| v.name == name)?
            .sandbox_field?;
        values.get(field).cloned()
    };
    let client = options
        .apply(Builder::<P>::new())
        .from_env_with(&get)
        .and_then(Builder::build);
    Box::pin(async move { P::trigger(&client?, request).await })
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

#[cfg(test)]
mod tests;
