//! [`Sandbox`]: the handle of a running sandbox, for every provider alike. Provider-specific
//! helpers (`Sandbox::pledg_secret_key`, …) live in each provider's module.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use crate::callback::SignedCallback;
use crate::config::SandboxConfig;
use crate::counters::Counters;
use crate::credentials::Credentials;
use crate::error::SandboxError;
use crate::events::{Answer, CallbackEvent, SandboxEvent};
use crate::faults::{Fault, FaultMix};
use crate::http::server::{self, Server};
use crate::jwt::{self, Forgery};
use crate::provider::Provider;
use crate::route::Route;
use crate::state::Inner;
use crate::variant::Variant;

/// Handle of a running sandbox. Cheap to clone; every clone drives the same server. The server
/// stops on [`Sandbox::shutdown`] or when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Sandbox {
    pub(crate) inner: Arc<Inner>,
    server: Arc<Running>,
}

/// The server, and the callbacks under way: both stop with the last handle.
#[derive(Debug)]
struct Running {
    server: Server,
    inner: Arc<Inner>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.inner.callbacks().stop();
    }
}

impl Sandbox {
    /// Starts with the default configuration on an ephemeral port of 127.0.0.1.
    ///
    /// # Errors
    ///
    /// The listener cannot be bound.
    pub async fn start() -> std::io::Result<Sandbox> {
        Self::start_with(SandboxConfig::default()).await
    }

    /// Starts with `cfg`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an invalid configuration (its message says why); the listener's
    /// error when the port cannot be bound.
    pub async fn start_with(cfg: SandboxConfig) -> std::io::Result<Sandbox> {
        cfg.validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        // Parse every key now, not on the first request.
        let _ = jwt::keys();
        let inner = Arc::new(Inner::new(cfg));
        let server = server::serve(inner.clone()).await?;
        tracing::info!(addr = %server.addr, "sandbox listening");
        Ok(Sandbox {
            server: Arc::new(Running {
                server,
                inner: inner.clone(),
            }),
            inner,
        })
    }

