//! Public value types: providers, routes, variants, faults, credentials and counters.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Errors of the Rust and HTTP control API (never of the emulated providers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error("unknown provider `{0}` (expected one of exirom, institution, pledg, bursagb, axept)")]
    UnknownProvider(String),
    #[error(
        "unknown route `{0}` (expected one of login, refresh, customer_create, orders_create, supplier_products_list, protected, card_payment, card_payment_status, transaction_start, transaction_list, transaction_get, customer_get, purchase_link, apm_payment)"
    )]
    UnknownRoute(String),
    #[error("provider {provider} has no route {route}")]
    RouteNotOffered { provider: Provider, route: Route },
    #[error(
        "unknown variant `{0}` (expected exirom_bare_string, exirom_object, axept_camel or axept_pascal)"
    )]
    UnknownVariant(String),
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}

/// The five emulated providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Exirom,
    Institution,
    Pledg,
    Bursagb,
    Axept,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::Exirom,
        Provider::Institution,
        Provider::Pledg,
        Provider::Bursagb,
        Provider::Axept,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Exirom => "exirom",
            Provider::Institution => "institution",
            Provider::Pledg => "pledg",
            Provider::Bursagb => "bursagb",
            Provider::Axept => "axept",
        }
    }

    /// Path of the provider's base URL below the sandbox root (shaped like the real base URL).
    pub fn base_path(self) -> &'static str {
        match self {
            Provider::Exirom => "/exirom/api",
            Provider::Institution => "/institution",
            Provider::Pledg => "/pledg",
            Provider::Bursagb => "/bursagb",
            Provider::Axept => "/axept",
        }
    }

    /// Routes this provider offers (others cannot have faults injected).
    pub fn routes(self) -> &'static [Route] {
        match self {
            Provider::Exirom => &[
                Route::Login,
                Route::Protected,
                Route::CardPayment,
                Route::CardPaymentStatus,
                Route::ApmPayment,
                Route::ApmPaymentInfo,
                Route::CardPayout,
                Route::CardPayoutInfo,
            ],
            Provider::Pledg => &[Route::Login, Route::Protected, Route::PurchaseLink],
            Provider::Axept => &[
                Route::Login,
                Route::Protected,
                Route::TransactionStart,
                Route::TransactionList,
                Route::TransactionGet,
                Route::ProcessDecision,
            ],
            Provider::Institution => &[
                Route::Login,
                Route::Refresh,
                Route::CustomerCreate,
                Route::Protected,
            ],
            Provider::Bursagb => &[
                Route::Login,
                Route::OrdersCreate,
                Route::SupplierProductsList,
                Route::Protected,
                Route::CustomerGet,
            ],
        }
    }

    /// Path of `route` relative to the base URL, if the provider offers it.
    pub fn route_path(self, route: Route) -> Option<&'static str> {
        let p = match (self, route) {
            (Provider::Exirom, Route::Login) => "/v1/auth",
            (Provider::Institution, Route::Login) => "/v2/auth/login",
            (Provider::Institution, Route::Refresh) => "/v2/auth/refresh",
            (Provider::Institution, Route::CustomerCreate) => "/v2/customer/create",
            (Provider::Pledg, Route::Login) => "/api/token",
            (Provider::Bursagb, Route::Login) => "/Login/Customer/Api/Verify",
            (Provider::Bursagb, Route::OrdersCreate) => "/Orders/Create",
            (Provider::Bursagb, Route::SupplierProductsList) => "/Supplier/Products/List",
            (Provider::Axept, Route::Login) => "/api/authenticate",
            (Provider::Exirom, Route::CardPayment) => "/v1/payments/card",
            (Provider::Exirom, Route::CardPaymentStatus) => "/v1/payments/card/status/{id}",
            (Provider::Exirom, Route::ApmPayment) => "/v1/payments/apm",
            (Provider::Exirom, Route::ApmPaymentInfo) => "/v1/payments/apm/info/{id}",
            (Provider::Exirom, Route::CardPayout) => "/v1/payouts/card",
            (Provider::Exirom, Route::CardPayoutInfo) => "/v1/payouts/card/info/{id}",
            (Provider::Axept, Route::ProcessDecision) => "/ProcessDecision",
            (Provider::Pledg, Route::PurchaseLink) => "/api/purchase_link/",
            (Provider::Bursagb, Route::CustomerGet) => "/Customer/Get",
            (Provider::Axept, Route::TransactionStart) => "/transaction",
            (Provider::Axept, Route::TransactionList) => "/Transaction",
            (Provider::Axept, Route::TransactionGet) => "/Transaction/{uti}",
            (_, Route::Protected) => "/sandbox/protected",
            _ => return None,
        };
        Some(p)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| SandboxError::UnknownProvider(s.to_owned()))
    }
}

