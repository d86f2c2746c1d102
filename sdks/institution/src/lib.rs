//! Institution: email + password + `merchant_id` → a 30-minute RS256 JWT
//! and a 2-day refresh token; or a persistent `Api-key`.
//!
//! With login credentials, tokens are refreshed in the background with the
//! refresh token and the runtime falls back to a full login on
//! `REFRESH_TOKEN_EXPIRED`. The pages' login and refresh samples return the
//! *same* refresh token, so the provider may well let one be reused within
//! its two days. The SDK always presents the refresh token of the latest
//! answer, which works with single-use and reusable tokens alike (which of
//! the two they are is our assumption, marked in the spec's
//! `POST /v2/auth/refresh`). With an
//! API key, every call carries `Api-key` and no login ever happens. The
//! generated security table picks the credential per operation.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use institution::{Credentials, Secret, types};
//! let client = institution::builder()
//!     .base_url("https://api.institution.example")
//!     .credentials(Credentials::login(
//!         "owner@admin.com",
//!         Secret::new("…"),
//!         "b34555b7-dca4-5ec1-ade3-64a3ad545310",
//!     ))
//!     .build()?;
//! // Or a persistent key: Credentials::api_key("…").
//! let created = client
//!     .create_customer()
//!     .body(types::CreateCustomerRequest::builder().email("alex@example.com"))
//!     .send()
//!     .await?;
//! println!("{:?}", created.data);
//! # Ok(()) }
//! ```
//!
//! # Errors
//!
//! Every operation's `send()` fails with an [`OperationError`] whose
//! [`kind`](OperationError::kind) a program decides on, and whose
//! [`body`](OperationError::body) is institution's documented
//! [`types::ErrorEnvelope`] when it sent one:
//!
//! ```no_run
//! use institution::{ErrorKind, types};
//!
//! # async fn demo(client: institution::Client) -> Result<(), institution::Error> {
//! let request = types::CreateCustomerRequest::builder().email("not an email");
//! match client.create_customer().body(request).send().await {
//!     Ok(created) => println!("customer {}", created.into_inner().data.id),
//!     Err(e) if e.kind() == ErrorKind::BadRequest => {
//!         for item in e.body().map(|b| b.errors.as_slice()).unwrap_or_default() {
//!             eprintln!("refused: {} {:?}", item.code, item.message);
//!         }
//!     }
//!     Err(e) => return Err(e.into_error()),
//! }
//! # Ok(()) }
//! ```
//!
//! # In a test, against the sandbox
//!
//! The `sandbox` crate emulates institution (and the other providers) on
//! 127.0.0.1:
//!
//! ```
//! use institution::{ErrorKind, types};
//! use payauth_sandbox::{Provider, Sandbox};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let sb = Sandbox::start().await?;
//! let account = sb.credentials(Provider::Institution);
//! let client = institution::builder()
//!     .base_url(sb.base_url(Provider::Institution))
//!     .credentials(institution::Credentials::login(
//!         account.text("email"),
//!         account.text("password"),
//!         account.text("merchant_id"),
//!     ))
//!     .build()?;
//!
//! let customer = types::CreateCustomerRequest::builder().email("alex@example.com");
//! let created = client.create_customer().body(customer).send().await?;
//! assert!(!created.into_inner().data.id.is_empty());
//!
//! let refused = types::CreateCustomerRequest::builder().email("not an email");
//! let error = client.create_customer().body(refused).send().await.unwrap_err();
//! assert_eq!(error.kind(), ErrorKind::BadRequest);
//! assert!(error.body().is_some_and(|b| !b.errors.is_empty()));
//! sb.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs, clippy::missing_errors_doc)]
// docs.rs builds with `--cfg docsrs` on nightly; any stable build leaves it off.
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The client, types and security table generated from `specs/institution.yaml`
/// (`cargo xtask regen`): every operation's docs say which credentials it
/// needs and which failures the spec documents.
#[rustfmt::skip]
pub mod generated;

use std::time::Duration;

pub use generated::types;
use payauth_runtime::provider::ExpiryHints;
use payauth_runtime::provider::{
    BoxFuture, Connect, Issued, Lead, Profile, Provider, TokenFlow, auth_body_refined,
};

payauth_runtime::sdk_entry_points!(
    Institution,
    generated::Client,
    "`INSTITUTION_BASE_URL`, then `INSTITUTION_API_KEY`, or `INSTITUTION_EMAIL` + `INSTITUTION_PASSWORD` + `INSTITUTION_MERCHANT_ID`"
);

/// This provider described for tools (`payauth`, the demo, tests): its
/// variables, mechanism, lifetimes and a read-only probe.
pub mod descriptor;

/// Institution as the runtime sees it (its [`Provider`] impl: profile,
/// credentials from the environment, wiring).
#[derive(Debug)]
pub struct Institution;

