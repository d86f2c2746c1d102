//! Shared mutable state of one sandbox: clock, live credentials, revocations, refresh-token
//! rotation, fault queues, counters.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rand::distr::Alphanumeric;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};

use crate::config::{BursagbAccount, SandboxConfig};
use crate::jwt::{self, IssueSpec, Issued, TokenError, TokenMode, Verified};
use crate::types::{
    Counters, Credentials, Fault, FaultMix, Provider, Route, RouteCounters, SandboxError, Variant,
};

/// Lock helper that survives poisoning (a panicking test thread must not wedge the sandbox).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, Default)]
pub(crate) struct AtomicRouteCounters {
    pub requests: AtomicU64,
    pub successes: AtomicU64,
    pub logins: AtomicU64,
    pub refreshes: AtomicU64,
    pub authenticated_ok: AtomicU64,
    pub unauthorized_401: AtomicU64,
    pub forbidden_403: AtomicU64,
    pub faults_served: AtomicU64,
}

impl AtomicRouteCounters {
    fn snapshot(&self) -> RouteCounters {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        RouteCounters {
            requests: l(&self.requests),
            successes: l(&self.successes),
            logins: l(&self.logins),
            refreshes: l(&self.refreshes),
            authenticated_ok: l(&self.authenticated_ok),
            unauthorized_401: l(&self.unauthorized_401),
            forbidden_403: l(&self.forbidden_403),
            faults_served: l(&self.faults_served),
        }
    }
    fn reset(&self) {
        for a in [
            &self.requests,
            &self.successes,
            &self.logins,
            &self.refreshes,
            &self.authenticated_ok,
            &self.unauthorized_401,
            &self.forbidden_403,
            &self.faults_served,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }
}

pub(crate) fn inc(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

/// Credentials currently accepted (they change on rotation).
#[derive(Debug, Clone)]
pub(crate) struct LiveAccounts {
    pub exirom_key: String,
    pub exirom_secret: String,
    pub inst_email: String,
    pub inst_password: String,
    pub inst_merchant_id: String,
    pub inst_api_key: String,
    pub pledg_key: String,
    pub pledg_secret: String,
    pub bursagb_reseller: BursagbAccount,
    pub bursagb_customers: Vec<BursagbAccount>,
    pub bursagb_api_keys: Vec<crate::config::BursagbApiKey>,
    pub axept_merchant_id: i64,
    pub axept_key_id: i64,
    pub axept_key: String,
}

impl LiveAccounts {
    fn from_config(c: &SandboxConfig) -> Self {
        LiveAccounts {
            exirom_key: c.exirom.merchant_key.clone(),
            exirom_secret: c.exirom.merchant_secret.clone(),
            inst_email: c.institution.email.clone(),
            inst_password: c.institution.password.clone(),
            inst_merchant_id: c.institution.merchant_id.clone(),
            inst_api_key: c.institution.api_key.clone(),
            pledg_key: c.pledg.api_key.clone(),
            pledg_secret: c.pledg.api_secret.clone(),
            bursagb_reseller: c.bursagb.reseller.clone(),
            bursagb_customers: c.bursagb.customers.clone(),
            bursagb_api_keys: c.bursagb.api_keys.clone(),
            axept_merchant_id: c.axept.merchant_id,
            axept_key_id: c.axept.key_id,
            axept_key: c.axept.key.clone(),
        }
    }

    pub fn credentials(&self, p: Provider) -> Credentials {
        match p {
            Provider::Exirom => Credentials::Exirom {
                merchant_key: self.exirom_key.clone(),
                merchant_secret: self.exirom_secret.clone(),
            },
            Provider::Institution => Credentials::Institution {
                email: self.inst_email.clone(),
                password: self.inst_password.clone(),
                merchant_id: self.inst_merchant_id.clone(),
                api_key: self.inst_api_key.clone(),
            },
            Provider::Pledg => Credentials::Pledg {
                api_key: self.pledg_key.clone(),
                api_secret: self.pledg_secret.clone(),
            },
            Provider::Bursagb => Credentials::Bursagb {
                email: self.bursagb_reseller.email.clone(),
                password: self.bursagb_reseller.password.clone(),
                api_key: self
                    .bursagb_api_keys
                    .iter()
                    .find(|k| k.supplier_access)
                    .map(|k| k.key.clone())
                    .unwrap_or_default(),
                customers: self
                    .bursagb_customers
                    .iter()
                    .map(|c| (c.email.clone(), c.password.clone()))
                    .collect(),
            },
            Provider::Axept => Credentials::Axept {
                merchant_id: self.axept_merchant_id,
                key_id: self.axept_key_id,
                key: self.axept_key.clone(),
            },
        }
    }
}

fn random_secret(prefix: &str) -> String {
    let s: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("{prefix}{s}")
}

pub(crate) struct Inner {
    pub cfg: SandboxConfig,
    pub clock_offset_ms: Arc<AtomicI64>,
    pub accounts: RwLock<LiveAccounts>,
    exirom_variant: AtomicU8,
    axept_variant: AtomicU8,
    /// Revoked token ids (`jti`) and revoked raw strings (API keys, unparseable tokens).
    revoked: RwLock<HashSet<String>>,
    /// Per-provider epoch: `revoke_all` bumps it, tokens of older epochs are refused.
    epochs: [AtomicU64; 5],
    /// institution refresh tokens still usable: jti → exp (rotation removes them).
    live_refresh: Mutex<HashMap<String, i64>>,
    faults: Mutex<HashMap<(Provider, Route), VecDeque<Fault>>>,
    queued_faults: AtomicUsize,
    /// Random faults per route, each with its own seeded RNG.
    fault_mixes: Mutex<HashMap<(Provider, Route), (FaultMix, StdRng)>>,
    active_mixes: AtomicUsize,
    counters: Vec<Vec<AtomicRouteCounters>>,
    logins_by_identity: Mutex<BTreeMap<Provider, BTreeMap<String, u64>>>,
    order_seq: AtomicU64,
    /// Payments, transactions, purchase links the emulated operations created.
    pub resources: crate::resources::Resources,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("clock_offset_ms", &self.clock_offset_ms)
            .finish_non_exhaustive()
    }
}

fn variant_code(v: Variant) -> u8 {
    match v {
        Variant::ExiromBareString | Variant::AxeptCamel => 0,
        Variant::ExiromObject | Variant::AxeptPascal => 1,
    }
}

impl Inner {
    pub fn new(cfg: SandboxConfig) -> Self {
        let accounts = RwLock::new(LiveAccounts::from_config(&cfg));
        Inner {
            exirom_variant: AtomicU8::new(variant_code(cfg.exirom.variant)),
            axept_variant: AtomicU8::new(variant_code(cfg.axept.variant)),
            cfg,
            clock_offset_ms: Arc::new(AtomicI64::new(0)),
            accounts,
            revoked: RwLock::new(HashSet::new()),
            epochs: Default::default(),
            live_refresh: Mutex::new(HashMap::new()),
            faults: Mutex::new(HashMap::new()),
            queued_faults: AtomicUsize::new(0),
            fault_mixes: Mutex::new(HashMap::new()),
            active_mixes: AtomicUsize::new(0),
            counters: Provider::ALL
                .iter()
                .map(|_| Route::ALL.iter().map(|_| Default::default()).collect())
                .collect(),
            logins_by_identity: Mutex::new(BTreeMap::new()),
            order_seq: AtomicU64::new(100_000),
            resources: Default::default(),
        }
    }

