//! bursagb (white-label commerce platform): reseller and per-customer
//! storefront JWTs from `Generate Token` (storefront customers through the
//! same endpoint: our assumption, the pages do not show the storefront
//! login), and a long-lived `ApiKey` header for the Payment and Supplier APIs.
//!
//! The generated security table decides per operation: `create_order`
//! gets a bearer token, `list_supplier_products` the `ApiKey`. Storefront
//! tokens are cached per end-user customer ([`StorefrontExt::storefront`]).
//! A 401 refreshes the token and retries once; a 403 (missing scope) is
//! returned as is, never retried.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use bursagb::{Credentials, Secret, StorefrontExt, types};
//! let reseller = bursagb::builder()
//!     .base_url("https://api.bursagb.example")
//!     .credentials(Credentials::new("partner@example.com", "…").api_key("ak_live_…"))
//!     .build()?;
//! let products = reseller
//!     .list_supplier_products()
//!     .body(types::ProductListRequest::builder().page(1))
//!     .send()
//!     .await?;
//! let customer = reseller.storefront("customer@example.com", Secret::new("…"))?;
//! let token = customer.bearer().await?;
//! # let _ = (products, token); Ok(()) }
//! ```
//!
//! # Errors
//!
//! Every operation's `send()` fails with an [`OperationError`] whose
//! [`kind`](OperationError::kind) a program decides on, and whose
//! [`body`](OperationError::body) is bursagb's documented
//! [`types::ErrorResponse`] when it sent one:
//!
//! ```no_run
//! use bursagb::{ErrorKind, types};
//!
//! # async fn demo(client: bursagb::Client, order: types::CreateOrderRequest) -> Result<(), bursagb::Error> {
//! match client.create_order().body(order).send().await {
//!     Ok(created) => println!("order {}", created.into_inner().data.id),
//!     // A token without the scope: refused, never retried.
//!     Err(e) if e.kind() == ErrorKind::Forbidden => eprintln!("not allowed to order"),
//!     Err(e) if e.kind() == ErrorKind::BadRequest => {
//!         eprintln!("refused: {:?}", e.body().map(|b| &b.message));
//!     }
//!     Err(e) => return Err(e.into_error()),
//! }
//! # Ok(()) }
//! ```
//!
//! # In a test, against the sandbox
//!
//! The `sandbox` crate emulates bursagb (and the other providers) on
//! 127.0.0.1:
//!
//! ```
//! use bursagb::{ErrorKind, StorefrontExt, types};
//! use payauth_sandbox::{Provider, Sandbox};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let sb = Sandbox::start().await?;
//! let account = sb.credentials(Provider::Bursagb);
//! let reseller = bursagb::builder()
//!     .base_url(sb.base_url(Provider::Bursagb))
//!     .credentials(bursagb::Credentials::new(
//!         account.text("email"),
//!         account.text("password"),
//!     ))
//!     .build()?;
//! let me = reseller.get_customer().send().await?;
//! assert!(!me.into_inner().data.customer_id.is_empty());
//!
//! // A storefront customer whose token lacks `orders:write`: 403, not retried.
//! let (email, password) = sb.bursagb_customer_without_orders_scope().expect("one by default");
//! let customer = reseller.storefront(&email, password)?;
//! let order: types::CreateOrderRequest = serde_json::from_value(serde_json::json!({
//!     "customerId": "cus_10482",
//!     "currency": "TRY",
//!     "items": [{"productId": "prd_5521", "quantity": 2}],
//! }))?;
//! let refused = customer.create_order().body(order).send().await.unwrap_err();
//! assert_eq!(refused.kind(), ErrorKind::Forbidden);
//! assert_eq!(refused.attempts(), 1);
//! sb.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs, clippy::missing_errors_doc)]
// docs.rs builds with `--cfg docsrs` on nightly; any stable build leaves it off.
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The client, types and security table generated from `specs/bursagb.yaml`
/// (`cargo xtask regen`): every operation's docs say which credentials it
/// needs and which failures the spec documents.
#[rustfmt::skip]
pub mod generated;

use std::time::Duration;

pub use generated::types;
use payauth_runtime::provider::expiry::lenient_datetime;
use payauth_runtime::provider::{
    BoxFuture, Connect, ExpiryHints, Issued, Lead, Profile, Provider, TokenFlow, auth_body_refined,
};

