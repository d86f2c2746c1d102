//! Exirom: merchant key + secret → a 30-day JWT, kept fresh for you.
//!
//! Every operation of [`generated::Client`] (reached through the [`Client`]
//! returned by [`builder`]) carries a valid bearer token. The token is
//! cached, refreshed one day before expiry (as Exirom asks), re-fetched
//! once on a 401, and transient failures are retried.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use exirom::{Credentials, Environment, Secret};
//! let client = exirom::builder()
//!     .environment(Environment::Sandbox)
//!     .credentials(
//!         Credentials::new("merchant key", Secret::new("merchant secret"))
//!             // only when the checksum secret is not the merchant secret
//!             .checksum_secret("checksum secret"),
//!     )
//!     .build()?;
//! let status = client.get_card_payment_status().id("pay_1").send().await?;
//! println!("{:?}", status.into_inner());
//!
//! // Or from Exirom's own variables: API_BASE_URL, MERCHANT_KEY, MERCHANT_SECRET.
//! let client = exirom::from_env()?;
//! let token = client.bearer().await?; // or call any typed operation
//! # let _ = token; Ok(()) }
//! ```
//!
//! # Errors
//!
//! Every operation's `send()` fails with an [`OperationError`] whose
//! [`kind`](OperationError::kind) a program decides on, and whose
//! [`body`](OperationError::body) is exirom's documented error body
//! ([`types::ErrorResponse`]) when it sent one:
//!
//! ```no_run
//! use exirom::ErrorKind;
//!
//! # async fn demo(client: exirom::Client) -> Result<(), exirom::Error> {
//! match client.get_card_payment_status().id("pay_1").send().await {
//!     Ok(status) => println!("{}", status.into_inner().transaction_status),
//!     Err(e) if e.kind() == ErrorKind::NotFound => println!("no such payment"),
//!     Err(e) if e.is_retryable() => println!("later: {:?}", e.retry_after()),
//!     Err(e) => {
//!         let said = e.body().map(|b| b.message.clone());
//!         eprintln!("exirom refused ({said:?})");
//!         return Err(e.into_error());
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # In a test, against the sandbox
//!
//! The `sandbox` crate emulates exirom (and the other providers) on
//! 127.0.0.1:
//!
//! ```
//! use exirom::ErrorKind;
//! use payauth_sandbox::{Provider, Sandbox};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let sb = Sandbox::start().await?;
//! let account = sb.credentials(Provider::Exirom);
//! let client = exirom::builder()
//!     .base_url(sb.base_url(Provider::Exirom))
//!     .credentials(exirom::Credentials::new(
//!         account.text("merchant_key"),
//!         account.text("merchant_secret"),
//!     ))
//!     .build()?;
//!
//! let unknown = client.get_card_payment_status().id("pay_unknown").send().await;
//! assert_eq!(unknown.unwrap_err().kind(), ErrorKind::NotFound);
//! assert_eq!(client.metrics().logins, 1);
//! sb.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs, clippy::missing_errors_doc)]
// docs.rs builds with `--cfg docsrs` on nightly; any stable build leaves it off.
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The client, types and security table generated from `specs/exirom.yaml`
/// (`cargo xtask regen`): every operation's docs say which credentials it
/// needs and which failures the spec documents.
#[rustfmt::skip]
pub mod generated;

use std::time::Duration;

pub use generated::types;
use payauth_runtime::provider::{
    BoxFuture, Connect, Issued, Lead, Profile, Provider, TokenFlow, auth_body,
};

payauth_runtime::sdk_entry_points!(
    Exirom,
    generated::Client,
    "`API_BASE_URL` (default: the sandbox), `MERCHANT_KEY`, `MERCHANT_SECRET`, optional \
     `EXIROM_CHECKSUM_SECRET` (checksums; default: the merchant secret)"
);

/// This provider described for tools (`payauth`, the demo, tests): its
/// variables, mechanism, lifetimes and a read-only probe.
pub mod descriptor;

mod checksum;
pub use checksum::{AmountForm, Callback, CallbackVerifier, Unsigned, apm_checksum};
pub use payauth_runtime::provider::signing::CallbackError;

