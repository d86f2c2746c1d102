//! axept Cloud Connect: merchantId + keyId + key → a JWT with `ExpiresAt`.
//!
//! The field table says `Token`/`ExpiresAt`, the example `token`/`expiresAt`:
//! both are accepted. When `ExpiresAt` and the JWT `exp` disagree (they do
//! in the provider's own sample), the earlier one wins. The cache is the
//! thread-safe, auto-evicting one the provider asks for.
//!
//! The transaction webhook (`webHookUrl`) is unsigned: [`webhook`] parses
//! it and confirms it with the provider.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use axept::{Credentials, Secret};
//! let client = axept::builder()
//!     .sandbox()
//!     .credentials(Credentials::new(12345, 12, Secret::new("…")))
//!     .build()?;
//! let page = client.list_transactions().send().await?;
//! println!("{} transactions", page.into_inner().len());
//! # Ok(()) }
//! ```
//!
//! # Errors
//!
//! Every operation's `send()` fails with an [`OperationError`] whose
//! [`kind`](OperationError::kind) a program decides on, and whose
//! [`body`](OperationError::body) is axept's documented
//! [`types::ErrorResponse`] when it sent one:
//!
//! ```no_run
//! use axept::ErrorKind;
//!
//! # async fn demo(client: axept::Client) -> Result<(), axept::Error> {
//! let uti = "6f1c2a8e-0b7d-4c55-9d1e-2f3a4b5c6d7e";
//! match client.get_transaction().uti(uti).send().await {
//!     Ok(t) => println!("approved: {}", t.trans_approved && t.status == "Complete"),
//!     Err(e) if e.kind() == ErrorKind::NotFound => println!("no transaction {uti}"),
//!     Err(e) if e.is_retryable() => println!("later: {:?}", e.retry_after()),
//!     Err(e) => return Err(e.into_error()),
//! }
//! # Ok(()) }
//! ```
//!
//! # In a test, against the sandbox
//!
//! The `sandbox` crate emulates axept (and the other providers) on
//! 127.0.0.1:
//!
//! ```
//! use axept::ErrorKind;
//! use payauth_sandbox::{Provider, Sandbox};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let sb = Sandbox::start().await?;
//! let account = sb.credentials(Provider::Axept);
//! let client = axept::builder()
//!     .base_url(sb.base_url(Provider::Axept))
//!     .credentials(axept::Credentials::new(
//!         account.int("merchant_id"),
//!         account.int("key_id"),
//!         account.text("key"),
//!     ))
//!     .build()?;
//!
//! let page = client.list_transactions().send().await?;
//! println!("{} transactions so far", page.into_inner().len());
//! let unknown = "6f1c2a8e-0b7d-4c55-9d1e-2f3a4b5c6d7e";
//! let error = client.get_transaction().uti(unknown).send().await.unwrap_err();
//! assert_eq!(error.kind(), ErrorKind::NotFound);
//! assert_eq!(client.metrics().logins, 1);
//! sb.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs, clippy::missing_errors_doc)]
// docs.rs builds with `--cfg docsrs` on nightly; any stable build leaves it off.
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The client, types and security table generated from `specs/axept.yaml`
/// (`cargo xtask regen`): every operation's docs say which credentials it
/// needs and which failures the spec documents.
#[rustfmt::skip]
pub mod generated;

use std::time::Duration;

pub use generated::types;
use payauth_runtime::provider::expiry::lenient_datetime;
use payauth_runtime::provider::{
    BoxFuture, Connect, ExpiryHints, Issued, Lead, Profile, Provider, TokenFlow, auth_body,
};

payauth_runtime::sdk_entry_points!(
    Axept,
    generated::Client,
    "`AXEPT_BASE_URL` (default: the pre-production host), `AXEPT_MERCHANT_ID`, `AXEPT_KEY_ID`, `AXEPT_KEY`"
);

/// This provider described for tools (`payauth`, the demo, tests): its
/// variables, mechanism, lifetimes and a read-only probe.
pub mod descriptor;
pub mod webhook;

/// axept as the runtime sees it (its [`Provider`] impl: profile,
/// credentials from the environment, wiring).
#[derive(Debug)]
pub struct Axept;

