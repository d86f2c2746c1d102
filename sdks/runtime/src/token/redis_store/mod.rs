//! Redis as the fleet-wide second-level token cache (feature `redis`).
//!
//! The in-process cache of each [`TokenManager`](crate::TokenManager) stays
//! the hot path; Redis is only consulted when a token is missing, due or
//! rejected. Switch it on without touching code by setting
//! `AUTH_RUNTIME_REDIS_URL` and `AUTH_RUNTIME_REDIS_KEYS` (see [`from_env`]),
//! or hand a [`RedisStore`] to `Builder::token_store`.
//!
//! # What it does
//! - **Cross-process single-flight.** When a token is missing or due, one
//!   process takes a lock (`SET lock owner NX PX lease`), reads the token
//!   again, runs the fetch with the latest stored record (so a rotating
//!   refresh token is used by exactly one process) while renewing the
//!   lease every third of it, then writes the record **only if it still
//!   owns the lock** and releases it, in one script (a fenced write: an
//!   owner whose lock expired or was lost in a failover writes nothing). A
//!   cancelled or panicking owner releases the lock through a guard.
//! - **One refresh per token.** The stored record carries the fleet's
//!   refresh time, set once by the process that fetched it at the latest
//!   point of its jittered lead: every process finds the token due at the
//!   same moment, one fetches under the lock and the others wait for its
//!   record. A fleet logs in once per token (8 processes, 2 s tokens, a
//!   150 ms margin: 22 logins in 20 lifetimes, `tests/tests/redis_fleet.rs`).
//! - **Waiters** poll the token key (every [`RedisStoreConfig::poll_interval`])
//!   for at most [`RedisStoreConfig::max_wait`]. When the wait runs out a
//!   proactive refresh gives up (its caller keeps its token); a caller
//!   without one serves a stored token that has not expired, or else
//!   fetches alone with *no* stored record (a login, never a refresh token
//!   the lock holder is using) and publishes what it got.
//! - **Outages of the provider.** When the fetch fails and a stored token
//!   has not expired, that token is served ([`Outcome::Stale`]).
//! - **Refresh tokens outlive access tokens.** An entry lives until the
//!   later of the access token's and the refresh token's expiry (capped at
//!   31 days), so an idle fleet still refreshes instead of logging in.
//! - **Encrypted at rest.** AES-256-GCM with a random 96-bit nonce, the
//!   Redis key as associated data, and a key id:
//!   `v1:<key id>:<base64(nonce || ciphertext)>`. The first configured key
//!   encrypts; every configured key decrypts.
//! - **Key rotation, in two phases.** (1) Deploy `new` as a decrypt-only
//!   key everywhere: `AUTH_RUNTIME_REDIS_KEYS=old:…,new:…`. (2) Once every
//!   process runs phase 1, promote it: `new:…,old:…`. (3) Drop `old` once
//!   its values have expired (the longest refresh-token lifetime). Every
//!   process reads what any other writes in every step. A value a process
//!   cannot decrypt (a key it lacks, a wrong key) is never overwritten
//!   while it lives: that process fetches for itself, and warns once a
//!   minute at most.
//! - **Keys.** `<prefix>:token:{<provider>:<mac>}` and
//!   `<prefix>:lock:{<provider>:<mac>}` (prefix `auth-runtime:v1`); `<mac>`
//!   is an HMAC of the principal (credential secret included) under the
//!   *naming key* — never a plain hash of a credential. Set it with
//!   `AUTH_RUNTIME_REDIS_NAMING_KEY` (32 bytes, base64) and keep it fixed:
//!   then rotations never move key names. Without it, it is derived from
//!   the first encryption key, so promoting a key (phase 2) moves every
//!   name: while the fleet is half promoted, each half shares its own
//!   records (twice the logins for a while, no failure).
//! - **Redis is never on the failure path.** Every command has a timeout
//!   ([`RedisStoreConfig::op_timeout`], 250 ms by default). On any Redis
//!   error the store fetches directly, logs one `warn!` per outage (and one
//!   `info!` when Redis is back), and skips Redis for a backoff that grows
//!   from [`RedisStoreConfig::min_backoff`] to [`RedisStoreConfig::max_backoff`].
//!   A wrong password, a wrong CA, a `MOVED` reply: the same. The
//!   connection is made lazily on first use.
//!
//! # What it needs from Redis (or Valkey)
//! - Standalone (5 or later) or a Cluster: several seed URLs
//!   (`redis://a:6379,redis://b:6379`) or `AUTH_RUNTIME_REDIS_CLUSTER=true`
//!   with one configuration/discovery endpoint select the cluster client.
//!   The token and lock keys of a principal share a hash tag, so every
//!   script touches one slot; scripts run with plain `EVAL`, so a promoted
//!   replica (empty script cache) serves them at once.
//! - TLS: `rediss://` (or `valkeys://`); a private CA from
//!   [`RedisStoreConfig::ca_file`] / `AUTH_RUNTIME_REDIS_CA_FILE`, else the
//!   system's roots (`SSL_CERT_FILE` is honoured). Credentials go in the
//!   URL (`rediss://user:password@host:6380`); `Debug` never prints them.
//! - An ACL user with only what the store uses (set it on every node,
//!   replicas included):
//!   `ACL SETUSER tokens on >PASSWORD resetkeys ~auth-runtime:v1:* resetchannels -@all +get +set +del +pexpire +eval +ping +cluster|slots +cluster|shards +readonly`
//!   (`GET`/`SET` outside scripts, `DEL` and `PEXPIRE` inside them;
//!   `CLUSTER SLOTS`/`SHARDS` and `READONLY` for the cluster client only).
//! - Failover: a lock can be lost when a primary fails over before
//!   replicating it. The fence keeps the old owner's write out; two
//!   processes may fetch at once, and a rotating refresh token refused to
//!   one of them means a login: more calls, no failure.
//! - Eviction: any policy is fine; an evicted token is fetched again.

