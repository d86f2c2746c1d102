//! Local, stateful emulator of five payment providers' authentication APIs
//! (exirom, institution, pledg, bursagb, axept).
//!
//! One HTTP listener (127.0.0.1, ephemeral port by default) serves every provider under a
//! prefix shaped like its real base URL ([`Sandbox::base_url`]). Tokens are real signed JWTs
//! (`iat`, `exp`, `sub`, `jti`, `env: "sandbox"`); the sandbox keeps its own clock
//! ([`Sandbox::advance_clock`]), revocations, rotating refresh tokens, rotating credentials,
//! queued faults ([`Sandbox::inject`]) and counters ([`Sandbox::counters`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use sandbox::{Fault, Provider, Route, Sandbox};
//! let sb = Sandbox::start().await?;
//! let login_url = format!("{}/api/token", sb.base_url(Provider::Pledg));
//! sb.inject(Provider::Pledg, Route::Login, Fault::status(503).retry_after_secs(1));
//! // ... drive a client against `login_url` ...
//! assert_eq!(sb.counters().route(Provider::Pledg, Route::Login).faults_served, 0);
//! sb.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Every key in this crate is a SANDBOX-ONLY test key, public in the repository.

mod config;
mod control;
mod jwt;
mod providers;
mod resources;
mod server;
mod signatures;
mod state;
mod types;

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

pub use config::{
    AxeptConfig, BursagbAccount, BursagbApiKey, BursagbConfig, ExiromConfig, InstitutionConfig,
    PledgConfig, SandboxConfig,
};
pub use jwt::{Forgery, SANDBOX_ENV, institution_public_key_pem, peek_claims};
pub use types::{
    Counters, Credentials, Fault, FaultMix, Provider, RetryAfter, Route, RouteCounters,
    SandboxError, Variant,
};

use state::Inner;

/// A callback the sandbox signed as the provider does: the raw body and
/// the headers to send with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCallback {
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

/// Handle of a running sandbox. Cheap to clone; every clone drives the same server. The server
/// stops on [`Sandbox::shutdown`] or when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
    server: Arc<server::Server>,
}

impl Sandbox {
    /// Starts with the default configuration on an ephemeral port of 127.0.0.1.
    pub async fn start() -> std::io::Result<Sandbox> {
        Self::start_with(SandboxConfig::default()).await
    }

    /// Starts with `cfg` (an invalid configuration is an `InvalidInput` error).
    pub async fn start_with(cfg: SandboxConfig) -> std::io::Result<Sandbox> {
        cfg.validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        // Parse every key now, not on the first request.
        let _ = jwt::keys();
        let inner = Arc::new(Inner::new(cfg));
        let server = server::serve(inner.clone()).await?;
        tracing::info!(addr = %server.addr, "sandbox listening");
        Ok(Sandbox {
            inner,
            server: Arc::new(server),
        })
    }

    /// The address the sandbox listens on.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.server.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn root_url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// The provider's base URL, e.g. `http://127.0.0.1:PORT/exirom/api`.
    pub fn base_url(&self, p: Provider) -> String {
        format!("{}{}", self.root_url(), p.base_path())
    }

    /// Full URL of one route, e.g. `http://127.0.0.1:PORT/exirom/api/v1/auth`.
    pub fn url(&self, p: Provider, r: Route) -> Option<String> {
        p.route_path(r)
            .filter(|_| p.routes().contains(&r))
            .map(|path| format!("{}{path}", self.base_url(p)))
    }

    /// Working credentials (the current ones, after any rotation).
    pub fn credentials(&self, p: Provider) -> Credentials {
        self.inner.credentials(p)
    }

