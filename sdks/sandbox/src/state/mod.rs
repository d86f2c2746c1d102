//! Shared mutable state of one sandbox: its clock, the providers' live configurations
//! (credentials change on rotation), tokens, fault queues, counters, stores, the events it
//! reports and the callbacks it sends.

mod counter_table;
mod fault_queue;
mod stores;
mod tokens;

pub(crate) use counter_table::{AtomicRouteCounters, inc};
pub(crate) use stores::MAX_PER_KIND;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::config::{ProviderConfig, ProviderConfigs, SandboxConfig};
use crate::counters::Counters;
use crate::credentials::Credentials;
use crate::emulation::callbacks::{CallbackSender, Outgoing};
use crate::error::SandboxError;
use crate::events::{CallbackEvent, EventBus, SandboxEvent};
use crate::faults::{Fault, FaultMix};
use crate::jwt::{self, IssueSpec, Issued, TokenError, TokenFormat, TokenMode, Verified};
use crate::provider::Provider;
use crate::route::Route;
use crate::sync::{read, write};
use crate::variant::Variant;

use counter_table::CounterTable;
use fault_queue::FaultQueues;
use stores::Stores;
use tokens::TokenBook;

pub(crate) struct Inner {
    /// The configuration the sandbox started with.
    pub cfg: SandboxConfig,
    clock: Arc<Clock>,
    /// The providers' configurations as they are now (rotated secrets, variants).
    live: RwLock<ProviderConfigs>,
    tokens: TokenBook,
    faults: FaultQueues,
    counters: CounterTable,
    stores: Stores,
    events: Arc<EventBus>,
    callbacks: Arc<CallbackSender>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Inner {
    pub(crate) fn new(cfg: SandboxConfig) -> Self {
        let clock = Arc::new(Clock::new());
        let events = Arc::new(EventBus::new());
        let callbacks = Arc::new(CallbackSender::new(
            cfg.callbacks.clone(),
            clock.clone(),
            events.clone(),
        ));
        Inner {
            live: RwLock::new(cfg.providers().clone()),
            cfg,
            clock,
            events,
            callbacks,
            tokens: TokenBook::new(),
            faults: FaultQueues::default(),
            counters: CounterTable::new(),
            stores: Stores::new(),
        }
    }

    // ---- clock -------------------------------------------------------------------------

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    pub(crate) fn now_secs(&self) -> i64 {
        self.now().timestamp()
    }

    pub(crate) fn advance_clock(&self, d: Duration) {
        self.clock.advance(d);
    }

    // ---- events and callbacks ----------------------------------------------------------

    pub(crate) fn emit(&self, event: SandboxEvent) {
        self.events.emit(event);
    }

    pub(crate) fn subscribe(&self) -> tokio::sync::broadcast::Receiver<SandboxEvent> {
        self.events.subscribe()
    }

    /// Sends a provider's callback in the background (retried, reported as events).
    pub(crate) fn send_callback(&self, out: Outgoing) {
        self.callbacks.send(out);
    }

    pub(crate) fn callbacks(&self) -> &CallbackSender {
        &self.callbacks
    }

    pub(crate) fn recent_callbacks(&self) -> Vec<CallbackEvent> {
        self.callbacks.recent()
    }

    // ---- live configurations -----------------------------------------------------------

    /// Reads provider `C`'s live configuration (credentials as rotated, current variant).
    pub(crate) fn live<C: ProviderConfig, R>(&self, f: impl FnOnce(&C) -> R) -> R {
        f(read(&self.live).get::<C>())
    }

    pub(crate) fn credentials(&self, p: Provider) -> Credentials {
        read(&self.live)
            .of(p)
            .map_or_else(|| Credentials::new(p), |c| c.credentials())
    }

    /// Replaces the provider's secrets (identifiers such as emails and merchant ids stay).
    /// Tokens already issued stay valid; use `revoke_all` to end them too.
    pub(crate) fn rotate(&self, p: Provider) -> Credentials {
        let mut live = write(&self.live);
        match live.of_mut(p) {
            Some(c) => {
                c.rotate_secrets();
                c.credentials()
            }
            None => Credentials::new(p),
        }
    }

    pub(crate) fn set_variant(&self, v: Variant) {
        if let Some(c) = write(&self.live).of_mut(v.provider()) {
            c.set_variant(v);
        }
    }

    // ---- tokens ------------------------------------------------------------------------

    pub(crate) fn epoch(&self, p: Provider) -> u64 {
        self.tokens.epoch(p)
    }

    /// Issues a token (RS256 signing runs on the blocking pool: ~2 ms in release).
    pub(crate) async fn issue(
        &self,
        p: Provider,
        typ: &'static str,
        sub: String,
        lifetime: Duration,
        mode: TokenMode,
        extra: Map<String, Value>,
    ) -> Issued {
        let epoch = self.epoch(p);
        // `iat`/`exp` are whole seconds: round the issue time UP, so a token lives at least
        // its configured lifetime (truncating made a 2 s token live 1-2 s).
        let now = self.now();
        let now_secs = now.timestamp() + i64::from(now.timestamp_subsec_nanos() > 0);
        let format = p.token_format();
        if format == TokenFormat::Opaque {
            return self
                .tokens
                .issue_opaque(p, typ, &sub, lifetime, mode, now_secs, extra);
        }
        let make = move |sub: String, extra: Map<String, Value>| {
            jwt::issue(IssueSpec {
                provider: p,
                typ,
                sub: &sub,
                lifetime,
                mode,
                epoch,
                now_secs,
                extra,
            })
        };
        if format == TokenFormat::Rs256 {
            let (sub2, extra2) = (sub.clone(), extra.clone());
            match tokio::task::spawn_blocking(move || make(sub2, extra2)).await {
                Ok(t) => t,
                // Only when the runtime is shutting down: sign inline instead.
                Err(_) => make(sub, extra),
            }
        } else {
            make(sub, extra)
        }
    }

    /// Full check of a presented token: signature (or lookup), environment, type, expiry,
    /// revocation.
    pub(crate) async fn verify(
        &self,
        p: Provider,
        token: &str,
        typ: &str,
    ) -> Result<Verified, TokenError> {
        let now = self.now_secs();
        let v = match p.token_format() {
            TokenFormat::Opaque => self.tokens.verify_opaque(p, token, typ, now)?,
            TokenFormat::Rs256 => {
                let (token, typ) = (token.to_owned(), typ.to_owned());
                tokio::task::spawn_blocking(move || jwt::verify(p, &token, &typ, now))
                    .await
                    .unwrap_or(Err(TokenError::Invalid("verification failed")))?
            }
            TokenFormat::Hs256 => jwt::verify(p, token, typ, now)?,
        };
        self.tokens.check_live(p, &v, token)?;
        Ok(v)
    }

    pub(crate) fn is_revoked(&self, s: &str) -> bool {
        self.tokens.is_revoked(s)
    }

    /// Revokes a token (by its `jti`) or any other string (API keys).
    pub(crate) fn revoke(&self, token: &str) {
        self.tokens.revoke(token);
    }

    pub(crate) fn revoke_all(&self, p: Provider) {
        self.tokens.revoke_all(p);
    }

    /// Remembers a rotating refresh token as usable once.
    pub(crate) fn remember_refresh(&self, jti: &str, exp: i64) {
        self.tokens.remember_refresh(jti, exp, self.now_secs());
    }

    /// Consumes a rotating refresh token: true if it was live (it is not any more).
    pub(crate) fn consume_refresh(&self, jti: &str) -> bool {
        self.tokens.consume_refresh(jti)
    }

    // ---- faults ------------------------------------------------------------------------

    pub(crate) fn inject(&self, p: Provider, r: Route, f: Fault) -> Result<(), SandboxError> {
        self.faults.inject(p, r, f)
    }

    pub(crate) fn take_fault(&self, p: Provider, r: Route) -> Option<Fault> {
        self.faults.take(p, r)
    }

    pub(crate) fn set_fault_mix(
        &self,
        p: Provider,
        r: Route,
        mix: FaultMix,
    ) -> Result<(), SandboxError> {
        self.faults.set_mix(p, r, mix)
    }

    pub(crate) fn clear_faults(&self) {
        self.faults.clear();
    }

    // ---- counters ----------------------------------------------------------------------

    /// The counters of route number `route` of provider number `provider`.
    pub(crate) fn counter(&self, provider: usize, route: usize) -> &AtomicRouteCounters {
        self.counters.at(provider, route)
    }

    pub(crate) fn count_login_identity(&self, p: Provider, identity: &str) {
        self.counters.count_login_identity(p, identity);
    }

    pub(crate) fn counters(&self) -> Counters {
        self.counters.snapshot()
    }

    pub(crate) fn reset_counters(&self) {
        self.counters.reset();
    }

    // ---- stores ------------------------------------------------------------------------

    /// This sandbox's store of type `T` (each provider defines its own).
    pub(crate) fn store<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        self.stores.get::<T>()
    }

    pub(crate) fn next_id(&self, prefix: &str) -> String {
        self.stores.next_id(prefix)
    }

    pub(crate) fn count_created(&self, p: Provider) {
        self.stores.count_created(p);
    }

    pub(crate) fn created(&self, p: Provider) -> u64 {
        self.stores.created(p)
    }
}
