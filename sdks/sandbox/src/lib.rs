//! Local, stateful emulator of payment providers' authentication APIs (today exirom,
//! institution, pledg, bursagb and axept).
//!
//! One HTTP listener (127.0.0.1, ephemeral port by default) serves every provider under a
//! prefix shaped like its real base URL ([`Sandbox::base_url`]). Tokens are real signed JWTs
//! (`iat`, `exp`, `sub`, `jti`, `env: "sandbox"`) or opaque strings the sandbox remembers;
//! the sandbox keeps its own clock ([`Sandbox::advance_clock`]), revocations, refresh
//! tokens, rotating credentials, queued faults ([`Sandbox::inject`]) and counters
//! ([`Sandbox::counters`]). When a payment or transaction changes state it calls the
//! application back as the provider would (signed, retried; [`CallbackSettings`]), and it
//! reports every request and callback attempt to subscribers ([`Sandbox::subscribe`]).
//!
//! Each provider is a plug-in: its module under `providers/` implements one trait (base
//! path, routes and handlers, credentials, error format, configuration, token format) and
//! the registry lists it once; the shared mechanisms (OAuth2 client credentials, bearer
//! checks, idempotent creation, token expiry and revocation) are emulated in one place.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use payauth_sandbox::{Fault, Provider, Route, Sandbox};
//! let sb = Sandbox::start().await?;
//! let login_url = format!("{}/api/token", sb.base_url(Provider::Pledg));
//! sb.inject(Provider::Pledg, Route::Login, Fault::status(503).retry_after_secs(1));
//! // ... drive a client against `login_url` ...
//! assert_eq!(sb.counters().route(Provider::Pledg, Route::Login).faults_served, 0);
//! sb.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # In an application's test
//!
//! Start it, point a client at it, make the provider misbehave, and see what the client
//! did (here: a 503 with `Retry-After` on the login, which the client waits out and
//! retries; a payment the sandbox does not know, a typed `NotFound`):
//!
//! ```
//! use payauth_sandbox::{Fault, Provider, Route, Sandbox};
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
//! sb.inject(Provider::Exirom, Route::Login, Fault::status(503).retry_after_ms(10));
//! let unknown = client.get_card_payment_status().id("pay_unknown").send().await;
//! assert_eq!(unknown.unwrap_err().kind(), exirom::ErrorKind::NotFound);
//!
//! let login = sb.counters().route(Provider::Exirom, Route::Login);
//! assert_eq!((login.faults_served, login.logins), (1, 1));
//! sb.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Errors
//!
//! Starting fails with an `std::io::Error` (the port is taken, or an invalid
//! [`SandboxConfig`] as `InvalidInput`); the control API's mistakes (an unknown provider,
//! route or object) are a [`SandboxError`]. The emulated providers' own errors are HTTP
//! answers in each provider's error format, as the real ones send them.
//!
//! Every key in this crate is a SANDBOX-ONLY test key, public in the repository.

#![warn(missing_docs, clippy::missing_errors_doc)]
// docs.rs builds with `--cfg docsrs` on nightly; any stable build leaves it off.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod callback;
mod callback_config;
mod clock;
mod config;
mod counters;
mod credentials;
mod duration_ms;
mod emulation;
mod error;
mod events;
mod faults;
mod handle;
mod http;
mod jwt;
mod plugin;
mod provider;
mod providers;
mod registry;
mod route;
mod signatures;
mod state;
mod sync;
mod time_format;
mod variant;

pub use callback::SignedCallback;
pub use callback_config::{
    CallbackSettings, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_FIRST_RETRY, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_RETRY,
};
pub use config::{ProviderConfig, SandboxConfig};
pub use counters::{Counters, RouteCounters};
pub use credentials::Credentials;
pub use error::SandboxError;
pub use events::{
    Answer, CallbackEvent, CallbackOutcome, EVENT_BUFFER, RequestEvent, SandboxEvent,
};
pub use faults::{Fault, FaultMix, RetryAfter};
pub use handle::Sandbox;
pub use jwt::{Forgery, SANDBOX_ENV, peek_claims};
pub use provider::Provider;
/// Each provider's configuration type (`PledgConfig`, …) and helpers.
pub use providers::*;
pub use route::Route;
pub use variant::Variant;