payauth_runtime::sdk_entry_points!(
    Bursagb,
    generated::Client,
    "`BURSAGB_BASE_URL`, `BURSAGB_EMAIL`, `BURSAGB_PASSWORD`, optional `BURSAGB_API_KEY` and `BURSAGB_REGION`"
);

/// This provider described for tools (`payauth`, the demo, tests): its
/// variables, mechanism, lifetimes and a read-only probe.
pub mod descriptor;

/// bursagb as the runtime sees it (its [`Provider`] impl: profile,
/// credentials from the environment, wiring).
#[derive(Debug)]
pub struct Bursagb;

/// Account email and password for `Generate Token`, optionally the
/// `ApiKey` for the Payment and Supplier APIs and the `h-region-code`.
/// Made with [`Credentials::new`] and the methods below; every secret is a
/// [`Secret`] (or anything that becomes one: a `String`, a `&str`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Credentials {
    /// The account's email (`Email` of Generate Token).
    pub email: String,
    /// The account's password (`Password` of Generate Token).
    pub password: Secret,
    /// The `ApiKey` of the Payment and Supplier APIs, when set: the
    /// operations that need it fail with a `Config` error without it.
    pub api_key: Option<Secret>,
    /// `h-region-code`; the provider defaults to `TR`.
    pub region: Option<String>,
    /// The casing of the Generate Token body's fields.
    pub field_case: FieldCase,
}

/// How the Generate Token body names its fields. This brand's pages:
/// `Email` / `Password`; another brand of the same platform sends `email` /
/// `password` (unconfirmed: FACTS says casing may vary between brands).
/// Answers are read in either casing whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldCase {
    /// `Email` / `Password`, as documented.
    #[default]
    Documented,
    /// `email` / `password`.
    Lower,
}

impl Credentials {
    /// The account's email and password; no API key, the provider's
    /// default region (`TR`), the documented field casing.
    pub fn new(email: impl Into<String>, password: impl Into<Secret>) -> Self {
        Credentials {
            email: email.into(),
            password: password.into(),
            api_key: None,
            region: None,
            field_case: FieldCase::Documented,
        }
    }
    /// The `ApiKey` of the Payment and Supplier APIs.
    pub fn api_key(mut self, key: impl Into<Secret>) -> Self {
        self.api_key = Some(key.into());
        self
    }
    /// The `h-region-code` of the token call (the provider's default:
    /// `TR`); a different region is a different cache entry.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
    /// The Generate Token body's field casing (`BURSAGB_FIELD_CASE=lower`).
    pub fn field_case(mut self, case: FieldCase) -> Self {
        self.field_case = case;
        self
    }
}

const NAME: &str = "bursagb";

impl Provider for Bursagb {
    const PROFILE: Profile = Profile {
        name: NAME,
        refresh_lead: Lead::Fraction(0.15),
        assumed_lifetime: Duration::from_secs(5 * 60),
        base_url_env: "BURSAGB_BASE_URL",
        sandbox_url: None,
        production_url: None,
    };
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    type Credentials = Credentials;
    type Client = Client;

    fn credentials_from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Credentials, Error> {
        let var = |k: &str| payauth_runtime::provider::require_env(get, NAME, k);
        let mut credentials = Credentials::new(var("BURSAGB_EMAIL")?, var("BURSAGB_PASSWORD")?);
        if let Some(key) = payauth_runtime::provider::optional_env(get, "BURSAGB_API_KEY") {
            credentials = credentials.api_key(key);
        }
        if let Some(region) = payauth_runtime::provider::optional_env(get, "BURSAGB_REGION") {
            credentials = credentials.region(region);
        }
        match payauth_runtime::provider::optional_env(get, "BURSAGB_FIELD_CASE").as_deref() {
            None => {}
            Some(c) if c.eq_ignore_ascii_case("lower") => {
                credentials = credentials.field_case(FieldCase::Lower);
            }
            Some(c) if c.eq_ignore_ascii_case("documented") => {}
            Some(_) => {
                return Err(Error::config(
                    NAME,
                    "BURSAGB_FIELD_CASE must be `lower` or `documented`",
                ));
            }
        }
        Ok(credentials)
    }