/// Emulated endpoints, for fault injection and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// The token-issuing endpoint of every provider.
    Login,
    /// institution `POST /v2/auth/refresh`.
    Refresh,
    /// institution `POST /v2/customer/create`.
    CustomerCreate,
    /// bursagb `POST /Orders/Create`.
    OrdersCreate,
    /// bursagb `POST /Supplier/Products/List`.
    SupplierProductsList,
    /// sandbox-only `GET {base}/sandbox/protected` (every provider).
    Protected,
    /// exirom `POST /v1/payments/card`.
    CardPayment,
    /// exirom `GET /v1/payments/card/status/{id}`.
    CardPaymentStatus,
    /// axept `POST /transaction`.
    TransactionStart,
    /// axept `GET /Transaction`.
    TransactionList,
    /// axept `GET /Transaction/{uti}`.
    TransactionGet,
    /// bursagb `GET /Customer/Get`.
    CustomerGet,
    /// pledg `POST /api/purchase_link/` (signed).
    PurchaseLink,
    /// exirom `POST /v1/payments/apm` (checksummed).
    ApmPayment,
    /// exirom `GET /v1/payments/apm/info/{id}`.
    ApmPaymentInfo,
    /// exirom `POST /v1/payouts/card`.
    CardPayout,
    /// exirom `GET /v1/payouts/card/info/{id}`.
    CardPayoutInfo,
    /// axept `POST /ProcessDecision` (signature check decisions).
    ProcessDecision,
}

impl Route {
    pub const ALL: [Route; 18] = [
        Route::Login,
        Route::Refresh,
        Route::CustomerCreate,
        Route::OrdersCreate,
        Route::SupplierProductsList,
        Route::Protected,
        Route::CardPayment,
        Route::CardPaymentStatus,
        Route::TransactionStart,
        Route::TransactionList,
        Route::TransactionGet,
        Route::CustomerGet,
        Route::PurchaseLink,
        Route::ApmPayment,
        Route::ApmPaymentInfo,
        Route::CardPayout,
        Route::CardPayoutInfo,
        Route::ProcessDecision,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::Login => "login",
            Route::Refresh => "refresh",
            Route::CustomerCreate => "customer_create",
            Route::OrdersCreate => "orders_create",
            Route::SupplierProductsList => "supplier_products_list",
            Route::Protected => "protected",
            Route::CardPayment => "card_payment",
            Route::CardPaymentStatus => "card_payment_status",
            Route::TransactionStart => "transaction_start",
            Route::TransactionList => "transaction_list",
            Route::TransactionGet => "transaction_get",
            Route::CustomerGet => "customer_get",
            Route::PurchaseLink => "purchase_link",
            Route::ApmPayment => "apm_payment",
            Route::ApmPaymentInfo => "apm_payment_info",
            Route::CardPayout => "card_payout",
            Route::CardPayoutInfo => "card_payout_info",
            Route::ProcessDecision => "process_decision",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Route {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .chars()
            .filter(|c| *c != '_' && *c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        Route::ALL
            .into_iter()
            .find(|r| r.as_str().replace('_', "") == norm)
            .ok_or_else(|| SandboxError::UnknownRoute(s.to_owned()))
    }
}

/// Response-shape variants of providers whose documentation disagrees with itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// exirom login answers a bare JSON string `"eyJ..."` (API reference; the default).
    ExiromBareString,
    /// exirom login answers `{"merchantKey": "...", "token": "eyJ..."}` (guide).
    ExiromObject,
    /// axept answers `{"token", "expiresAt"}` (doc example; the default).
    AxeptCamel,
    /// axept answers `{"Token", "ExpiresAt"}` (doc field table).
    AxeptPascal,
}

impl Variant {
    pub fn provider(self) -> Provider {
        match self {
            Variant::ExiromBareString | Variant::ExiromObject => Provider::Exirom,
            Variant::AxeptCamel | Variant::AxeptPascal => Provider::Axept,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Variant::ExiromBareString => "exirom_bare_string",
            Variant::ExiromObject => "exirom_object",
            Variant::AxeptCamel => "axept_camel",
            Variant::AxeptPascal => "axept_pascal",
        }
    }
}

impl FromStr for Variant {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .chars()
            .filter(|c| *c != '_' && *c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        [
            Variant::ExiromBareString,
            Variant::ExiromObject,
            Variant::AxeptCamel,
            Variant::AxeptPascal,
        ]
        .into_iter()
        .find(|v| v.as_str().replace('_', "") == norm)
        .ok_or_else(|| SandboxError::UnknownVariant(s.to_owned()))
    }
}

/// Value of an injected `Retry-After` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: 3`
    Seconds(u64),
    /// `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`
    HttpDate(SystemTime),
}

