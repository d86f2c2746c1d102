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
//! use sandbox::{Fault, Provider, Route, Sandbox};
//! let sb = Sandbox::start().await?;
//! let login_url = format!("{}/api/token", sb.base_url(Provider::Pledg));
//! sb.inject(Provider::Pledg, Route::Login, Fault::status(503).retry_after_secs(1));
//! // ... drive a client against `login_url` ...
//! assert_eq!(sb.counters().route(Provider::Pledg, Route::Login).faults_served, 0);
//! sb.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Every key in this crate is a SANDBOX-ONLY test key, public in the repository.

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