/// `merchantId`, `keyId` and `key` of axept Cloud Connect. Made with
/// [`Credentials::new`]; the key is a [`Secret`] (or anything that becomes
/// one: a `String`, a `&str`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Credentials {
    /// Not your `mid`: the axept Cloud Connect merchant id.
    pub merchant_id: i64,
    /// The id of the key (`keyId`), given with it.
    pub key_id: i64,
    /// The key itself (`key`).
    pub key: Secret,
}

impl Credentials {
    /// The Cloud Connect merchant id, the key's id and the key.
    pub fn new(merchant_id: i64, key_id: i64, key: impl Into<Secret>) -> Self {
        Credentials {
            merchant_id,
            key_id,
            key: key.into(),
        }
    }
}

const NAME: &str = "axept";

impl Provider for Axept {
    const PROFILE: Profile = Profile {
        name: NAME,
        refresh_lead: Lead::Fraction(0.15),
        assumed_lifetime: Duration::from_secs(5 * 60),
        base_url_env: "AXEPT_BASE_URL",
        sandbox_url: Some("https://optomany-axeptconnectcloudmerchant-ppe.azurewebsites.net"),
        production_url: None,
    };
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    type Credentials = Credentials;
    type Client = Client;

    fn credentials_from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Credentials, Error> {
        let var = |k: &str| payauth_runtime::provider::require_env(get, NAME, k);
        let int = |k: &str| {
            var(k)?
                .trim()
                .parse::<i64>()
                .map_err(|_| Error::config(NAME, format!("{k} is not an integer")))
        };
        Ok(Credentials::new(
            int("AXEPT_MERCHANT_ID")?,
            int("AXEPT_KEY_ID")?,
            var("AXEPT_KEY")?,
        ))
    }

    fn connect(connect: Connect, credentials: Credentials) -> Result<Client, Error> {
        let principal = connect
            .principal()
            .part("merchant_id", credentials.merchant_id.to_string())
            .part("key_id", credentials.key_id.to_string())
            .secret("key", &credentials.key);
        let login = connect.session();
        Ok(connect.sdk(
            generated::Client::new_with_client,
            login,
            &principal,
            |login| Flow { login, credentials },
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
            let body = types::AuthenticationRequest {
                merchant_id: self.credentials.merchant_id,
                key_id: self.credentials.key_id,
                key: self.credentials.key.expose().to_string(),
            };
            let response = auth_body(self.login.authenticate().body(body).send()).await?;
            Ok(issued(response))
        })
    }
}

#[doc(hidden)] // public for the workspace's property tests
/// Either casing; the expiry field is read leniently (never fails a login).
pub fn issued(response: types::AuthenticationResponse) -> Issued {
    let (token, expires_at) = match response {
        types::AuthenticationResponse::Pascal(r) => (r.token, r.expires_at),
        types::AuthenticationResponse::Camel(r) => (r.token, r.expires_at),
    };
    Issued {
        access_token: Secret::new(token),
        refresh_token: None,
        hints: ExpiryHints {
            at: lenient_datetime(NAME, "ExpiresAt", &expires_at),
            ..ExpiryHints::default()
        },
    }
}

/// Name of the paging header of `GET /Transaction` (`list_transactions`).
pub const PAGINATION_HEADER: &str = "x-pagination";

/// Why an `X-Pagination` header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaginationError;

impl std::fmt::Display for PaginationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the X-Pagination header is not the documented JSON object")
    }
}

impl std::error::Error for PaginationError {}

/// The `X-Pagination` header as a typed value: `Ok(None)` when absent,
/// an error when present but not `{totalCount, pageSize, currentPage,
/// totalPages}` (non-negative integers). Headers over 4 KiB are refused.
///
/// # Errors
///
/// [`PaginationError`] when the header is present but over 4 KiB or not
/// that JSON object.
///
/// ```no_run
/// # async fn demo(client: axept::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let page = client.list_transactions().page_size(20).send().await?;
/// let paging = axept::pagination(page.headers())?;
/// # let _ = paging; Ok(()) }
/// ```
pub fn pagination(
    headers: &reqwest::header::HeaderMap,
) -> Result<Option<types::Pagination>, PaginationError> {
    let Some(raw) = headers.get(PAGINATION_HEADER) else {
        return Ok(None);
    };
    if raw.len() > 4096 {
        return Err(PaginationError);
    }
    serde_json::from_slice(raw.as_bytes())
        .map(Some)
        .map_err(|_| PaginationError)
}