mod config;
mod connection;
mod protocol;
mod scripts;
mod sealing;
mod seen;
mod stats;

use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures::future::BoxFuture;
use tracing::{error, warn};

pub use config::{
    DEFAULT_LOCK_TTL, DEFAULT_MAX_BACKOFF, DEFAULT_MAX_WAIT, DEFAULT_MIN_BACKOFF,
    DEFAULT_OP_TIMEOUT, DEFAULT_POLL_INTERVAL, DEFAULT_PREFIX, ENV_CA_FILE, ENV_CLUSTER, ENV_KEYS,
    ENV_NAMING_KEY, ENV_TIMEOUT_MS, ENV_URL, RedisStoreConfig, parse_keys,
};
pub use stats::StoreStats;

use crate::base::sync::lock;
use config::NAME;
use connection::{Conn, Link};
use sealing::Sealer;
use stats::{Counters, inc};

use crate::base::error::Error;
use crate::base::secret::fingerprint;
use crate::token::store::{FetchFn, Outcome, TokenStore, Wanted};

/// At most one warning about undecryptable values per this long.
const UNDECRYPTABLE_WARN_EVERY: Duration = Duration::from_secs(60);

/// A [`TokenStore`] in Redis: cross-process single-flight, fenced writes,
/// encrypted values, and a fallback to direct fetches whenever Redis
/// misbehaves. See the [module docs](self).
pub struct RedisStore {
    cfg: RedisStoreConfig,
    link: Link,
    sealer: Sealer,
    /// `v1:<id>:` of every key this store reads.
    prefixes: Vec<String>,
    counters: Counters,
    /// Keys Redis key names (see [`TokenStore::key_for`]).
    naming_key: [u8; 32],
    /// When the last undecryptable-value warning was logged.
    undecryptable_warned: Mutex<Option<Instant>>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("config", &self.cfg)
            .field("link", &self.link)
            .field("stats", &self.stats())
            .finish()
    }
}

impl RedisStore {
    /// A store for `cfg`. Connects lazily, on first use: neither a running
    /// Redis nor a Tokio runtime is needed here.
    ///
    /// # Errors
    ///
    /// `Config`, only for an invalid configuration: the URL, the keys, an
    /// unreadable CA file, a key prefix with `{` or `}`.
    pub fn new(cfg: RedisStoreConfig) -> Result<RedisStore, Error> {
        let sealer = Sealer::new(&cfg.keys)?;
        if cfg.prefix.contains(['{', '}']) {
            return Err(Error::config(
                NAME,
                "the key prefix must not contain `{` or `}`",
            ));
        }
        let link = Link::new(&cfg)?;
        Ok(RedisStore {
            naming_key: sealing::naming_key(cfg.naming_key.as_ref(), &cfg.keys[0].1),
            prefixes: sealer.known_prefixes(),
            cfg,
            link,
            sealer,
            counters: Counters::default(),
            undecryptable_warned: Mutex::new(None),
        })
    }

    /// [`RedisStore::new`], then check that Redis answers.
    ///
    /// # Errors
    ///
    /// As [`RedisStore::new`] and [`RedisStore::ping`].
    pub async fn connect(cfg: RedisStoreConfig) -> Result<RedisStore, Error> {
        let store = RedisStore::new(cfg)?;
        store.ping().await?;
        Ok(store)
    }

    /// Whether Redis answers `PING` now.
    ///
    /// # Errors
    ///
    /// `Transient` when it does not (down, slow past the timeout, or
    /// answering something else).
    pub async fn ping(&self) -> Result<(), Error> {
        let unreachable = || {
            Error::new(
                crate::base::error::ErrorKind::Transient,
                NAME,
                "Redis does not answer",
            )
        };
        let mut conn: Conn = self
            .link
            .connection(&self.counters)
            .await
            .map_err(|_| unreachable())?;
        let pong: String = self
            .link
            .run(&self.counters, &mut conn, &redis::cmd("PING"))
            .await
            .map_err(|_| unreachable())?;
        if pong != "PONG" {
            return Err(unreachable());
        }
        Ok(())
    }

