//! Pledg: OAuth2 client credentials over HTTP Basic → 10-minute tokens.
//!
//! `expires_in` is relative: the deadline is measured on the local
//! monotonic clock when the response arrives, so a skewed wall clock does
//! not matter.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use pledg::{Credentials, DashboardExt, Secret};
//! let client = pledg::builder()
//!     .base_url("https://staging.api.pledg.example")
//!     .credentials(
//!         Credentials::new("your_key", Secret::new("your secret"))
//!             .secret_key("merchant secret key") // request signatures, notifications
//!             .dashboard("dashboard user", "dashboard password"), // HTTP Basic
//!     )
//!     .build()?;
//! let token = client.bearer().await?;
//! // A dashboard request (the pages name no endpoint: a hand-made one).
//! let answer = client
//!     .send_dashboard(client.request(reqwest::Method::GET, "/api/merchants/me"))
//!     .await?;
//! # let _ = (token, answer); Ok(()) }
//! ```
//!
//! # A typed call and its errors
//!
//! Every operation's `send()` fails with an [`OperationError`] whose
//! [`kind`](OperationError::kind) a program decides on, and whose
//! [`body`](OperationError::body) is pledg's documented
//! [`types::OAuthError`] when it sent one. A purchase link is signed with
//! the merchant's secret key ([`Credentials::secret_key`]): without it,
//! nothing is sent.
//!
//! ```no_run
//! use pledg::{ErrorKind, types};
//!
//! # async fn demo(client: pledg::Client) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let link = types::PurchaseLinkRequest::builder()
//!     .merchant_uid("mer_8ef0a7a4")
//!     .title("Sofa")
//!     .reference("order-1")
//!     .amount_cents(129_900u64)
//!     .currency("EUR");
//! match client.create_purchase_link().body(link).send().await {
//!     Ok(link) => println!("pay at {}", link.into_inner().url),
//!     Err(e) if e.kind() == ErrorKind::BadRequest => {
//!         eprintln!("refused: {:?}", e.body().map(|b| &b.error));
//!     }
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(()) }
//! ```
//!
//! # In a test, against the sandbox
//!
//! The `sandbox` crate emulates pledg (and the other providers) on
//! 127.0.0.1:
//!
//! ```
//! use pledg::{ErrorKind, types};
//! use payauth_sandbox::{Provider, Sandbox};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let sb = Sandbox::start().await?;
//! let account = sb.credentials(Provider::Pledg);
//! let link = || {
//!     types::PurchaseLinkRequest::builder()
//!         .merchant_uid(sb.pledg_merchant_uid())
//!         .title("Sofa")
//!         .reference("order-1")
//!         .amount_cents(129_900u64)
//!         .currency("EUR")
//! };
//! let credentials = pledg::Credentials::new(account.text("api_key"), account.text("api_secret"));
//!
//! // No secret key: the request cannot be signed, and is not sent.
//! let unsigned = pledg::builder()
//!     .base_url(sb.base_url(Provider::Pledg))
//!     .credentials(credentials.clone())
//!     .build()?;
//! let error = unsigned.create_purchase_link().body(link()).send().await.unwrap_err();
//! assert_eq!(error.kind(), ErrorKind::Config);
//!
//! let client = pledg::builder()
//!     .base_url(sb.base_url(Provider::Pledg))
//!     .credentials(credentials.secret_key(sb.pledg_secret_key()))
//!     .build()?;
//! let created = client.create_purchase_link().body(link()).send().await?;
//! assert!(!created.into_inner().uid.is_empty());
//! sb.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs, clippy::missing_errors_doc)]
// docs.rs builds with `--cfg docsrs` on nightly; any stable build leaves it off.
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The client, types and security table generated from `specs/pledg.yaml`
/// (`cargo xtask regen`): every operation's docs say which credentials it
/// needs and which failures the spec documents.
#[rustfmt::skip]
pub mod generated;

use std::time::Duration;

pub use generated::types;
use payauth_runtime::provider::{
    ClientCredentials, Connect, Lead, Profile, Provider, TokenEndpoint,
};

payauth_runtime::sdk_entry_points!(
    Pledg,
    generated::Client,
    "`PLEDG_BASE_URL`, `PLEDG_API_KEY`, `PLEDG_API_SECRET`, optional `PLEDG_SECRET_KEY` \
     (request signatures, notifications), `PLEDG_DASHBOARD_USER` + `PLEDG_DASHBOARD_PASSWORD`"
);

/// This provider described for tools (`payauth`, the demo, tests): its
/// variables, mechanism, lifetimes and a read-only probe.
pub mod descriptor;

mod notification;
pub use notification::{Notification, NotificationVerifier};
pub use payauth_runtime::provider::signing::CallbackError;

