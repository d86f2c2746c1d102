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

#[rustfmt::skip]
pub mod generated;

use std::time::Duration;

use auth_runtime::provider::ExpiryHints;
use auth_runtime::provider::{
    BoxFuture, Connect, Issued, Lead, Profile, Provider, TokenFlow, auth_body_refined,
};
pub use generated::types;

auth_runtime::sdk_entry_points!(
    Institution,
    generated::Client,
    "`INSTITUTION_BASE_URL`, then `INSTITUTION_API_KEY`, or `INSTITUTION_EMAIL` + `INSTITUTION_PASSWORD` + `INSTITUTION_MERCHANT_ID`"
);

/// This provider described for tools (`payauth`, the demo, tests): its
/// variables, mechanism, lifetimes and a read-only probe.
pub mod descriptor;

#[derive(Debug)]
pub struct Institution;

/// Either login credentials (JWT + refresh token) or a persistent API key,
/// made with [`Credentials::login`] or [`Credentials::api_key`]; every
/// secret is a [`Secret`] (or anything that becomes one: a `String`, a
/// `&str`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Credentials {
    #[non_exhaustive]
    Login {
        email: String,
        password: Secret,
        merchant_id: String,
    },
    #[non_exhaustive]
    ApiKey { key: Secret },
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
        if let Some(key) = auth_runtime::provider::optional_env(get, "INSTITUTION_API_KEY") {
            return Ok(Credentials::api_key(key));
        }
        let var = |k: &str| {
            auth_runtime::provider::optional_env(get, k).ok_or_else(|| {
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