impl RetryAfter {
    pub fn header_value(&self) -> String {
        match self {
            RetryAfter::Seconds(s) => s.to_string(),
            RetryAfter::HttpDate(t) => httpdate::fmt_http_date(*t),
        }
    }
}

/// JSON: a number is `Seconds`, a string is an HTTP date.
impl Serialize for RetryAfter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RetryAfter::Seconds(n) => s.serialize_u64(*n),
            RetryAfter::HttpDate(_) => s.serialize_str(&self.header_value()),
        }
    }
}

impl<'de> Deserialize<'de> for RetryAfter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u64),
            Str(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) => Ok(RetryAfter::Seconds(n)),
            Raw::Str(s) => {
                if let Ok(n) = s.trim().parse::<u64>() {
                    return Ok(RetryAfter::Seconds(n));
                }
                httpdate::parse_http_date(&s)
                    .map(RetryAfter::HttpDate)
                    .map_err(|e| serde::de::Error::custom(format!("invalid HTTP date `{s}`: {e}")))
            }
        }
    }
}

/// A misbehaviour injected into exactly one subsequent request of a (provider, route).
///
/// Faults are queued FIFO per (provider, route). How each field acts:
/// - `latency`: the sandbox waits this long (real time) before doing anything else.
/// - `drop_connection`: the TCP connection is closed without any response; the request is not
///   processed.
/// - `status`: the request is not processed; the answer is this status with a body in the
///   provider's own error format (plus `Retry-After` / `retry-after-ms` when set).
/// - `malformed_body`: the request is not processed; the answer is 200 with a body that is not
///   JSON (though labelled `application/json`).
/// - `truncated_body`: the request IS processed (a token is issued and counted), but the
///   response declares a `Content-Length` larger than the bytes sent, then the connection closes.
/// - `wrong_content_type`: the request IS processed; the response keeps status and body but is
///   labelled `text/html; charset=utf-8`.
/// - `token_without_exp` / `expired_token`: the request is processed; the token it issues lacks
///   `exp` / is already expired at issue (`iat` = now - lifetime - 60 s). Body expiry fields stay
///   consistent with the server's view (for an expired token they lie in the past).
/// - `respond_after`: the request is processed, then the answer is delayed.
/// - `retry_after` / `retry_after_ms` alone (no status) add headers to the normal response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fault {
    pub status: Option<u16>,
    pub retry_after: Option<RetryAfter>,
    pub retry_after_ms: Option<u64>,
    #[serde(rename = "latency_ms", with = "opt_duration_ms")]
    pub latency: Option<Duration>,
    pub drop_connection: bool,
    pub truncated_body: bool,
    pub malformed_body: bool,
    pub wrong_content_type: bool,
    pub token_without_exp: bool,
    pub expired_token: bool,
    /// The request IS processed (to completion, even if the client gives
    /// up), then the answer waits this long: a client timeout after the
    /// side effect, the case idempotency keys exist for.
    #[serde(rename = "respond_after_ms", with = "opt_duration_ms")]
    pub respond_after: Option<Duration>,
}

