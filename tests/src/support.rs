//! End-to-end test support: a sandbox plus every provider's SDK pointed at
//! it, sharing one movable clock, behind one trait object (built by each
//! provider's descriptor) so a test can run the same scenario for every
//! provider where it applies.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use auth_runtime::descriptor::{
    Answered, Call, CallAuth, ClientOptions, Descriptor, DynClient, Values,
};
use auth_runtime::{MetricsSnapshot, OffsetClock, RetryPolicy};
use payauth::{providers, sandbox_env};
use sandbox::{Provider, Route, Sandbox, SandboxConfig};

/// A sandbox and a clock the SDKs share with it.
#[derive(Debug)]
pub struct Env {
    pub sandbox: Sandbox,
    pub clock: OffsetClock,
}

impl Env {
    pub async fn start() -> Env {
        Env::start_with(SandboxConfig::default()).await
    }

    pub async fn start_with(cfg: SandboxConfig) -> Env {
        let sandbox = Sandbox::start_with(cfg).await.expect("sandbox starts");
        let clock = OffsetClock::new(sandbox.clock_offset());
        Env { sandbox, clock }
    }

    /// Move sandbox and SDK time together.
    pub fn advance(&self, by: Duration) {
        self.sandbox.advance_clock(by);
    }

    pub fn logins(&self, p: Provider) -> u64 {
        self.sandbox.counters().logins(p)
    }

    pub fn refreshes(&self, p: Provider) -> u64 {
        self.sandbox.counters().refreshes(p)
    }

    /// Logins plus refreshes: every auth call the provider served.
    pub fn auth_calls(&self, p: Provider) -> u64 {
        self.logins(p) + self.refreshes(p)
    }

    pub fn unauthorized(&self, p: Provider) -> u64 {
        self.sandbox.counters().unauthorized(p)
    }

    pub fn requests(&self, p: Provider, r: Route) -> u64 {
        self.sandbox.counters().route(p, r).requests
    }

    /// An SDK for `p` with fast retries and its own token cache.
    pub fn client(&self, p: Provider) -> AnyClient {
        self.client_with(p, fast_retries())
    }

    pub fn client_with(&self, p: Provider, policy: RetryPolicy) -> AnyClient {
        self.client_reporting(p, policy, auth_runtime::Telemetry::default())
    }

    /// [`Env::client_with`], reporting to `telemetry`.
    pub fn client_reporting(
        &self,
        p: Provider,
        policy: RetryPolicy,
        telemetry: auth_runtime::Telemetry,
    ) -> AnyClient {
        let options = self.options().retry_policy(policy).telemetry(telemetry);
        self.connect(p, options, &self.variables(p))
    }

    /// What the tests' clients are built with unless a test says
    /// otherwise: the sandbox's clock, fast retries, a cache of their own.
    pub fn options(&self) -> ClientOptions {
        ClientOptions::default()
            .clock(Arc::new(self.clock.clone()))
            .retry_policy(fast_retries())
            .shared_cache(false)
    }

    /// The variables `payauth sandbox` prints for `p`: every documented
    /// mechanism the sandbox has credentials for.
    pub fn variables(&self, p: Provider) -> Variables {
        sandbox_env::variables(&self.sandbox, descriptor(p))
            .into_iter()
            .collect()
    }

    /// A client of `p` that its descriptor builds from the sandbox's
    /// variables with `changes` made (a variable given `None` is left out)
    /// and `options`: a test states only the credential that differs.
    pub fn client_where(
        &self,
        p: Provider,
        options: ClientOptions,
        changes: &[(&'static str, Option<&str>)],
    ) -> AnyClient {
        let mut variables = self.variables(p);
        for &(name, value) in changes {
            assert!(
                descriptor(p).variables().any(|v| v.name == name),
                "{p:?} has no variable {name}"
            );
            match value {
                Some(v) => variables.insert(name, v.to_owned()),
                None => variables.remove(name),
            };
        }
        self.connect(p, options, &variables)
    }

    /// A client of `p` that its descriptor builds from `variables`.
    pub fn connect(&self, p: Provider, options: ClientOptions, variables: &Variables) -> AnyClient {
        let descriptor = descriptor(p);
        let values = sandbox_env::values(&self.sandbox, descriptor).expect("an emulated provider");
        let inner = descriptor
            .connect(&|k| variables.get(k).cloned(), options)
            .expect("client builds");
        AnyClient {
            inner,
            provider: p,
            values: Arc::new(values),
        }
    }

    /// One field of the provider's current credentials (`api_key`, …).
    pub fn credential(&self, p: Provider, field: &str) -> String {
        self.sandbox.credentials(p).text(field).to_owned()
    }
}

/// Environment variables by name, as a descriptor reads them.
pub type Variables = HashMap<&'static str, String>;

/// The provider's descriptor.
pub fn descriptor(p: Provider) -> &'static Descriptor {
    providers::find(p.as_str()).expect("every emulated provider has a descriptor")
}

/// The providers of the descriptor list the sandbox emulates, in the
/// list's order: what the end-to-end tests iterate.
pub fn providers() -> impl Iterator<Item = Provider> {
    providers::ALL.iter().filter_map(|d| d.name.parse().ok())
}

/// Retries as in production but with millisecond backoffs.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(50))
}