    // ---- clock -------------------------------------------------------------------------

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.clock_offset_ms.load(Ordering::Relaxed))
    }

    pub fn now_secs(&self) -> i64 {
        self.now().timestamp()
    }

    pub fn advance_clock(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2);
        self.clock_offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    // ---- accounts ----------------------------------------------------------------------

    pub fn with_accounts<R>(&self, f: impl FnOnce(&LiveAccounts) -> R) -> R {
        f(&self.accounts.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn credentials(&self, p: Provider) -> Credentials {
        self.with_accounts(|a| a.credentials(p))
    }

    /// Replaces the provider's secrets (identifiers such as emails and merchant ids stay).
    /// Tokens already issued stay valid; use `revoke_all` to end them too.
    pub fn rotate(&self, p: Provider) -> Credentials {
        let mut a = self.accounts.write().unwrap_or_else(|e| e.into_inner());
        match p {
            Provider::Exirom => a.exirom_secret = random_secret("sbx-exirom-secret-"),
            Provider::Institution => {
                a.inst_password = random_secret("Pw-");
                a.inst_api_key = random_secret("sbx-institution-api-key-");
            }
            Provider::Pledg => a.pledg_secret = random_secret("sbx_pledg_secret_"),
            Provider::Bursagb => {
                a.bursagb_reseller.password = random_secret("Pw-");
                for c in &mut a.bursagb_customers {
                    c.password = random_secret("Pw-");
                }
                if let Some(k) = a.bursagb_api_keys.iter_mut().find(|k| k.supplier_access) {
                    k.key = random_secret("ak_test_");
                }
            }
            Provider::Axept => {
                a.axept_key_id += 1;
                a.axept_key = random_secret("");
            }
        }
        a.credentials(p)
    }

    pub fn next_order_id(&self) -> u64 {
        self.order_seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    // ---- variants ----------------------------------------------------------------------

    pub fn set_variant(&self, v: Variant) {
        let slot = match v.provider() {
            Provider::Exirom => &self.exirom_variant,
            _ => &self.axept_variant,
        };
        slot.store(variant_code(v), Ordering::Relaxed);
    }

    pub fn exirom_variant(&self) -> Variant {
        match self.exirom_variant.load(Ordering::Relaxed) {
            0 => Variant::ExiromBareString,
            _ => Variant::ExiromObject,
        }
    }

    pub fn axept_variant(&self) -> Variant {
        match self.axept_variant.load(Ordering::Relaxed) {
            0 => Variant::AxeptCamel,
            _ => Variant::AxeptPascal,
        }
    }

    // ---- tokens ------------------------------------------------------------------------

    pub fn epoch(&self, p: Provider) -> u64 {
        self.epochs[p.index()].load(Ordering::Relaxed)
    }

    /// Issues a token (RS256 signing runs on the blocking pool: ~2 ms in release).
    pub async fn issue(
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
        if jwt::algorithm(p) == jsonwebtoken::Algorithm::RS256 {
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

    /// Full check of a presented token: signature, environment, type, expiry, revocation.
    pub async fn verify(
        &self,
        p: Provider,
        token: &str,
        typ: &str,
    ) -> Result<Verified, TokenError> {
        let now = self.now_secs();
        let v = if jwt::algorithm(p) == jsonwebtoken::Algorithm::RS256 {
            let (token, typ) = (token.to_owned(), typ.to_owned());
            tokio::task::spawn_blocking(move || jwt::verify(p, &token, &typ, now))
                .await
                .unwrap_or(Err(TokenError::Invalid("verification failed")))?
        } else {
            jwt::verify(p, token, typ, now)?
        };
        if v.epoch != self.epoch(p) || self.is_revoked(&v.jti) || self.is_revoked(token.trim()) {
            return Err(TokenError::Revoked);
        }
        Ok(v)
    }

    pub fn is_revoked(&self, s: &str) -> bool {
        self.revoked
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(s)
    }

    /// Revokes a token (by its `jti`) or any other string (API keys).
    pub fn revoke(&self, token: &str) {
        let token = token.trim();
        let mut set = self.revoked.write().unwrap_or_else(|e| e.into_inner());
        if let Some(jti) = jwt::peek_claims(token)
            .as_ref()
            .and_then(|c| c.get("jti"))
            .and_then(Value::as_str)
        {
            set.insert(jti.to_owned());
            lock(&self.live_refresh).remove(jti);
        }
        set.insert(token.to_owned());
    }

    pub fn revoke_all(&self, p: Provider) {
        self.epochs[p.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn remember_refresh(&self, jti: &str, exp: i64) {
        let mut m = lock(&self.live_refresh);
        if m.len() > 100_000 {
            let now = self.now_secs();
            m.retain(|_, e| *e > now);
        }
        m.insert(jti.to_owned(), exp);
    }

    /// Consumes a refresh token: true if it was live (it is not any more).
    pub fn consume_refresh(&self, jti: &str) -> bool {
        lock(&self.live_refresh).remove(jti).is_some()
    }

    // ---- faults ------------------------------------------------------------------------

    pub fn inject(&self, p: Provider, r: Route, f: Fault) -> Result<(), SandboxError> {
        if !p.routes().contains(&r) {
            return Err(SandboxError::RouteNotOffered {
                provider: p,
                route: r,
            });
        }
        lock(&self.faults).entry((p, r)).or_default().push_back(f);
        self.queued_faults.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// The next fault for a request: a queued one first, else a draw from the route's mix.
    pub fn take_fault(&self, p: Provider, r: Route) -> Option<Fault> {
        self.take_queued(p, r).or_else(|| self.draw_fault(p, r))
    }

    fn take_queued(&self, p: Provider, r: Route) -> Option<Fault> {
        if self.queued_faults.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let f = lock(&self.faults).get_mut(&(p, r))?.pop_front()?;
        self.queued_faults.fetch_sub(1, Ordering::SeqCst);
        Some(f)
    }

    fn draw_fault(&self, p: Provider, r: Route) -> Option<Fault> {
        if self.active_mixes.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut mixes = lock(&self.fault_mixes);
        let (mix, rng) = mixes.get_mut(&(p, r))?;
        if mix.faults.is_empty() || !rng.random_bool(mix.rate) {
            return None;
        }
        let i = rng.random_range(0..mix.faults.len());
        mix.faults.get(i).cloned()
    }

    /// Installs (replaces) the random faults of (provider, route).
    pub fn set_fault_mix(&self, p: Provider, r: Route, mix: FaultMix) -> Result<(), SandboxError> {
        if !p.routes().contains(&r) {
            return Err(SandboxError::RouteNotOffered {
                provider: p,
                route: r,
            });
        }
        mix.validate()?;
        // Each route draws from its own stream, so routes do not share a sequence.
        let seed = mix.seed ^ ((p.index() as u64) << 40) ^ ((r.index() as u64) << 32);
        let mut mixes = lock(&self.fault_mixes);
        mixes.insert((p, r), (mix, StdRng::seed_from_u64(seed)));
        self.active_mixes.store(mixes.len(), Ordering::SeqCst);
        Ok(())
    }

    pub fn clear_faults(&self) {
        let mut q = lock(&self.faults);
        q.clear();
        self.queued_faults.store(0, Ordering::SeqCst);
        let mut mixes = lock(&self.fault_mixes);
        mixes.clear();
        self.active_mixes.store(0, Ordering::SeqCst);
    }

    // ---- counters ----------------------------------------------------------------------

    pub fn counter(&self, p: Provider, r: Route) -> &AtomicRouteCounters {
        &self.counters[p.index()][r.index()]
    }

    pub fn count_login_identity(&self, p: Provider, identity: &str) {
        *lock(&self.logins_by_identity)
            .entry(p)
            .or_default()
            .entry(identity.to_owned())
            .or_default() += 1;
    }

    pub fn counters(&self) -> Counters {
        let mut routes = BTreeMap::new();
        for p in Provider::ALL {
            let m: BTreeMap<Route, RouteCounters> = p
                .routes()
                .iter()
                .map(|r| (*r, self.counter(p, *r).snapshot()))
                .collect();
            routes.insert(p, m);
        }
        Counters {
            routes,
            logins_by_identity: lock(&self.logins_by_identity).clone(),
        }
    }

    pub fn reset_counters(&self) {
        for row in &self.counters {
            for c in row {
                c.reset();
            }
        }
        lock(&self.logins_by_identity).clear();
    }
}

/// RFC 3339 with seconds precision and `Z`, e.g. `2023-01-31T11:28:09Z`.
pub(crate) fn rfc3339_secs(secs: i64) -> String {
    Utc.timestamp_opt(secs, 0)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// RFC 3339 with milliseconds and `Z`, e.g. `2024-02-09T19:23:17.000Z` (institution style).
pub(crate) fn rfc3339_millis(secs: i64) -> String {
    Utc.timestamp_opt(secs, 0)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