/// Pledg as the runtime sees it (its [`Provider`] impl: profile,
/// credentials from the environment, wiring).
#[derive(Debug)]
pub struct Pledg;

/// Pledg's three mechanisms: the client API key (Basic user) and secret
/// (Basic password) for access tokens; the merchant's secret key (shown in
/// the dashboard) for request signatures and notifications; the
/// merchant-dashboard user and password for HTTP Basic.
///
/// Made with [`Credentials::new`] and the methods below; every secret is a
/// [`Secret`] (or anything that becomes one: a `String`, a `&str`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Credentials {
    /// The client API key: the user name of the token call's HTTP Basic.
    pub api_key: String,
    /// The client API secret: the password of the token call's HTTP Basic.
    pub api_secret: Secret,
    /// Signs `signature` JWTs (`create_purchase_link`) and verifies notifications.
    pub secret_key: Option<Secret>,
    /// Merchant-dashboard user and password ([`DashboardExt::send_dashboard`]).
    pub dashboard: Option<(String, Secret)>,
}

impl Credentials {
    /// Access-token credentials only; add the others with the methods below.
    pub fn new(api_key: impl Into<String>, api_secret: impl Into<Secret>) -> Self {
        Credentials {
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            secret_key: None,
            dashboard: None,
        }
    }

    /// The merchant's secret key: request signatures and notifications.
    pub fn secret_key(mut self, key: impl Into<Secret>) -> Self {
        self.secret_key = Some(key.into());
        self
    }

    /// Merchant-dashboard credentials for HTTP Basic.
    pub fn dashboard(mut self, user: impl Into<String>, password: impl Into<Secret>) -> Self {
        self.dashboard = Some((user.into(), password.into()));
        self
    }
}

/// Requests authenticated with the merchant-dashboard credentials
/// ([`Credentials::dashboard`]): HTTP Basic, no token.
pub trait DashboardExt {
    /// Send a hand-made request with the dashboard's Basic credentials and
    /// the client's retry policy; a `Config` error, sending nothing, when
    /// the client has none.
    fn send_dashboard(
        &self,
        request: reqwest::RequestBuilder,
    ) -> impl Future<Output = Result<reqwest::Response, Error>> + Send + '_;
}

impl DashboardExt for Client {
    fn send_dashboard(
        &self,
        request: reqwest::RequestBuilder,
    ) -> impl Future<Output = Result<reqwest::Response, Error>> + Send + '_ {
        self.send_with(request, &generated::security::schemes::DASHBOARD_BASIC)
    }
}

const NAME: &str = "pledg";

/// `POST /api/token`, the client by HTTP Basic: OAuth2 client credentials
/// as the runtime runs them (`expires_in` relative, from receipt).
const TOKEN: TokenEndpoint =
    TokenEndpoint::basic("create_token", "/api/token").principal_parts("api_key", "api_secret");

impl Provider for Pledg {
    const PROFILE: Profile = Profile {
        name: NAME,
        refresh_lead: Lead::Fraction(0.15),
        assumed_lifetime: Duration::from_secs(60),
        base_url_env: "PLEDG_BASE_URL",
        sandbox_url: Some("https://staging.back.ecard.pledg.co"),
        production_url: Some("https://back.ecard.pledg.co"),
    };
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    type Credentials = Credentials;
    type Client = Client;

    fn credentials_from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Credentials, Error> {
        let var = |k: &str| payauth_runtime::provider::require_env(get, NAME, k);
        let optional = |k: &str| payauth_runtime::provider::optional_env(get, k);
        let mut credentials = Credentials::new(var("PLEDG_API_KEY")?, var("PLEDG_API_SECRET")?);
        if let Some(key) = optional("PLEDG_SECRET_KEY") {
            credentials = credentials.secret_key(key);
        }
        match (
            optional("PLEDG_DASHBOARD_USER"),
            optional("PLEDG_DASHBOARD_PASSWORD"),
        ) {
            (Some(user), Some(password)) => Ok(credentials.dashboard(user, password)),
            (None, None) => Ok(credentials),
            _ => Err(Error::config(
                NAME,
                "PLEDG_DASHBOARD_USER and PLEDG_DASHBOARD_PASSWORD go together",
            )),
        }
    }

    fn connect(connect: Connect, credentials: Credentials) -> Result<Client, Error> {
        let Credentials {
            api_key,
            api_secret,
            secret_key,
            dashboard,
        } = credentials;
        Ok(connect.client_credentials_with(
            generated::Client::new_with_client,
            &TOKEN,
            ClientCredentials::new(api_key, api_secret),
            |mut api| {
                if let Some(key) = secret_key {
                    api = api.signing_secret(key);
                }
                if let Some((user, password)) = dashboard {
                    api = api.basic(&user, &password);
                }
                api
            },
        ))
    }
}