    fn connect(connect: Connect, credentials: Credentials) -> Result<Client, Error> {
        Ok(wire(connect, credentials, None))
    }
}

/// One wiring for reseller and storefront clients; `customer` adds the
/// end-user to the cache key.
fn wire(connect: Connect, credentials: Credentials, customer: Option<&str>) -> Client {
    let login = connect.session();
    // The region changes what the provider answers; the customer is a
    // storefront principal of its own; the password decides who gets it.
    let principal = connect
        .principal()
        .part("email", credentials.email.as_str())
        .optional_part("region", credentials.region.as_deref())
        .optional_part("storefront", customer)
        .secret("password", &credentials.password);
    let api_key = credentials.api_key.clone();
    connect.sdk_with(
        generated::Client::new_with_client,
        login,
        &principal,
        |login| Flow { login, credentials },
        // The ApiKey rides on the same session as the bearer: the security
        // table picks one per operation.
        |api| match api_key {
            Some(key) => api.api_key(key),
            None => api,
        },
    )
}

/// Storefront tokens, one cache entry per end-user customer.
pub trait StorefrontExt {
    /// A client acting for one storefront customer (their own login),
    /// sharing this client's settings; tokens are cached per customer.
    ///
    /// # Errors
    ///
    /// None today (nothing is sent: the first call logs in); `Result`
    /// for the checks a later version may make.
    fn storefront(&self, email: &str, password: impl Into<Secret>) -> Result<Client, Error>;
}

impl StorefrontExt for Client {
    fn storefront(&self, email: &str, password: impl Into<Secret>) -> Result<Client, Error> {
        let credentials = Credentials::new(email, password);
        Ok(wire(self.connect().clone(), credentials, Some(email)))
    }
}

struct Flow {
    login: generated::Client,
    credentials: Credentials,
}

impl TokenFlow for Flow {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        Box::pin(async move {
            let (email, password) = (
                self.credentials.email.clone(),
                self.credentials.password.expose().to_string(),
            );
            let body = match self.credentials.field_case {
                FieldCase::Documented => types::TokenRequest::Pascal(types::TokenRequestPascal {
                    email,
                    password,
                    callback_data: None,
                }),
                FieldCase::Lower => types::TokenRequest::Lower(types::TokenRequestLower {
                    email,
                    password,
                    callback_data: None,
                }),
            };
            let mut call = self.login.generate_token().body(body);
            if let Some(region) = &self.credentials.region {
                call = call.h_region_code(region.as_str());
            }
            let response = auth_body_refined(call.send(), refine).await?;
            issued(response)
        })
    }
}

#[doc(hidden)] // public for the workspace's property tests
/// `success: false` is a refusal whatever else the envelope holds. The
/// pages show the `success` flag and answer wrong credentials with a 400;
/// that a 200 may carry `success: false` too (with `data: null`) is our
/// assumption, handled so that such an answer is never read as a token.
pub fn issued(response: types::TokenResponse) -> Result<Issued, Error> {
    if !response.success {
        return Err(Error::new(
            ErrorKind::InvalidCredentials,
            NAME,
            "Generate Token answered success=false",
        ));
    }
    let Some(data) = response.data else {
        return Err(Error::new(
            ErrorKind::MalformedResponse,
            NAME,
            "Generate Token answered success=true without data",
        ));
    };
    // This brand's casing, or the lower case another brand answers with.
    let (token, expiration) = match data {
        types::TokenData::Pascal(d) => (d.token, Some(d.expiration)),
        types::TokenData::Lower(d) => (d.token, d.expiration),
    };
    Ok(Issued {
        access_token: Secret::new(token),
        refresh_token: None,
        hints: ExpiryHints {
            at: expiration.and_then(|e| lenient_datetime(NAME, "Expiration", &e)),
            ..ExpiryHints::default()
        },
    })
}

#[doc(hidden)]
/// A 4xx error envelope with `success: false` on the token call means the
/// credentials were refused (the platform answers 400 "Email or password is
/// incorrect").
pub fn refine(body: &types::ErrorResponse) -> Option<ErrorKind> {
    (!body.success).then_some(ErrorKind::InvalidCredentials)
}
