//! Tokens and the per-principal token cache.
//!
//! - `profile.rs`: what differs between providers ([`Profile`], [`Lead`])
//!   and the timing rules they share;
//! - `flow.rs`: what a provider supplies ([`TokenFlow`], [`Issued`]);
//! - `cached.rs`: what the cache hands out ([`Token`]);
//! - `manager.rs`: [`TokenManager`] — its state, 401 invalidation, joining
//!   or starting a flight;
//! - `future.rs`: [`TokenFuture`], the lock-free hot path;
//! - `flight.rs`: one detached single-flight fetch, its guard and deadline;
//! - `fetch.rs`: one fetch — refresh token or login, direct or through a
//!   shared store;
//! - `source.rs`: [`TokenSource`] — what a fetch runs with (the triggering
//!   client's flow, fetch timeout and timer);
//! - `timing.rs`: expiry, refresh lead, expiry margin;
//! - `backoff.rs`: login backoff (account-lockout protection);
//! - `oauth2.rs`: an OAuth2 token endpoint's answer, read (the
//!   client-credentials flow's parser);
//! - `principal.rs`, `registry.rs`: the cache's identity and lifetime;
//! - `store.rs`, `redis_store/`: the second level a fleet shares.

mod backoff;
mod cached;
mod fetch;
mod flight;
mod flow;
mod future;
mod manager;
#[cfg(test)]
mod manager_tests;
pub mod oauth2;
pub(crate) mod principal;
mod profile;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis_store;
pub mod registry;
mod source;
pub mod store;
mod timing;

pub use backoff::{LOGIN_BACKOFF_INITIAL, LOGIN_BACKOFF_MAX};
pub use cached::{Token, bearer_header};
pub use fetch::MALFORMED_RETRIES;
pub use flight::FLIGHT_GRACE;
pub use flow::{Issued, TokenFlow};
pub use future::TokenFuture;
pub use manager::{ManagerConfig, TokenManager};
pub use profile::{
    LEAD_JITTER, Lead, MAX_LEAD_FRACTION, MIN_TOKEN_LIFETIME, Profile, REFRESH_COOL_DOWN,
};
pub use source::TokenSource;
pub use timing::{DEFAULT_MARGIN_FRACTION, DEFAULT_MAX_MARGIN, ExpiryMargin};
