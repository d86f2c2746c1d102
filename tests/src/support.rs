//! End-to-end test support: a sandbox plus the five SDKs pointed at it,
//! sharing one movable clock, behind one enum so a test can run the same
//! scenario for every provider where it applies.

use std::sync::Arc;
use std::time::Duration;

use auth_runtime::{MetricsSnapshot, OffsetClock, RetryPolicy, Secret};
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
        let base = self.sandbox.base_url(p);
        let clock: Arc<dyn auth_runtime::Clock> = Arc::new(self.clock.clone());
        macro_rules! build {
            ($krate:ident, $creds:expr) => {
                $krate::builder()
                    .base_url(base)
                    .credentials($creds)
                    .clock(clock)
                    .retry_policy(policy)
                    .telemetry(telemetry)
                    .shared_cache(false)
                    .build()
                    .expect("client builds")
            };
        }
        let c = self.sandbox.credentials(p);
        let text = |field: &str| c.text(field).to_owned();
        match p {
            Provider::Exirom => AnyClient::Exirom(build!(
                exirom,
                exirom::Credentials::new(
                    text("merchant_key"),
                    Secret::new(text("merchant_secret"))
                )
            )),
            Provider::Institution => AnyClient::Institution(build!(
                institution,
                institution::Credentials::login(
                    text("email"),
                    Secret::new(text("password")),
                    text("merchant_id")
                )
            )),
            Provider::Pledg => AnyClient::Pledg(build!(pledg, {
                // Every documented mechanism: signatures and dashboard Basic too.
                let (user, password) = self.sandbox.pledg_dashboard();
                pledg::Credentials::new(text("api_key"), Secret::new(text("api_secret")))
                    .secret_key(self.sandbox.pledg_secret_key())
                    .dashboard(user, password)
            })),
            Provider::Bursagb => AnyClient::Bursagb(build!(
                bursagb,
                bursagb::Credentials::new(text("email"), Secret::new(text("password")))
                    .api_key(text("api_key"))
            )),
            Provider::Axept => AnyClient::Axept(build!(
                axept,
                axept::Credentials::new(
                    c.int("merchant_id"),
                    c.int("key_id"),
                    Secret::new(text("key"))
                )
            )),
            other => panic!("no SDK client for {other}"),
        }
    }
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

/// One of the five SDK clients.
#[derive(Debug, Clone)]
pub enum AnyClient {
    Exirom(exirom::Client),
    Institution(institution::Client),
    Pledg(pledg::Client),
    Bursagb(bursagb::Client),
    Axept(axept::Client),
}

macro_rules! each {
    ($self:expr, $c:ident => $body:expr) => {
        match $self {
            AnyClient::Exirom($c) => $body,
            AnyClient::Institution($c) => $body,
            AnyClient::Pledg($c) => $body,
            AnyClient::Bursagb($c) => $body,
            AnyClient::Axept($c) => $body,
        }
    };
}

fn typed<T, E: std::fmt::Debug>(
    result: Result<progenitor_client::ResponseValue<T>, auth_runtime::OperationError<E>>,
) -> Outcome {
    match result {
        Ok(rv) => Outcome {
            status: Some(rv.status().as_u16()),
            attempts: auth_runtime::retry::attempts_of(rv.headers()),
            error: None,
        },
        Err(e) => Outcome {
            status: e.status(),
            attempts: e.attempts(),
            error: Some(e.to_string()),
        },
    }
}

impl AnyClient {
    pub fn provider(&self) -> Provider {
        match self {
            AnyClient::Exirom(_) => Provider::Exirom,
            AnyClient::Institution(_) => Provider::Institution,
            AnyClient::Pledg(_) => Provider::Pledg,
            AnyClient::Bursagb(_) => Provider::Bursagb,
            AnyClient::Axept(_) => Provider::Axept,
        }
    }

    /// The route [`AnyClient::call`] hits.
    pub fn call_route(&self) -> Route {
        match self {
            AnyClient::Institution(_) => Route::CustomerCreate,
            AnyClient::Bursagb(_) => Route::OrdersCreate,
            _ => Route::Protected,
        }
    }