/// Exirom as the runtime sees it.
#[derive(Debug)]
pub struct Exirom;

/// `merchantKey` / `merchantSecret` from the Exirom admin team. Sandbox
/// and production credentials are separate. Made with
/// [`Credentials::new`]; every secret is a [`Secret`] (or anything that
/// becomes one: a `String`, a `&str`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Credentials {
    /// The merchant key (`merchantKey` of the login): who the tokens are
    /// for.
    pub merchant_key: String,
    /// The merchant secret (`merchantSecret` of the login); by default
    /// also the secret of checksums.
    pub merchant_secret: Secret,
    /// The secret of APM `checksum`s and callback `X-Checksum`s, when it is
    /// not the merchant secret (the pages say it is).
    pub checksum_secret: Option<Secret>,
}

impl Credentials {
    /// The merchant key and secret; checksums use the merchant secret
    /// unless [`checksum_secret`](Credentials::checksum_secret) sets
    /// another.
    pub fn new(merchant_key: impl Into<String>, merchant_secret: impl Into<Secret>) -> Self {
        Credentials {
            merchant_key: merchant_key.into(),
            merchant_secret: merchant_secret.into(),
            checksum_secret: None,
        }
    }

    /// A checksum secret other than the merchant secret.
    pub fn checksum_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.checksum_secret = Some(secret.into());
        self
    }

    /// The secret checksums are computed with.
    pub fn checksum_key(&self) -> &Secret {
        self.checksum_secret
            .as_ref()
            .unwrap_or(&self.merchant_secret)
    }
}

impl Provider for Exirom {
    const PROFILE: Profile = Profile {
        name: "exirom",
        // "Refresh 1 day before expiry" (Exirom's authentication guide).
        refresh_lead: Lead::Fixed(Duration::from_secs(24 * 3600)),
        // Exirom tokens always carry `exp`; if one does not, assume an hour.
        assumed_lifetime: Duration::from_secs(3600),
        base_url_env: "API_BASE_URL",
        sandbox_url: Some("https://sandbox.api.exirom.com/api"),
        production_url: Some("https://api.exirom.com/api"),
    };
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    type Credentials = Credentials;
    type Client = Client;

    fn credentials_from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Credentials, Error> {
        let var = |k: &str| payauth_runtime::provider::require_env(get, "exirom", k);
        let credentials = Credentials::new(var("MERCHANT_KEY")?, var("MERCHANT_SECRET")?);
        Ok(
            match payauth_runtime::provider::optional_env(get, "EXIROM_CHECKSUM_SECRET") {
                Some(secret) => credentials.checksum_secret(secret),
                None => credentials,
            },
        )
    }

    fn connect(connect: Connect, credentials: Credentials) -> Result<Client, Error> {
        let principal = connect
            .principal()
            .part("merchant_key", credentials.merchant_key.as_str())
            .secret("merchant_secret", &credentials.merchant_secret);
        let login = connect.session();
        let checksum = credentials.checksum_key().clone();
        Ok(connect.sdk_with(
            generated::Client::new_with_client,
            login,
            &principal,
            |login| Flow { login, credentials },
            // The checksum secret rides on the session for request signing.
            |api| api.signing_secret(checksum),
        ))
    }
}

struct Flow {
    login: generated::Client,
    credentials: Credentials,
}

impl TokenFlow for Flow {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        Box::pin(async move {
            let body = types::AuthRequest {
                merchant_key: self.credentials.merchant_key.clone(),
                merchant_secret: self.credentials.merchant_secret.expose().to_string(),
            };
            let response = auth_body(self.login.authenticate().body(body).send()).await?;
            Ok(issued(response))
        })
    }
}

#[doc(hidden)] // public for the workspace's property tests
/// The API reference sends a bare string, the guide an object.
pub fn issued(response: types::AuthResponse) -> Issued {
    let token = match response {
        types::AuthResponse::String(token) => token,
        types::AuthResponse::AuthTokenObject(object) => object.token,
    };
    Issued::jwt(token)
}