    /// The settings the store was made with.
    pub fn config(&self) -> &RedisStoreConfig {
        &self.cfg
    }

    /// Whether Redis is believed down (requests fetch directly meanwhile).
    pub fn is_down(&self) -> bool {
        self.link.is_down()
    }

    /// The store's counters now (hits, fetches, lock waits, failures).
    pub fn stats(&self) -> StoreStats {
        self.counters.snapshot()
    }

    /// The Redis key of `principal`'s token.
    pub fn token_key(&self, principal: &str) -> String {
        format!("{}:token:{{{principal}}}", self.cfg.prefix)
    }

    /// The Redis key of `principal`'s fleet lock.
    pub fn lock_key(&self, principal: &str) -> String {
        format!("{}:lock:{{{principal}}}", self.cfg.prefix)
    }

    /// Count an undecryptable value; warn once per minute at most.
    fn note_undecryptable(&self) {
        inc(&self.counters.undecryptable);
        let now = Instant::now();
        let mut last = lock(&self.undecryptable_warned);
        if last.is_none_or(|at| now.duration_since(at) >= UNDECRYPTABLE_WARN_EVERY) {
            *last = Some(now);
            warn!(
                keys = ?self.cfg.keys.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
                "a stored token does not decrypt with this process's keys (a key missing or wrong, \
                 or a key rotation in progress); fetching for this process only and leaving it in place"
            );
        }
    }
}

impl TokenStore for RedisStore {
    /// HMAC-SHA256 of the principal (secret included) under the naming key
    /// (see the module docs): the same in every process configured alike,
    /// useless to anyone who reads Redis.
    fn key_for(&self, principal: &crate::token::principal::Principal) -> String {
        let digest = principal.mac(&self.naming_key);
        let mut out = String::with_capacity(32);
        for b in &digest[..16] {
            out.push_str(&format!("{b:02x}"));
        }
        format!("{}:{out}", principal.provider())
    }

    /// `false` while Redis is believed down (its gate closed).
    fn is_reachable(&self) -> bool {
        !self.link.is_down()
    }

    fn get_or_fetch<'a>(
        &'a self,
        key: &'a str,
        wanted: Wanted<'a>,
        fetch: FetchFn<'a>,
    ) -> BoxFuture<'a, Result<Outcome, Error>> {
        Box::pin(self.get_or_fetch_inner(key, wanted, fetch))
    }
}

/// One store per configuration per process: every client built from the
/// environment shares its connection.
type Shared = Mutex<Option<(String, Arc<RedisStore>)>>;
static SHARED: LazyLock<Shared> = LazyLock::new(|| Mutex::new(None));

/// The store configured by the environment (see
/// [`RedisStoreConfig::from_env`]), if any. A URL without valid keys logs
/// an error and returns `None`: tokens are never stored in plaintext.
/// Needs no runtime and no reachable Redis (the connection is made on
/// first use).
pub fn from_env() -> Option<Arc<dyn TokenStore>> {
    from_env_with(&|k| std::env::var(k).ok())
}

/// [`from_env`] reading from `get`.
pub fn from_env_with(get: &dyn Fn(&str) -> Option<String>) -> Option<Arc<dyn TokenStore>> {
    let cfg = match RedisStoreConfig::from_env_with(get) {
        Ok(Some(cfg)) => cfg,
        Ok(None) => return None,
        Err(e) => {
            error!("the shared token store (Redis) stays off: {e}");
            return None;
        }
    };
    let mut identity = vec![
        cfg.url.clone(),
        cfg.op_timeout.as_millis().to_string(),
        cfg.cluster.to_string(),
        format!("{:?}", cfg.ca_file),
        cfg.naming_key
            .map(|k| STANDARD.encode(k))
            .unwrap_or_default(),
    ];
    identity.extend(
        cfg.keys
            .iter()
            .map(|(id, key)| format!("{id}:{}", STANDARD.encode(key))),
    );
    let identity = fingerprint(&identity.iter().map(String::as_str).collect::<Vec<_>>());
    let mut shared = lock(&SHARED);
    if let Some((id, store)) = shared.as_ref()
        && *id == identity
    {
        return Some(Arc::clone(store) as Arc<dyn TokenStore>);
    }
    match RedisStore::new(cfg) {
        Ok(store) => {
            let store = Arc::new(store);
            *shared = Some((identity, Arc::clone(&store)));
            Some(store)
        }
        Err(e) => {
            error!("the shared token store (Redis) stays off: {e}");
            None
        }
    }
}

/// The store the environment configures ([`from_env`]), as a
/// [`RedisStore`]: the one every client built from the environment shares
/// (callback replay checks use it too). `None` when it configures none.
pub fn store_from_env() -> Option<Arc<RedisStore>> {
    from_env()?;
    lock(&SHARED).as_ref().map(|(_, store)| Arc::clone(store))
}

#[cfg(test)]
mod tests;
