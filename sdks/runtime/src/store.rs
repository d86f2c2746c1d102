//! The seam for a second-level token cache shared by a fleet of
//! processes. The in-process cache stays the hot path; a store is only
//! consulted when a token is missing, due or rejected.
//!
//! [`TokenStore::get_or_fetch`] is cross-process single-flight: return a
//! stored record the caller can use, or let exactly one process of the
//! fleet run `fetch` and publish its result. A store that cannot reach its
//! backend must still answer — by running `fetch` itself — so an outage of
//! the store never fails a request.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;

use crate::error::Error;
use crate::principal::Principal;
use crate::secret::Secret;

/// What a store keeps per principal. Times are Unix milliseconds (wall
/// clock): they are compared across processes.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    pub access_token: Secret,
    /// Institution's rotating refresh token: whoever holds the fleet lock
    /// uses the stored one, so each is used by exactly one process.
    pub refresh_token: Option<Secret>,
    pub expires_at_unix_ms: i64,
    /// When the token is due for a refresh (lead and jitter applied once,
    /// by the process that fetched it).
    pub refresh_at_unix_ms: i64,
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at_unix_ms", &self.expires_at_unix_ms)
            .field("refresh_at_unix_ms", &self.refresh_at_unix_ms)
            .finish()
    }
}

/// Runs the provider call; gets the latest stored record (for its refresh
/// token), if the store has one.
pub type FetchFn<'a> =
    Box<dyn FnOnce(Option<Record>) -> BoxFuture<'a, Result<Record, Error>> + Send + 'a>;

/// A second-level token cache (Redis, behind the `redis` feature).
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    /// The key under which this store keeps `principal`'s record: a keyed
    /// hash under the store's own secret (never a plain hash of a
    /// credential), the same in every process configured alike.
    fn key_for(&self, principal: &Principal) -> String;

    /// A record for `key` that `usable` accepts, from the store, or from
    /// `fetch` run by exactly one process at a time across the fleet.
    fn get_or_fetch<'a>(
        &'a self,
        key: &'a str,
        usable: &'a (dyn Fn(&Record) -> bool + Send + Sync),
        fetch: FetchFn<'a>,
    ) -> BoxFuture<'a, Result<Record, Error>>;
}

/// Wall-clock Unix milliseconds.
pub fn unix_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}