    /// The configuration the sandbox was started with.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.cfg
    }

    /// A bursagb `ApiKey` that is valid but whose tenant lacks Supplier API access (→ 403).
    pub fn bursagb_restricted_api_key(&self) -> Option<String> {
        self.inner.with_accounts(|a| {
            a.bursagb_api_keys
                .iter()
                .find(|k| !k.supplier_access)
                .map(|k| k.key.clone())
        })
    }

    /// A bursagb storefront customer `(email, password)` whose tokens lack `orders:write`.
    pub fn bursagb_customer_without_orders_scope(&self) -> Option<(String, String)> {
        self.inner.with_accounts(|a| {
            a.bursagb_customers
                .iter()
                .find(|c| !c.scopes.iter().any(|s| s == "orders:write"))
                .map(|c| (c.email.clone(), c.password.clone()))
        })
    }

    /// Moves the sandbox clock forward (token expiry follows it; nothing sleeps).
    pub fn advance_clock(&self, d: Duration) {
        self.inner.advance_clock(d);
    }

    /// The clock offset in milliseconds, shared: a client's test clock can follow it.
    pub fn clock_offset(&self) -> Arc<AtomicI64> {
        self.inner.clock_offset_ms.clone()
    }

    /// The sandbox's current time (wall clock + offset).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.now()
    }

    /// Revokes one token (access or refresh), or an API key given verbatim.
    pub fn revoke_token(&self, token: &str) {
        self.inner.revoke(token);
    }

    /// Revokes every token the provider has issued so far (refresh tokens included).
    pub fn revoke_all(&self, p: Provider) {
        self.inner.revoke_all(p);
    }

    /// Replaces the provider's secrets (passwords, secrets, API keys; identifiers stay) and
    /// returns the new credentials. The old ones stop working; issued tokens stay valid.
    pub fn rotate_credentials(&self, p: Provider) -> Credentials {
        self.inner.rotate(p)
    }

    /// Selects a response-shape variant of exirom or axept.
    pub fn set_variant(&self, v: Variant) {
        self.inner.set_variant(v);
    }

    /// Queues a fault for ONE subsequent request on (provider, route), FIFO.
    ///
    /// # Panics
    /// If the provider does not offer that route (see [`Provider::routes`]); use
    /// [`Sandbox::try_inject`] to get an error instead.
    pub fn inject(&self, p: Provider, route: Route, fault: Fault) {
        if let Err(e) = self.try_inject(p, route, fault) {
            panic!("Sandbox::inject: {e}");
        }
    }

    /// Like [`Sandbox::inject`], but an unknown (provider, route) is an error.
    pub fn try_inject(&self, p: Provider, route: Route, fault: Fault) -> Result<(), SandboxError> {
        self.inner.inject(p, route, fault)
    }

    /// Random faults on (provider, route) from now on: each request draws one of `mix.faults`
    /// with probability `mix.rate` (after any queued fault). Replaces the route's previous mix;
    /// a rate outside `0..=1`, or a positive rate without faults, is an error.
    pub fn set_fault_mix(
        &self,
        p: Provider,
        route: Route,
        mix: FaultMix,
    ) -> Result<(), SandboxError> {
        self.inner.set_fault_mix(p, route, mix)
    }

    /// Drops every queued fault and every fault mix.
    pub fn clear_faults(&self) {
        self.inner.clear_faults();
    }

    /// Snapshot of the counters.
    pub fn counters(&self) -> Counters {
        self.inner.counters()
    }

    pub fn reset_counters(&self) {
        self.inner.reset_counters();
    }

    /// A token that looks live for `p` (right claims, fresh `exp`) but that the sandbox must
    /// refuse. For institution, `sub` is the user id of the access token.
    pub fn forge_token(&self, p: Provider, kind: Forgery) -> String {
        let (lifetime, sub) = match p {
            Provider::Exirom => (
                self.inner.cfg.exirom.token_lifetime,
                self.inner.with_accounts(|a| a.exirom_key.clone()),
            ),
            Provider::Institution => (
                self.inner.cfg.institution.access_token_lifetime,
                "78a12644-a123-4c2b-8e2f-225f54e20b84".to_owned(),
            ),
            Provider::Pledg => (
                self.inner.cfg.pledg.token_lifetime,
                self.inner.with_accounts(|a| a.pledg_key.clone()),
            ),
            Provider::Bursagb => (
                self.inner.cfg.bursagb.token_lifetime,
                self.inner
                    .with_accounts(|a| a.bursagb_reseller.customer_id.clone()),
            ),
            Provider::Axept => (
                self.inner.cfg.axept.token_lifetime,
                self.inner
                    .with_accounts(|a| a.axept_merchant_id.to_string()),
            ),
        };
        jwt::forge(
            p,
            kind,
            "access",
            &sub,
            lifetime,
            self.inner.epoch(p),
            self.inner.now_secs(),
        )
    }

    /// How many resources (exirom payments, axept transactions, pledg
    /// purchase links) the provider's operations created. Idempotent
    /// repeats do not count.
    pub fn created(&self, p: Provider) -> u64 {
        self.inner.resources.created(p)
    }

    /// The merchant's secret key of pledg (request signatures, notifications).
    pub fn pledg_secret_key(&self) -> String {
        self.inner.cfg.pledg.secret_key.clone()
    }

    /// pledg's merchant uid (purchase links must name it).
    pub fn pledg_merchant_uid(&self) -> String {
        self.inner.cfg.pledg.merchant_uid.clone()
    }

    /// pledg's merchant-dashboard user and password (HTTP Basic).
    pub fn pledg_dashboard(&self) -> (String, String) {
        let c = &self.inner.cfg.pledg;
        (c.dashboard_user.clone(), c.dashboard_password.clone())
    }

    /// exirom's signed callback for payment `transaction_id` (`X-Checksum`
    /// with the current merchant secret), or `None` for an unknown payment.
    pub fn exirom_callback(&self, transaction_id: &str) -> Option<SignedCallback> {
        let (body, checksum) = providers::exirom::callback(&self.inner, transaction_id)?;
        Some(SignedCallback {
            body,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("x-checksum".into(), checksum),
            ],
        })
    }

    /// pledg's signed notification `{"signature": <jwt>}` about purchase
    /// link `uid` with `status`, or `None` for an unknown link.
    pub fn pledg_notification(&self, uid: &str, status: &str) -> Option<SignedCallback> {
        let body = providers::pledg::notification(&self.inner, uid, status)?;
        Some(SignedCallback {
            body,
            headers: vec![("content-type".into(), "application/json".into())],
        })
    }

    /// POSTs `callback` to `url` (a server the test runs on loopback) and
    /// returns the status it answered.
    pub async fn deliver(&self, url: &str, callback: &SignedCallback) -> Result<u16, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        let mut req = client.post(url).body(callback.body.clone());
        for (k, v) in &callback.headers {
            req = req.header(k, v);
        }
        req.send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| e.without_url().to_string())
    }

    /// Stops the server: the port is released and open connections are closed.
    pub async fn shutdown(self) {
        let _ = self.server.shutdown.send(true);
        let task = self
            .server
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(t) = task {
            let _ = t.await;
        }
    }
}