mod opt_duration_ms {
    use super::*;
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(d.as_millis() as u64),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

impl Fault {
    /// Answer with this HTTP status (body in the provider's error format).
    pub fn status(status: u16) -> Fault {
        Fault {
            status: Some(status),
            ..Fault::default()
        }
    }
    /// Close the connection without a response.
    pub fn drop_connection() -> Fault {
        Fault {
            drop_connection: true,
            ..Fault::default()
        }
    }
    /// Delay the response by `d` (the request is then processed normally).
    /// Process the request, then wait `d` before answering.
    pub fn respond_after(d: Duration) -> Fault {
        Fault {
            respond_after: Some(d),
            ..Fault::default()
        }
    }
    pub fn latency(d: Duration) -> Fault {
        Fault {
            latency: Some(d),
            ..Fault::default()
        }
    }
    pub fn truncated_body() -> Fault {
        Fault {
            truncated_body: true,
            ..Fault::default()
        }
    }
    pub fn malformed_body() -> Fault {
        Fault {
            malformed_body: true,
            ..Fault::default()
        }
    }
    pub fn wrong_content_type() -> Fault {
        Fault {
            wrong_content_type: true,
            ..Fault::default()
        }
    }
    pub fn token_without_exp() -> Fault {
        Fault {
            token_without_exp: true,
            ..Fault::default()
        }
    }
    pub fn expired_token() -> Fault {
        Fault {
            expired_token: true,
            ..Fault::default()
        }
    }

    /// Builder: set the status.
    pub fn with_status(mut self, status: u16) -> Fault {
        self.status = Some(status);
        self
    }
    /// Builder: `Retry-After: <secs>`.
    pub fn retry_after_secs(mut self, secs: u64) -> Fault {
        self.retry_after = Some(RetryAfter::Seconds(secs));
        self
    }
    /// Builder: `Retry-After: <HTTP date>`.
    pub fn retry_after_date(mut self, at: SystemTime) -> Fault {
        self.retry_after = Some(RetryAfter::HttpDate(at));
        self
    }
    /// Builder: `retry-after-ms: <ms>`.
    pub fn retry_after_ms(mut self, ms: u64) -> Fault {
        self.retry_after_ms = Some(ms);
        self
    }
    /// Builder: add latency.
    pub fn with_latency(mut self, d: Duration) -> Fault {
        self.latency = Some(d);
        self
    }
}

/// Random faults on one (provider, route): each request not already given a queued fault
/// draws, with probability `rate`, one of `faults` (uniformly). The draws come from an RNG
/// seeded with `seed` (mixed with the provider and route), so a run of sequential requests is
/// reproducible. JSON: `{"rate": 0.05, "seed": 7, "faults": [{"status": 503}, ...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultMix {
    /// Probability, in `0.0..=1.0`, that a request gets a fault.
    pub rate: f64,
    pub faults: Vec<Fault>,
    #[serde(default)]
    pub seed: u64,
}

impl FaultMix {
    /// `faults` at `rate` (seed 0).
    pub fn new(rate: f64, faults: Vec<Fault>) -> FaultMix {
        FaultMix {
            rate,
            faults,
            seed: 0,
        }
    }

    /// Builder: the RNG seed.
    pub fn seed(mut self, seed: u64) -> FaultMix {
        self.seed = seed;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), SandboxError> {
        if !(0.0..=1.0).contains(&self.rate) {
            return Err(SandboxError::InvalidConfig(format!(
                "fault mix rate must be within 0..=1, not {}",
                self.rate
            )));
        }
        if self.faults.is_empty() && self.rate > 0.0 {
            return Err(SandboxError::InvalidConfig(
                "a fault mix with a rate above 0 needs at least one fault".into(),
            ));
        }
        Ok(())
    }
}

/// Working credentials of one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum Credentials {
    Exirom {
        merchant_key: String,
        merchant_secret: String,
    },
    Institution {
        email: String,
        password: String,
        merchant_id: String,
        api_key: String,
    },
    Pledg {
        api_key: String,
        api_secret: String,
    },
    Bursagb {
        /// Reseller account (`POST /Login/Customer/Api/Verify`).
        email: String,
        password: String,
        /// Payment/Supplier API key (header `ApiKey`) whose tenant has supplier access.
        api_key: String,
        /// Storefront end-user customers `(email, password)`. By default the SECOND one lacks
        /// scope `orders:write` (see [`crate::Sandbox::bursagb_customer_without_orders_scope`]).
        customers: Vec<(String, String)>,
    },
    Axept {
        merchant_id: i64,
        key_id: i64,
        key: String,
    },
}