    /// The address the sandbox listens on.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.server.server.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn root_url(&self) -> String {
        format!("http://{}", self.server.server.addr)
    }

    /// The provider's base URL, e.g. `http://127.0.0.1:PORT/exirom/api`.
    pub fn base_url(&self, p: Provider) -> String {
        format!("{}{}", self.root_url(), p.base_path())
    }

    /// Full URL of one route, e.g. `http://127.0.0.1:PORT/exirom/api/v1/auth`.
    pub fn url(&self, p: Provider, r: Route) -> Option<String> {
        p.route_path(r)
            .map(|path| format!("{}{path}", self.base_url(p)))
    }

    /// Working credentials (the current ones, after any rotation).
    pub fn credentials(&self, p: Provider) -> Credentials {
        self.inner.credentials(p)
    }

    /// The secret `p`'s signed requests are signed with (a JWT over the body, a checksum
    /// in it), after any rotation; `None` when `p` signs no request. Over HTTP:
    /// `GET /__sandbox/signing/{provider}`.
    pub fn signing_secret(&self, p: Provider) -> Option<String> {
        p.signing_secret(&self.inner)
    }

    /// The configuration the sandbox was started with.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.cfg
    }

    /// How to use `p` by hand: its credentials, a shell command that logs in, and notes
    /// (extra test accounts). What `cargo run -p payauth-sandbox` prints.
    pub fn usage(&self, p: Provider) -> String {
        let credentials = self.credentials(p);
        let mut lines = vec![format!("credentials: {credentials}")];
        if let Some(plugin) = p.plugin() {
            lines.push(plugin.login_example(&self.base_url(p), &credentials));
            lines.extend(plugin.notes(&self.inner));
        }
        lines.join("\n")
    }

    /// Moves the sandbox clock forward (token expiry follows it; nothing sleeps).
    pub fn advance_clock(&self, d: Duration) {
        self.inner.advance_clock(d);
    }

    /// The clock offset in milliseconds, shared: a client's test clock can follow it.
    pub fn clock_offset(&self) -> Arc<AtomicI64> {
        self.inner.clock().offset()
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

    /// Selects a response-shape variant of its provider (see [`Provider::variants`]).
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
    ///
    /// # Errors
    ///
    /// [`SandboxError::RouteNotOffered`] when the provider has no such route.
    pub fn try_inject(&self, p: Provider, route: Route, fault: Fault) -> Result<(), SandboxError> {
        self.inner.inject(p, route, fault)
    }

    /// Random faults on (provider, route) from now on: each request draws one of `mix.faults`
    /// with probability `mix.rate` (after any queued fault). Replaces the route's previous mix;
    /// a rate outside `0..=1`, or a positive rate without faults, is an error.
    ///
    /// # Errors
    ///
    /// [`SandboxError::InvalidConfig`] for such a mix;
    /// [`SandboxError::RouteNotOffered`] for a route the provider does not have.
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

    /// Sets every counter back to zero.
    pub fn reset_counters(&self) {
        self.inner.reset_counters();
    }

    /// A token that looks live for `p` (right claims, fresh `exp`) but that the sandbox must
    /// refuse. Its `sub` is the one the provider's real tokens carry.
    pub fn forge_token(&self, p: Provider, kind: Forgery) -> String {
        let sub = p
            .plugin()
            .map(|plugin| plugin.forged_subject(&self.inner))
            .unwrap_or_default();
        jwt::forge(
            p,
            kind,
            "access",
            &sub,
            self.inner.cfg.token_lifetime(p),
            self.inner.epoch(p),
            self.inner.now_secs(),
        )
    }

    /// How many resources (payments, transactions, purchase links) the provider's
    /// operations created. Idempotent repeats do not count.
    pub fn created(&self, p: Provider) -> u64 {
        self.inner.created(p)
    }

    /// POSTs `callback` to `url` once (a server the test runs on loopback) and
    /// returns the status it answered. The sandbox sends callbacks on its own when its
    /// objects change; this is for a callback made by hand.
    ///
    /// # Errors
    ///
    /// No answer (refused connection, timeout, broken transport), described in words.
    pub async fn deliver(&self, url: &str, callback: &SignedCallback) -> Result<u16, String> {
        match self.inner.callbacks().post_once(url, callback).await {
            Answer::Status(status) => Ok(status),
            Answer::Unreachable(why) => Err(why),
        }
    }

    /// Every event from now on: each request answered, each callback attempt
    /// ([`SandboxEvent`]). A receiver more than [`crate::EVENT_BUFFER`] events behind loses
    /// the oldest (it is told how many).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<SandboxEvent> {
        self.inner.subscribe()
    }

    /// The latest event of each of the last callbacks (at most 200), oldest first: how the
    /// callbacks went, for whoever did not subscribe in time.
    pub fn callbacks(&self) -> Vec<CallbackEvent> {
        self.inner.recent_callbacks()
    }

    /// Moves the provider's object `id` (a payment, a purchase) to `status`, as the
    /// provider would when it settles, declines or completes, and sends its callback to the
    /// URL its request named. exirom: a payment or payout by `transactionId`; pledg: a
    /// purchase link by `uid`. axept's transactions change by `POST /ProcessDecision`.
    ///
    /// # Errors
    ///
    /// [`SandboxError::UnknownObject`] for an id the provider has no object of;
    /// [`SandboxError::CannotSettle`] when the object cannot move to `status` (or the
    /// provider settles nothing this way).
    pub fn settle(&self, p: Provider, id: &str, status: &str) -> Result<(), SandboxError> {
        p.settle(&self.inner, id, status)
    }

    /// Stops the server: the port is released, open connections are closed, callbacks
    /// under way are abandoned.
    pub async fn shutdown(self) {
        self.inner.callbacks().stop();
        let _ = self.server.server.shutdown.send(true);
        let task = self
            .server
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
