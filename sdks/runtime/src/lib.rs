//! The token runtime behind every provider SDK of this workspace.
//!
//! Provider differences are data ([`Profile`], the generated security
//! table) handed to one mechanism:
//! - [`TokenManager`]: per-principal cache with lock-free reads,
//!   single-flight fetches, jittered proactive refresh in the background,
//!   refresh-token-then-login fallback, 401 invalidation of exactly the
//!   token that was rejected;
//! - [`Session`]: attaches the credential each operation needs (bearer,
//!   Basic, API-key header), retries transient failures with backoff and
//!   `Retry-After`, recovers from one 401 by re-authenticating;
//! - [`Builder`] / [`Provider`]: the shared shape of the five SDK crates.
//!
//! Secrets live in [`Secret`]; nothing here prints one.

pub mod body;
mod builder;
pub mod descriptor;
mod error;
pub mod expiry;
pub mod header;
mod metrics;
mod operation_body;
mod principal;
#[cfg(feature = "redis")]
pub mod redis_store;
pub mod registry;
pub mod response;
pub mod retry;
mod sdk;
mod secret;
mod security;
mod session;
pub mod signing;
pub mod store;
mod telemetry;
mod time;
mod token;

pub use builder::{
    Builder, Connect, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, Environment, Provider,
    check_base_url, optional_env, require_env,
};
#[doc(hidden)]
pub use error::Operation;
pub use error::{Error, ErrorKind, OperationError, auth_body, auth_body_refined};
pub use expiry::{ExpiryHints, ExpirySource};
pub use metrics::{Metrics, MetricsSnapshot};
/// The OpenTelemetry API this crate speaks (feature `otel`): providers
/// handed to [`Telemetry::with_providers`] must come from this version.
#[cfg(feature = "otel")]
pub use opentelemetry;
#[doc(hidden)]
pub use operation_body::OperationBody;
pub use principal::Principal;
pub use registry::TokenCaches;
pub use retry::{ATTEMPTS_HEADER, Delay, RetryPolicy};
pub use sdk::Sdk;
pub use secret::{Secret, fingerprint};
pub use security::{BodyChecksum, OperationSecurity, Scheme, SchemeKind, Server};
pub use session::{Session, SessionBuilder};
pub use store::{Outcome, Record, TokenStore, Wanted};
pub use telemetry::Telemetry;
pub use time::{Clock, OffsetClock, SimulatedTime, Sleep, SystemClock, TokioSleep};
pub use token::{
    DEFAULT_FETCH_TIMEOUT, DEFAULT_MARGIN_FRACTION, DEFAULT_MAX_MARGIN, ExpiryMargin, FLIGHT_GRACE,
    Issued, LEAD_JITTER, LOGIN_BACKOFF_INITIAL, LOGIN_BACKOFF_MAX, Lead, MALFORMED_RETRIES,
    MAX_LEAD_FRACTION, MIN_TOKEN_LIFETIME, ManagerConfig, Profile, REFRESH_COOL_DOWN, Token,
    TokenFlow, TokenFuture, TokenManager, TokenSource, bearer_header,
};

/// Re-exported for provider crates' `TokenFlow` impls.
pub use futures::future::BoxFuture;