    /// An authenticated call: the provider's documented typed operation
    /// where its spec has one (institution, bursagb), else the sandbox's
    /// protected endpoint through the hand-made request path.
    pub async fn call(&self) -> Outcome {
        match self {
            AnyClient::Institution(c) => typed(
                c.create_customer()
                    .body(
                        institution::types::CreateCustomerRequest::builder()
                            .email("alex@example.com"),
                    )
                    .send()
                    .await,
            ),
            AnyClient::Bursagb(c) => typed(
                c.create_order()
                    .body(
                        bursagb::types::CreateOrderRequest::builder()
                            .customer_id("cust-0001")
                            .currency("TRY")
                            .items(vec![bursagb::types::OrderItem {
                                product_id: "p-1".into(),
                                quantity: std::num::NonZeroU32::MIN,
                            }]),
                    )
                    .send()
                    .await,
            ),
            _ => self.protected().await,
        }
    }

    /// The route [`AnyClient::operation`] hits.
    pub fn operation_route(&self) -> Route {
        match self {
            AnyClient::Exirom(_) => Route::CardPayment,
            AnyClient::Institution(_) => Route::CustomerCreate,
            AnyClient::Pledg(_) => Route::PurchaseLink,
            AnyClient::Bursagb(_) => Route::CustomerGet,
            AnyClient::Axept(_) => Route::TransactionList,
        }
    }

    /// One real typed operation of the provider (never the sandbox-only
    /// route), and its route: exirom `create_card_payment` (a fresh
    /// `requestId` each time), institution `create_customer`, pledg
    /// `create_purchase_link` (signed), bursagb `get_customer`, axept
    /// `list_transactions`.
    pub async fn operation(&self, sandbox: &Sandbox) -> (&'static str, Route, Outcome) {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self {
            AnyClient::Exirom(c) => {
                let body = serde_json::from_value::<exirom::types::CardPaymentRequest>(
                    serde_json::json!({
                        "requestId": format!("demo-{}-{n}", std::process::id()),
                        "mid": "mid_demo", "amount": "10.00", "currency": "EUR",
                        "card": {"number": "4111111111111111", "expiryMonth": "12",
                                 "expiryYear": "2030", "cvv": "123"},
                        "billingDetails": {}, "order": {}, "device": {}
                    }),
                )
                .expect("valid payment");
                let out = typed(c.create_card_payment().body(body).send().await);
                ("create_card_payment", Route::CardPayment, out)
            }
            AnyClient::Institution(_) => {
                ("create_customer", Route::CustomerCreate, self.call().await)
            }
            AnyClient::Pledg(c) => {
                let body = serde_json::from_value::<pledg::types::PurchaseLinkRequest>(
                    serde_json::json!({
                        "merchant_uid": sandbox.pledg_merchant_uid(), "title": "Sofa",
                        "reference": format!("demo-{n}"), "amount_cents": 129900, "currency": "EUR"
                    }),
                )
                .expect("valid purchase");
                let out = typed(c.create_purchase_link().body(body).send().await);
                ("create_purchase_link", Route::PurchaseLink, out)
            }
            AnyClient::Bursagb(c) => (
                "get_customer",
                Route::CustomerGet,
                typed(c.get_customer().send().await),
            ),
            AnyClient::Axept(c) => (
                "list_transactions",
                Route::TransactionList,
                typed(c.list_transactions().send().await),
            ),
        }
    }

    /// `GET {base}/sandbox/protected` through `Sdk::send` (bearer, retries,
    /// 401 recovery; a final 401/403/5xx is an error).
    pub async fn protected(&self) -> Outcome {
        let result =
            each!(self, c => c.send(c.request(reqwest::Method::GET, "/sandbox/protected")).await);
        match result {
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
        each!(self, c => c.bearer().await)
    }

    pub fn metrics(&self) -> MetricsSnapshot {
        each!(self, c => c.metrics())
    }

    pub fn debug(&self) -> String {
        format!("{self:?}")
    }
}