/// Either login credentials (JWT + refresh token) or a persistent API key,
/// made with [`Credentials::login`] or [`Credentials::api_key`]; every
/// secret is a [`Secret`] (or anything that becomes one: a `String`, a
/// `&str`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// Login credentials: a JWT kept fresh with the refresh token, a login
    /// when it expires.
    #[non_exhaustive]
    Login {
        /// The API user's email (the login's `token` field).
        email: String,
        /// The API user's password.
        password: Secret,
        /// The merchant ID assigned with the account (`merchant_id`
        /// header of the token calls).
        merchant_id: String,
    },
    /// A persistent API key (`Api-key` header): no login, no token.
    #[non_exhaustive]
    ApiKey {
        /// The key.
        key: Secret,
    },
}

impl Credentials {
    /// Email and password of the institution's API user, and the
    /// `merchant_id` every token call names.
    pub fn login(
        email: impl Into<String>,
        password: impl Into<Secret>,
        merchant_id: impl Into<String>,
    ) -> Self {
        Credentials::Login {
            email: email.into(),
            password: password.into(),
            merchant_id: merchant_id.into(),
        }
    }

    /// A persistent `Api-key`: no login, no token.
    pub fn api_key(key: impl Into<Secret>) -> Self {
        Credentials::ApiKey { key: key.into() }
    }
}

const NAME: &str = "institution";

impl Provider for Institution {
    const PROFILE: Profile = Profile {
        name: NAME,
        // 30-minute tokens: refresh in the last 15 % of their life.
        refresh_lead: Lead::Fraction(0.15),
        assumed_lifetime: Duration::from_secs(5 * 60),
        base_url_env: "INSTITUTION_BASE_URL",
        sandbox_url: None,
        production_url: None,
    };
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    type Credentials = Credentials;
    type Client = Client;

    fn credentials_from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Credentials, Error> {
        if let Some(key) = payauth_runtime::provider::optional_env(get, "INSTITUTION_API_KEY") {
            return Ok(Credentials::api_key(key));
        }
        let var = |k: &str| {
            payauth_runtime::provider::optional_env(get, k).ok_or_else(|| {
                Error::config(NAME, format!("{k} is not set (nor INSTITUTION_API_KEY)"))
            })
        };
        Ok(Credentials::login(
            var("INSTITUTION_EMAIL")?,
            var("INSTITUTION_PASSWORD")?,
            var("INSTITUTION_MERCHANT_ID")?,
        ))
    }

    fn connect(connect: Connect, credentials: Credentials) -> Result<Client, Error> {
        match credentials {
            Credentials::ApiKey { key } => {
                let session = connect.session().api_key(key).build();
                let api = generated::Client::new_with_client(
                    connect.base_url(),
                    connect.http().clone(),
                    session.clone(),
                );
                Ok(Client::new(api, session, connect))
            }
            Credentials::Login {
                email,
                password,
                merchant_id,
            } => {
                let principal = connect
                    .principal()
                    .part("email", email.as_str())
                    .part("merchant_id", merchant_id.as_str())
                    .secret("password", &password);
                let login = connect.session();
                Ok(connect.sdk(
                    generated::Client::new_with_client,
                    login,
                    &principal,
                    |login| Flow {
                        login,
                        email,
                        password,
                        merchant_id,
                    },
                ))
            }
        }
    }
}

struct Flow {
    login: generated::Client,
    email: String,
    password: Secret,
    merchant_id: String,
}

#[doc(hidden)] // public for the workspace's property tests
/// `expiresIn` is an absolute Unix time despite its name.
pub fn issued(data: types::TokenData) -> Issued {
    Issued {
        access_token: Secret::new(data.access_token),
        refresh_token: Some(Secret::new(data.refresh_token)),
        hints: ExpiryHints {
            unix_seconds: Some(data.expires_in),
            ..ExpiryHints::default()
        },
    }
}

#[doc(hidden)]
pub fn refine(body: &types::ErrorEnvelope) -> Option<ErrorKind> {
    body.errors
        .iter()
        .any(|e| e.code == "REFRESH_TOKEN_EXPIRED")
        .then_some(ErrorKind::RefreshTokenExpired)
}

impl TokenFlow for Flow {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        Box::pin(async move {
            let body = types::LoginRequest {
                token: self.email.clone(),
                password: self.password.expose().to_string(),
            };
            let call = self.login.login().merchant_id(self.merchant_id.as_str());
            let response = auth_body_refined(call.body(body).send(), refine).await?;
            Ok(issued(response.data))
        })
    }

    fn refresh<'a>(
        &'a self,
        refresh_token: &'a Secret,
    ) -> Option<BoxFuture<'a, Result<Issued, Error>>> {
        Some(Box::pin(async move {
            let body = types::RefreshRequest {
                refresh_token: refresh_token.expose().to_string(),
            };
            let call = self
                .login
                .refresh_token()
                .merchant_id(self.merchant_id.as_str());
            let response = auth_body_refined(call.body(body).send(), refine).await?;
            Ok(issued(response.data))
        }))
    }
}
