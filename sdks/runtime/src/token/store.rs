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

use crate::base::error::Error;
use crate::base::secret::Secret;
use crate::token::principal::Principal;

/// What a store keeps per principal. Times are Unix milliseconds (wall
/// clock): they are compared across processes.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    /// The access token (a store keeps it encrypted).
    pub access_token: Secret,
    /// Institution's rotating refresh token: whoever holds the fleet lock
    /// uses the stored one, so each is used by exactly one process.
    pub refresh_token: Option<Secret>,
    /// When the access token expires, Unix milliseconds.
    pub expires_at_unix_ms: i64,
    /// When the token is due for a refresh, for every process that shares
    /// it: set once, by the process that fetched it, at the latest point
    /// its jittered lead allows (the store's lock, not jitter, keeps a
    /// fleet from fetching together).
    pub refresh_at_unix_ms: i64,
    /// When the refresh token expires, if known (a JWT's `exp`): the store
    /// keeps the record (for its refresh token) until then, past the
    /// access token's expiry.
    pub refresh_token_expires_at_unix_ms: Option<i64>,
}

impl Record {
    /// The record's refresh token, unless it is known to have expired at
    /// `now_unix_ms`.
    pub fn live_refresh_token(&self, now_unix_ms: i64) -> Option<&Secret> {
        self.refresh_token.as_ref().filter(|_| {
            self.refresh_token_expires_at_unix_ms
                .is_none_or(|at| now_unix_ms < at)
        })
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at_unix_ms", &self.expires_at_unix_ms)
            .field("refresh_at_unix_ms", &self.refresh_at_unix_ms)
            .field(
                "refresh_token_expires_at_unix_ms",
                &self.refresh_token_expires_at_unix_ms,
            )
            .finish()
    }
}

/// Runs the provider call; gets the latest stored record (for its refresh
/// token), if the store has one.
pub type FetchFn<'a> =
    Box<dyn FnOnce(Option<Record>) -> BoxFuture<'a, Result<Record, Error>> + Send + 'a>;

/// What a caller of [`TokenStore::get_or_fetch`] accepts.
pub struct Wanted<'a> {
    /// A record taken without fetching: before its refresh time, and not
    /// the token the provider just rejected.
    pub fresh: &'a (dyn Fn(&Record) -> bool + Send + Sync),
    /// A record served when no fresh one can be had (the fetch failed,
    /// another process is still fetching): unexpired, not rejected.
    pub serviceable: &'a (dyn Fn(&Record) -> bool + Send + Sync),
    /// The caller still has a token of its own (a proactive refresh): when
    /// another process holds the fleet lock past the wait, give up
    /// ([`Outcome::Busy`]) instead of fetching alongside it.
    pub give_up_when_busy: bool,
}

impl fmt::Debug for Wanted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wanted")
            .field("give_up_when_busy", &self.give_up_when_busy)
            .finish_non_exhaustive()
    }
}

/// What [`TokenStore::get_or_fetch`] produced.
#[derive(Debug)]
pub enum Outcome {
    /// A fresh record another process fetched.
    Stored(Record),
    /// The record `fetch` returned (published when the store could).
    Fetched(Record),
    /// A due but unexpired stored record, served because no fresh one could
    /// be had: `error` is the failed fetch's error, or `None` when another
    /// process was still fetching when the wait ran out.
    Stale {
        /// The stored record, due but not expired.
        record: Record,
        /// Why no fresh one could be had, when a fetch failed.
        error: Option<Error>,
    },
    /// Another process is still fetching and the caller asked to give up
    /// (`give_up_when_busy`): it keeps its token.
    Busy,
}

/// A second-level token cache (Redis, behind the `redis` feature).
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    /// The key under which this store keeps `principal`'s record: a keyed
    /// hash under the store's own secret (never a plain hash of a
    /// credential), the same in every process configured alike.
    fn key_for(&self, principal: &Principal) -> String;

    /// A record for `key` that `wanted.fresh` accepts, from the store, or
    /// from `fetch` run by one process at a time across the fleet. `Err`
    /// only when the fetch failed and no serviceable record is stored.
    fn get_or_fetch<'a>(
        &'a self,
        key: &'a str,
        wanted: Wanted<'a>,
        fetch: FetchFn<'a>,
    ) -> BoxFuture<'a, Result<Outcome, Error>>;

    /// Whether the backend is believed reachable: `false` during an outage,
    /// when fetches go to the provider without it (telemetry's
    /// `payauth.store.result = outage`).
    fn is_reachable(&self) -> bool {
        true
    }
}

/// Wall-clock Unix milliseconds.
pub fn unix_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}