/// What an authenticated call ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The final HTTP status, when there was a response.
    pub status: Option<u16>,
    /// HTTP attempts the runtime made for the call.
    pub attempts: u32,
    /// The error's text, when the call failed.
    pub error: Option<String>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.status == Some(200) && self.error.is_none()
    }
}

/// A client of any provider's SDK (its descriptor's trait object), with
/// the sandbox's values its sample calls need.
#[derive(Clone)]
pub struct AnyClient {
    inner: Arc<dyn DynClient>,
    provider: Provider,
    /// Credentials among them: never printed.
    values: Arc<Values>,
}

/// The client's own `Debug` (which redacts); the sandbox's values by name only.
impl std::fmt::Debug for AnyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnyClient")
            .field("inner", &self.inner)
            .field("values", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn outcome(result: Result<Answered, auth_runtime::Error>) -> Outcome {
    match result {
        Ok(a) => Outcome {
            status: Some(a.status),
            attempts: a.attempts,
            error: None,
        },
        Err(e) => Outcome {
            status: e.status(),
            attempts: e.attempts(),
            error: Some(format!("{:?}: {e}", e.kind())),
        },
    }
}

impl AnyClient {
    pub fn provider(&self) -> Provider {
        self.provider
    }

    pub fn descriptor(&self) -> &'static Descriptor {
        self.inner.descriptor()
    }

    /// The provider crate's own client (`exirom::Client`, …).
    ///
    /// # Panics
    /// When `C` is not this provider's client type.
    pub fn typed<C: Clone + 'static>(&self) -> C {
        self.inner
            .as_any()
            .downcast_ref::<C>()
            .cloned()
            .unwrap_or_else(|| {
                panic!(
                    "{:?} is not a {}",
                    self.provider,
                    std::any::type_name::<C>()
                )
            })
    }

    /// The sandbox route `call` hits.
    fn route_of(&self, call: &Call) -> Route {
        let p = self.provider;
        p.routes()
            .iter()
            .copied()
            .find(|r| p.route_path(*r) == Some(call.path))
            .unwrap_or_else(|| panic!("{p:?}: the sandbox has no route {}", call.path))
    }

    /// The typed bearer call [`AnyClient::call`] makes: the authenticated
    /// endpoint the provider's authentication page documents.
    fn documented_call(&self) -> Option<&'static Call> {
        self.descriptor()
            .about
            .login_page_call
            .as_ref()
            .filter(|c| c.auth == CallAuth::Bearer)
    }

    /// The route [`AnyClient::call`] hits.
    pub fn call_route(&self) -> Route {
        match self.documented_call() {
            Some(call) => self.route_of(call),
            None => Route::Protected,
        }
    }

    /// An authenticated call: the typed operation the provider's
    /// authentication page documents, where it names one (institution,
    /// bursagb), else the sandbox's protected endpoint through the
    /// hand-made request path.
    pub async fn call(&self) -> Outcome {
        match self.documented_call() {
            Some(call) => outcome(self.inner.run_sample(call, &self.values).await),
            None => self.protected().await,
        }
    }

    /// The route [`AnyClient::operation`] hits.
    pub fn operation_route(&self) -> Route {
        self.route_of(&self.descriptor().about.example)
    }

    /// The provider's headline typed operation (its descriptor's
    /// example, never the sandbox-only route) with a sample body, and its
    /// route.
    pub async fn operation(&self, _sandbox: &Sandbox) -> (&'static str, Route, Outcome) {
        let call = &self.descriptor().about.example;
        let out = outcome(self.inner.run_sample(call, &self.values).await);
        (call.operation, self.route_of(call), out)
    }

    /// `GET {base}/sandbox/protected` through `send` (bearer, retries, 401
    /// recovery; a final 401/403/5xx is an error).
    pub async fn protected(&self) -> Outcome {
        let request = self
            .inner
            .request(reqwest::Method::GET, "/sandbox/protected");
        match self.inner.send(request).await {
            Ok(resp) => Outcome {
                status: Some(resp.status().as_u16()),
                attempts: auth_runtime::retry::attempts_of(resp.headers()),
                error: None,
            },
            Err(e) => Outcome {
                status: e.status(),
                attempts: e.attempts(),
                error: Some(format!("{:?}: {e}", e.kind())),
            },
        }
    }

    pub async fn bearer(&self) -> Result<Arc<auth_runtime::Token>, auth_runtime::Error> {
        self.inner.bearer().await
    }

    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics()
    }

    pub fn debug(&self) -> String {
        format!("{self:?}")
    }
}

/// `exp - iat` of a JWT (unverified: the lifetime its issuer gave it).
pub fn issued_lifetime(jwt: &str) -> Option<Duration> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let (exp, iat) = (claims.get("exp")?.as_u64()?, claims.get("iat")?.as_u64()?);
    Some(Duration::from_secs(exp.checked_sub(iat)?))
}
