//! The token runtime behind every provider SDK of this workspace.
//!
//! Provider differences are data ([`provider::Profile`], the generated security
//! table) handed to one mechanism:
//! - [`TokenManager`]: per-principal cache with lock-free reads,
//!   single-flight fetches, jittered proactive refresh in the background,
//!   refresh-token-then-login fallback, 401 invalidation of exactly the
//!   token that was rejected;
//! - [`Session`]: attaches the credential each operation needs (bearer,
//!   Basic, API-key header), retries transient failures with backoff and
//!   `Retry-After`, recovers from one 401 by re-authenticating;
//! - [`Builder`] / [`provider::Provider`]: the shared shape of every SDK crate.
//!
//! Secrets live in [`Secret`]; nothing here prints one.
//!
//! # Who uses what
//!
//! - **Applications** use the root of this crate through a provider crate
//!   (`exirom`, `institution`, `pledg`, `bursagb`, `axept`), whose
//!   `builder()` is a [`Builder`] and whose client is an [`Sdk`]: the
//!   settings ([`RetryPolicy`], [`Telemetry`], [`ExpiryMargin`], a shared
//!   [`TokenStore`]), the errors ([`Error`], [`ErrorKind`],
//!   [`OperationError`]), injected time ([`Clock`], [`Sleep`],
//!   [`SimulatedTime`]) and the counters ([`MetricsSnapshot`]).
//! - **Provider crates** build their SDK from [`provider`]: the
//!   [`Provider`](provider::Provider) trait, [`TokenFlow`](provider::TokenFlow),
//!   [`Profile`](provider::Profile), request signing, expiry parsing.
//! - **Generated code** calls the hidden `__private` module; it is not a
//!   stable API.
//!
//! # A client, a typed call, its errors
//!
//! Every setting has a default but the credentials; every operation is
//! authenticated, retried and classified by the runtime. A failed call is
//! an [`OperationError`]: its [`kind`](OperationError::kind) is what to
//! decide on, its [`body`](OperationError::body) the provider's documented
//! error body when it sent one.
//!
//! ```no_run
//! use std::time::Duration;
//! use payauth_runtime::{ErrorKind, RetryPolicy};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let client = exirom::builder()
//!     .production()
//!     .credentials(exirom::Credentials::new("merchant key", "merchant secret"))
//!     .retry_policy(RetryPolicy::default().max_retries(3))
//!     .timeout(Duration::from_secs(10))
//!     .build()?;
//! match client.get_card_payment_status().id("pay_1").send().await {
//!     Ok(status) => println!("{:?}", status.into_inner().transaction_status),
//!     Err(e) if e.kind() == ErrorKind::NotFound => println!("no such payment"),
//!     Err(e) if e.is_retryable() => println!("try again after {:?}", e.retry_after()),
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(()) }
//! ```
//!
//! # In a test, against the sandbox
//!
//! The `sandbox` crate emulates the five providers on 127.0.0.1: a test
//! points a client at it with [`Builder::base_url`].
//!
//! ```
//! use payauth_runtime::ErrorKind;
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
//! assert_eq!(client.metrics().logins, 1); // logged in once, on the first call
//! sb.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The source stands on five layers, each importing only from those
//! below it (`layers.toml`; `cargo xtask test` checks it): `base`
//! (time, secrets, errors, HTTP details, expiry parsing, the security
//! table, the call policy), `observe` (counters, OpenTelemetry, the log),
//! `token` (the cache, its fetches, the shared store), `call` (sessions,
//! attempts, signing) and `builder`.

#![warn(missing_docs, clippy::missing_errors_doc)]
// docs.rs builds with `--cfg docsrs` on nightly: feature-gated items say
// which feature they need. Without `docsrs` (any stable build) this is off.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod base;
mod builder;
mod call;
mod observe;
mod token;

// ── For applications ──────────────────────────────────────────────────
pub use base::error::{Error, ErrorKind, OperationError};
pub use base::policy::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_FETCH_TIMEOUT, DEFAULT_TIMEOUT, Delay, RetryPolicy,
};
pub use base::secret::{Secret, fingerprint};
pub use base::time::{Clock, OffsetClock, SimulatedTime, Sleep, SystemClock, TokioSleep};
pub use builder::sdk::Sdk;
pub use builder::{Builder, Environment, descriptor};
pub use call::replay::SeenKeys;
pub use call::session::Session;
pub use observe::metrics::{Metrics, MetricsSnapshot};
pub use observe::telemetry::Telemetry;
/// The OpenTelemetry API this crate speaks (feature `otel`): providers
/// handed to [`Telemetry::with_providers`] must come from this version.
#[cfg(feature = "otel")]
#[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
pub use opentelemetry;
pub use token::principal::Principal;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use token::redis_store;
pub use token::registry::TokenCaches;
pub use token::store::{Outcome, Record, TokenStore, Wanted};
pub use token::{
    DEFAULT_MARGIN_FRACTION, DEFAULT_MAX_MARGIN, ExpiryMargin, Token, TokenFuture, TokenManager,
};
pub use token::{registry, store};

/// The retry policy, and the response headers it reads and writes.
pub mod retry {
    pub use crate::base::http::headers::{
        ATTEMPTS_HEADER, attempts_of, parse_retry_after, parse_retry_after_ms, retry_after,
    };
    pub use crate::base::policy::*;
    pub use crate::base::time::duration::secs_f64_saturating;
    pub use crate::call::classify::{
        classify_transport, is_idempotent, is_transient_status, is_unprocessed_status,
    };
}
pub use base::http::headers::ATTEMPTS_HEADER;

/// What provider crates build their SDK from: the [`Provider`](provider::Provider)
/// trait and [`Connect`](provider::Connect), the token flow (or OAuth2 client
/// credentials, ready: [`TokenEndpoint`](provider::TokenEndpoint)), the profile,
/// environment variables, request signing and callback verification,
/// expiry parsing. An application needs none of it.
pub mod provider {
    pub use crate::base::error::{auth_body, auth_body_refined};
    pub use crate::base::expiry::{self, ExpiryHints, ExpirySource};
    pub use crate::base::security::{BodyChecksum, OperationSecurity, Scheme, SchemeKind, Server};
    pub use crate::builder::{
        ClientAuth, ClientCredentials, Connect, Provider, TokenEndpoint, check_base_url,
        env_or_file, optional_env, require_env,
    };
    pub use crate::call::replay;
    pub use crate::call::session::SessionBuilder;
    pub use crate::call::signing;
    pub use crate::token::oauth2;
    pub use crate::token::{
        FLIGHT_GRACE, Issued, LEAD_JITTER, LOGIN_BACKOFF_INITIAL, LOGIN_BACKOFF_MAX, Lead,
        MALFORMED_RETRIES, MAX_LEAD_FRACTION, MIN_TOKEN_LIFETIME, ManagerConfig, Profile,
        REFRESH_COOL_DOWN, TokenFlow, TokenSource, bearer_header,
    };
    /// Re-exported for provider crates' `TokenFlow` impls.
    pub use futures::future::BoxFuture;
}

/// What only generated code calls (`codegen` writes these paths). Not a
/// stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::base::error::Operation;
    pub use crate::base::http::{body, header, response};
    pub use crate::base::operation_body::OperationBody;
    pub use crate::base::security::{BodyChecksum, OperationSecurity, Scheme, SchemeKind, Server};
}