impl Credentials {
    pub fn provider(&self) -> Provider {
        match self {
            Credentials::Exirom { .. } => Provider::Exirom,
            Credentials::Institution { .. } => Provider::Institution,
            Credentials::Pledg { .. } => Provider::Pledg,
            Credentials::Bursagb { .. } => Provider::Bursagb,
            Credentials::Axept { .. } => Provider::Axept,
        }
    }
}

/// Counters of one (provider, route).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteCounters {
    /// Every request that reached the route (faulted ones included).
    pub requests: u64,
    /// 2xx answers produced by the emulated provider (not injected `malformed_body` answers).
    pub successes: u64,
    /// Tokens issued by a successful login.
    pub logins: u64,
    /// Tokens issued by a successful refresh.
    pub refreshes: u64,
    /// Requests whose bearer token / API key was accepted.
    pub authenticated_ok: u64,
    /// 401 answers (injected ones included).
    pub unauthorized_401: u64,
    /// 403 answers (injected ones included).
    pub forbidden_403: u64,
    /// Requests that consumed an injected fault.
    pub faults_served: u64,
}

impl RouteCounters {
    fn add(&mut self, o: &RouteCounters) {
        self.requests += o.requests;
        self.successes += o.successes;
        self.logins += o.logins;
        self.refreshes += o.refreshes;
        self.authenticated_ok += o.authenticated_ok;
        self.unauthorized_401 += o.unauthorized_401;
        self.forbidden_403 += o.forbidden_403;
        self.faults_served += o.faults_served;
    }
}

/// Snapshot of the sandbox's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// provider → route → counters (every route the provider offers is present).
    pub routes: BTreeMap<Provider, BTreeMap<Route, RouteCounters>>,
    /// provider → credential identity (merchant key, email, api key, `merchantId:keyId`) →
    /// successful logins.
    pub logins_by_identity: BTreeMap<Provider, BTreeMap<String, u64>>,
}

impl Counters {
    /// Counters of one route (zeros if never hit).
    pub fn route(&self, p: Provider, r: Route) -> RouteCounters {
        self.routes
            .get(&p)
            .and_then(|m| m.get(&r))
            .copied()
            .unwrap_or_default()
    }
    /// Sum over the provider's routes.
    pub fn provider_total(&self, p: Provider) -> RouteCounters {
        let mut t = RouteCounters::default();
        if let Some(m) = self.routes.get(&p) {
            for c in m.values() {
                t.add(c);
            }
        }
        t
    }
    /// Sum over everything.
    pub fn total(&self) -> RouteCounters {
        let mut t = RouteCounters::default();
        for p in Provider::ALL {
            t.add(&self.provider_total(p));
        }
        t
    }
    /// Successful logins (tokens issued by the login route).
    pub fn logins(&self, p: Provider) -> u64 {
        self.provider_total(p).logins
    }
    /// Successful refreshes.
    pub fn refreshes(&self, p: Provider) -> u64 {
        self.provider_total(p).refreshes
    }
    /// Requests accepted by token / API-key authentication.
    pub fn authenticated(&self, p: Provider) -> u64 {
        self.provider_total(p).authenticated_ok
    }
    /// 401 answers on any route of the provider.
    pub fn unauthorized(&self, p: Provider) -> u64 {
        self.provider_total(p).unauthorized_401
    }
    /// 403 answers on any route of the provider.
    pub fn forbidden(&self, p: Provider) -> u64 {
        self.provider_total(p).forbidden_403
    }
    /// All requests to the provider's routes.
    pub fn requests(&self, p: Provider) -> u64 {
        self.provider_total(p).requests
    }
    /// Faults consumed on any route of the provider.
    pub fn faults_served(&self, p: Provider) -> u64 {
        self.provider_total(p).faults_served
    }
    /// Successful logins of one credential identity.
    pub fn logins_by(&self, p: Provider, identity: &str) -> u64 {
        self.logins_by_identity
            .get(&p)
            .and_then(|m| m.get(identity))
            .copied()
            .unwrap_or(0)
    }
}
