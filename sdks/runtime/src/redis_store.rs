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
//!   process takes a lock (`SET lock owner NX PX ttl`), reads the token again
//!   (another process may have just written it), runs the fetch with the
//!   latest stored record (so a rotating refresh token is used by exactly
//!   one process), writes the new record, then releases the lock with a
//!   compare-and-delete script (only its owner can release it). The others
//!   poll the token key (every [`RedisStoreConfig::poll_interval`]) for at
//!   most [`RedisStoreConfig::max_wait`]; if the lock disappears without a
//!   usable token they try to take it themselves, and when the wait runs
//!   out they fetch on their own with *no* stored record (a login, never a
//!   refresh token another process may be using).
//! - **Encrypted at rest.** Values are AES-256-GCM with a random 96-bit
//!   nonce, the Redis key as associated data (a value copied to another
//!   principal's key does not decrypt), and a key id:
//!   `v1:<key id>:<base64(nonce || ciphertext)>`. The first configured key
//!   encrypts; every configured key decrypts, so keys rotate by putting the
//!   new one first and dropping the old one once its values have expired.
//!   A value with an unknown key id, or one that fails to decrypt, is
//!   treated as absent.
//! - **Keys.** `<prefix>:token:{<principal>}` and `<prefix>:lock:{<principal>}`
//!   (prefix `auth-runtime:v1`); the principal is already a hash of the
//!   credential identity, never a raw credential. Token entries expire with
//!   the token (`PX` = time left, already-expired records are not written).
//! - **Redis is never on the failure path.** Every command has a timeout
//!   ([`RedisStoreConfig::op_timeout`], 250 ms by default). On any Redis
//!   error the store fetches directly, logs one `warn!` per outage (and one
//!   `info!` when Redis is back), and skips Redis for a backoff that grows
//!   from [`RedisStoreConfig::min_backoff`] to [`RedisStoreConfig::max_backoff`]
//!   so a dead server costs no request a connect timeout. A flushed Redis is
//!   an absent record: the normal fetch path. The connection is made lazily
//!   on first use: the store is built without a runtime and without Redis
//!   being up.
//!
//! # What it needs from Redis
//! - A standalone Redis (5 or later), or a managed one with a single
//!   endpoint. Commands used: `GET`, `SET` (`NX`, `PX`), `EVALSHA`/`EVAL`
//!   and `SCRIPT LOAD` (the release script), `PING`. An ACL user needs
//!   those, on keys matching the prefix; a managed Redis must allow Lua
//!   scripts.
//! - Cluster: every operation touches a single key, the script touches one
//!   key, and the token and lock keys of a principal share the hash tag
//!   `{<principal>}`, so they live in one slot. The store speaks the
//!   standalone protocol, though: point it at an endpoint that routes for
//!   you (a cluster proxy, or a managed "single endpoint" mode). Against a
//!   raw Cluster node, `MOVED` replies count as Redis errors, and requests
//!   fall back to direct fetches: slower, never failed.
//! - Failover: a lock can be lost when a primary fails over before
//!   replicating it; two processes may then fetch at once. For a rotating
//!   refresh token one of them is refused and logs in instead: more calls,
//!   no failure.
//! - TLS: use a `rediss://` URL and enable a TLS feature of the `redis`
//!   crate in your application (`redis = { version = "1", features =
//!   ["tokio-rustls-comp", "tls-rustls-webpki-roots"] }`; Cargo features
//!   unify). Credentials go in the URL (`rediss://user:password@host:6380/0`);
//!   `Debug` never prints them.
//! - Eviction: any policy is fine; an evicted token is fetched again.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use futures::future::BoxFuture;
use rand::Rng;
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use tracing::{debug, error, info, warn};

use crate::error::Error;
use crate::secret::{Secret, fingerprint};
use crate::store::{FetchFn, Record, TokenStore, unix_ms};

/// Names errors of this module (configuration, connection checks).
const NAME: &str = "auth-runtime";

/// Redis URL (`redis://`, `rediss://`, `unix://`). Setting it switches the
/// shared store on.
pub const ENV_URL: &str = "AUTH_RUNTIME_REDIS_URL";
/// Encryption keys, `id1:base64key1,id0:base64key0`: 32 bytes each, the
/// first one encrypts, all of them decrypt.
pub const ENV_KEYS: &str = "AUTH_RUNTIME_REDIS_KEYS";
/// Optional: per-command timeout in milliseconds (default 250).
pub const ENV_TIMEOUT_MS: &str = "AUTH_RUNTIME_REDIS_TIMEOUT_MS";

/// Default prefix of every key the store writes.
pub const DEFAULT_PREFIX: &str = "auth-runtime:v1";
/// Default timeout of one Redis command (connecting included).
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_millis(250);
/// Default lifetime of the fleet lock (longer than a fetch takes).
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(10);
/// Default bound on waiting for another process's fetch.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(5);
/// Default interval between two looks at the token while waiting.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(25);
/// Default first pause after Redis failed.
pub const DEFAULT_MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Default longest pause between two attempts while Redis stays down.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Deletes the lock only if it still belongs to the caller.
const RELEASE_SCRIPT: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0
"#;

const VALUE_VERSION: &str = "v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Configuration of a [`RedisStore`]. `Debug` shows key ids, never keys,
/// and hides a password in the URL.
#[derive(Clone)]
pub struct RedisStoreConfig {
    /// `redis://[user:password@]host[:port][/db]`, `rediss://…` for TLS.
    pub url: String,
    /// `(key id, AES-256 key)`; the first encrypts, all decrypt.
    pub keys: Vec<(String, [u8; 32])>,
    /// Timeout of each Redis command (and of connecting).
    pub op_timeout: Duration,
    /// Lifetime of the fleet lock, should the holder die holding it.
    pub lock_ttl: Duration,
    /// How long a process waits for another one's fetch before fetching
    /// itself.
    pub max_wait: Duration,
    /// Interval between two looks at the token while waiting.
    pub poll_interval: Duration,
    /// First pause after a Redis failure; doubles while Redis stays down…
    pub min_backoff: Duration,
    /// …up to this.
    pub max_backoff: Duration,
    /// Prefix of every key (`<prefix>:token:{…}`, `<prefix>:lock:{…}`).
    pub prefix: String,
}

impl RedisStoreConfig {
    /// A configuration with the default timings.
    pub fn new(url: impl Into<String>, keys: Vec<(String, [u8; 32])>) -> Self {
        RedisStoreConfig {
            url: url.into(),
            keys,
            op_timeout: DEFAULT_OP_TIMEOUT,
            lock_ttl: DEFAULT_LOCK_TTL,
            max_wait: DEFAULT_MAX_WAIT,
            poll_interval: DEFAULT_POLL_INTERVAL,
            min_backoff: DEFAULT_MIN_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            prefix: DEFAULT_PREFIX.to_string(),
        }
    }

    /// From `AUTH_RUNTIME_REDIS_URL`, `AUTH_RUNTIME_REDIS_KEYS` and the
    /// optional `AUTH_RUNTIME_REDIS_TIMEOUT_MS`. `Ok(None)`: no URL, the
    /// store is off. An error when the URL is set but the keys are missing
    /// or invalid: tokens are never stored in plaintext.
    pub fn from_env() -> Result<Option<Self>, Error> {
        Self::from_env_with(&|k| std::env::var(k).ok())
    }

    /// [`RedisStoreConfig::from_env`] reading from `get`.
    pub fn from_env_with(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
        let Some(url) = get(ENV_URL)
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
        else {
            return Ok(None);
        };
        let keys = match get(ENV_KEYS).filter(|k| !k.trim().is_empty()) {
            Some(k) => parse_keys(&k)?,
            None => {
                return Err(Error::config(
                    NAME,
                    format!("{ENV_URL} is set but {ENV_KEYS} is not"),
                ));
            }
        };
        let mut cfg = RedisStoreConfig::new(url, keys);
        if let Some(ms) = get(ENV_TIMEOUT_MS).filter(|v| !v.trim().is_empty()) {
            let ms: u64 = ms.trim().parse().map_err(|_| {
                Error::config(
                    NAME,
                    format!("{ENV_TIMEOUT_MS} is not a number of milliseconds"),
                )
            })?;
            cfg.op_timeout = Duration::from_millis(ms.max(1));
        }
        Ok(Some(cfg))
    }
}

impl fmt::Debug for RedisStoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreConfig")
            .field("url", &redact_url(&self.url))
            .field(
                "keys",
                &self
                    .keys
                    .iter()
                    .map(|(id, _)| id.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("op_timeout", &self.op_timeout)
            .field("lock_ttl", &self.lock_ttl)
            .field("max_wait", &self.max_wait)
            .field("poll_interval", &self.poll_interval)
            .field("min_backoff", &self.min_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// Parse `id1:base64key1,id0:base64key0` (32-byte keys, standard or
/// URL-safe base64). Errors never contain key material.
pub fn parse_keys(s: &str) -> Result<Vec<(String, [u8; 32])>, Error> {
    let mut keys = Vec::new();
    for (i, entry) in s.split(',').map(str::trim).enumerate() {
        if entry.is_empty() {
            continue;
        }
        let Some((id, b64)) = entry.split_once(':') else {
            return Err(Error::config(
                NAME,
                format!("{ENV_KEYS}: entry {} is not `id:base64key`", i + 1),
            ));
        };
        let id = id.trim();
        let decoded = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(b64.trim()).ok());
        let key: [u8; 32] = decoded
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                Error::config(
                    NAME,
                    format!("{ENV_KEYS}: key `{id}` is not 32 bytes of base64"),
                )
            })?;
        keys.push((id.to_string(), key));
    }
    check_keys(&keys)?;
    Ok(keys)
}

fn check_keys(keys: &[(String, [u8; 32])]) -> Result<(), Error> {
    if keys.is_empty() {
        return Err(Error::config(
            NAME,
            "the Redis token store needs at least one key",
        ));
    }
    for (i, (id, _)) in keys.iter().enumerate() {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !ok {
            return Err(Error::config(
                NAME,
                format!(
                    "key id #{} must be 1 to 64 characters of A-Z, a-z, 0-9, `-`, `_`, `.`",
                    i + 1
                ),
            ));
        }
        if keys[..i].iter().any(|(other, _)| other == id) {
            return Err(Error::config(NAME, format!("key id `{id}` appears twice")));
        }
    }
    Ok(())
}

/// The URL with any password replaced.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("[redacted]"));
            }
            u.to_string()
        }
        Err(_) => "[unparseable]".to_string(),
    }
}

/// What the store counted so far (for tests and dashboards).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Records served from Redis without waiting.
    pub hits: u64,
    /// Records another process fetched while this one waited.
    pub waited: u64,
    /// Fetches this process ran holding the fleet lock.
    pub fetches_run: u64,
    /// Fetches run without Redis (Redis down, or skipped during backoff).
    pub fallbacks: u64,
    /// Waits for another process that ran out (then fetched alone).
    pub wait_timeouts: u64,
    /// Redis commands that failed or timed out.
    pub redis_errors: u64,
    /// Stored values that did not decrypt (unknown key id, tampering).
    pub undecryptable: u64,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    waited: AtomicU64,
    fetches_run: AtomicU64,
    fallbacks: AtomicU64,
    wait_timeouts: AtomicU64,
    redis_errors: AtomicU64,
    undecryptable: AtomicU64,
}

fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Whether Redis is believed down, and when to try it again.
struct Gate {
    backoff: Duration,
    retry_at: Option<Instant>,
}

/// Why Redis could not be used for one call.
enum Fail {
    /// A command failed or timed out (already counted and logged).
    Redis,
    /// Another process held the lock for longer than `max_wait`.
    WaitTimeout,
}

/// The record as stored (inside the ciphertext).
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(rename = "a")]
    access_token: String,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(rename = "e")]
    expires_at_unix_ms: i64,
    #[serde(rename = "f")]
    refresh_at_unix_ms: i64,
}

/// The encryption half of the store: no I/O.
struct Sealer {
    /// `(key id, cipher)`; the first one encrypts.
    ciphers: Vec<(String, Aes256Gcm)>,
}

impl Sealer {
    fn new(keys: &[(String, [u8; 32])]) -> Result<Self, Error> {
        check_keys(keys)?;
        let ciphers = keys
            .iter()
            .map(|(id, key)| {
                Aes256Gcm::new_from_slice(key)
                    .map(|c| (id.clone(), c))
                    .map_err(|_| Error::config(NAME, "invalid AES-256 key length"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Sealer { ciphers })
    }

    /// `v1:<key id>:<base64(nonce || ciphertext)>`, bound to `aad`.
    fn seal(&self, record: &Record, aad: &str) -> Option<String> {
        let (id, cipher) = self.ciphers.first()?;
        let plain = serde_json::to_vec(&Stored {
            access_token: record.access_token.expose().to_string(),
            refresh_token: record
                .refresh_token
                .as_ref()
                .map(|s| s.expose().to_string()),
            expires_at_unix_ms: record.expires_at_unix_ms,
            refresh_at_unix_ms: record.refresh_at_unix_ms,
        })
        .ok()?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill(&mut nonce);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &plain,
                    aad: aad.as_bytes(),
                },
            )
            .ok()?;
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        Some(format!("{VALUE_VERSION}:{id}:{}", STANDARD.encode(blob)))
    }

    /// The record in `value`, or `None` if it is not ours to read.
    fn open(&self, value: &str, aad: &str) -> Option<Record> {
        let mut parts = value.splitn(3, ':');
        let (version, id, b64) = (parts.next()?, parts.next()?, parts.next()?);
        if version != VALUE_VERSION {
            return None;
        }
        let (_, cipher) = self.ciphers.iter().find(|(k, _)| k == id)?;
        let blob = STANDARD.decode(b64).ok()?;
        if blob.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let plain = cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .ok()?;
        let stored: Stored = serde_json::from_slice(&plain).ok()?;
        Some(Record {
            access_token: Secret::new(stored.access_token),
            refresh_token: stored.refresh_token.map(Secret::new),
            expires_at_unix_ms: stored.expires_at_unix_ms,
            refresh_at_unix_ms: stored.refresh_at_unix_ms,
        })
    }
}

/// A [`TokenStore`] in Redis: cross-process single-flight, encrypted
/// values, and a fallback to direct fetches whenever Redis misbehaves.
/// See the [module docs](self).
pub struct RedisStore {
    cfg: RedisStoreConfig,
    client: redis::Client,
    sealer: Sealer,
    release: redis::Script,
    /// The live connection, if any (never held across an await).
    conn: Mutex<Option<MultiplexedConnection>>,
    /// One connection attempt at a time.
    connecting: tokio::sync::Mutex<()>,
    /// Fast check of `gate`: set while Redis is believed down.
    down: AtomicBool,
    gate: Mutex<Gate>,
    counters: Counters,
    /// Keys Redis key names (see [`TokenStore::key_for`]).
    naming_key: [u8; 32],
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("config", &self.cfg)
            .field("down", &self.down.load(Ordering::Relaxed))
            .field("stats", &self.stats())
            .finish()
    }
}

/// The key that names Redis keys, derived from an encryption key.
fn naming_key(key: &[u8; 32]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(b"auth-runtime redis key naming v1");
    mac.finalize().into_bytes().into()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl RedisStore {
    /// A store for `cfg`. Connects lazily, on first use: neither a running
    /// Redis nor a Tokio runtime is needed here. Fails only on an invalid
    /// configuration (URL, keys).
    pub fn new(cfg: RedisStoreConfig) -> Result<RedisStore, Error> {
        let sealer = Sealer::new(&cfg.keys)?;
        let cfg_keys_primary = cfg.keys[0].1;
        let client = redis::Client::open(cfg.url.as_str()).map_err(|e| {
            Error::config(
                NAME,
                format!(
                    "invalid Redis URL `{}` ({:?})",
                    redact_url(&cfg.url),
                    e.kind()
                ),
            )
        })?;
        if cfg.prefix.contains(['{', '}']) {
            return Err(Error::config(
                NAME,
                "the key prefix must not contain `{` or `}`",
            ));
        }
        Ok(RedisStore {
            cfg,
            client,
            sealer,
            release: redis::Script::new(RELEASE_SCRIPT),
            conn: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            down: AtomicBool::new(false),
            gate: Mutex::new(Gate {
                backoff: Duration::ZERO,
                retry_at: None,
            }),
            counters: Counters::default(),
            naming_key: naming_key(&cfg_keys_primary),
        })
    }

    /// [`RedisStore::new`], then check that Redis answers.
    pub async fn connect(cfg: RedisStoreConfig) -> Result<RedisStore, Error> {
        let store = RedisStore::new(cfg)?;
        store.ping().await?;
        Ok(store)
    }

    /// Whether Redis answers `PING` now.
    pub async fn ping(&self) -> Result<(), Error> {
        let unreachable = || Error::new(crate::ErrorKind::Transient, NAME, "Redis does not answer");
        let mut conn = self.connection().await.map_err(|_| unreachable())?;
        let pong: String = self
            .run(&mut conn, redis::cmd("PING"))
            .await
            .map_err(|_| unreachable())?;
        if pong != "PONG" {
            return Err(unreachable());
        }
        Ok(())
    }

    pub fn config(&self) -> &RedisStoreConfig {
        &self.cfg
    }

    pub fn stats(&self) -> StoreStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StoreStats {
            hits: get(&c.hits),
            waited: get(&c.waited),
            fetches_run: get(&c.fetches_run),
            fallbacks: get(&c.fallbacks),
            wait_timeouts: get(&c.wait_timeouts),
            redis_errors: get(&c.redis_errors),
            undecryptable: get(&c.undecryptable),
        }
    }

    /// The Redis key of `principal`'s token.
    pub fn token_key(&self, principal: &str) -> String {
        format!("{}:token:{{{principal}}}", self.cfg.prefix)
    }

    /// The Redis key of `principal`'s fleet lock.
    pub fn lock_key(&self, principal: &str) -> String {
        format!("{}:lock:{{{principal}}}", self.cfg.prefix)
    }

    async fn get_or_fetch_inner<'a>(
        &'a self,
        key: &'a str,
        usable: &'a (dyn Fn(&Record) -> bool + Send + Sync),
        fetch: FetchFn<'a>,
    ) -> Result<Record, Error> {
        if !self.gate_open() {
            inc(&self.counters.fallbacks);
            return fetch(None).await;
        }
        match self.through_redis(key, usable, fetch).await {
            Ok(outcome) => outcome,
            Err((why, fetch)) => {
                match why {
                    Fail::Redis => inc(&self.counters.fallbacks),
                    Fail::WaitTimeout => inc(&self.counters.wait_timeouts),
                }
                // No stored record: a refresh token another process may be
                // using is never used here.
                fetch(None).await
            }
        }
    }

    /// The single-flight protocol. `Err` hands the fetch back, unused, for
    /// a direct fetch; once the fetch ran, its outcome is returned whatever
    /// Redis does.
    async fn through_redis<'a>(
        &'a self,
        key: &str,
        usable: &(dyn Fn(&Record) -> bool + Send + Sync),
        fetch: FetchFn<'a>,
    ) -> Result<Result<Record, Error>, (Fail, FetchFn<'a>)> {
        let token_key = self.token_key(key);
        let lock_key = self.lock_key(key);
        let mut conn = match self.connection().await {
            Ok(c) => c,
            Err(f) => return Err((f, fetch)),
        };
        let mut latest = match self.read(&mut conn, &token_key).await {
            Ok(r) => r,
            Err(f) => return Err((f, fetch)),
        };
        if let Some(r) = latest.as_ref().filter(|r| usable(r)) {
            inc(&self.counters.hits);
            return Ok(Ok(r.clone()));
        }
        let owner = {
            let mut rng = rand::rng();
            format!("{:032x}", rng.random::<u128>())
        };
        let deadline = Instant::now() + self.cfg.max_wait;
        let mut waited = false;
        loop {
            let acquired = match self.try_lock(&mut conn, &lock_key, &owner).await {
                Ok(a) => a,
                Err(f) => return Err((f, fetch)),
            };
            if acquired {
                // Double check: the previous holder may have just written.
                let fresh = match self.read(&mut conn, &token_key).await {
                    Ok(r) => r,
                    // The lock expires by itself.
                    Err(f) => return Err((f, fetch)),
                };
                if let Some(r) = fresh.as_ref().filter(|r| usable(r)) {
                    inc(if waited {
                        &self.counters.waited
                    } else {
                        &self.counters.hits
                    });
                    let _ = self.unlock(&mut conn, &lock_key, &owner).await;
                    return Ok(Ok(r.clone()));
                }
                let latest = fresh.or(latest);
                return Ok(self
                    .fetch_holding_lock(conn, &token_key, &lock_key, &owner, latest, fetch)
                    .await);
            }
            let now = Instant::now();
            if now >= deadline {
                debug!(
                    "waited {:?} for another process's token fetch; fetching alone",
                    self.cfg.max_wait
                );
                return Err((Fail::WaitTimeout, fetch));
            }
            waited = true;
            tokio::time::sleep(self.cfg.poll_interval.min(deadline - now)).await;
            match self.read(&mut conn, &token_key).await {
                Ok(Some(r)) if usable(&r) => {
                    inc(&self.counters.waited);
                    return Ok(Ok(r));
                }
                Ok(other) => latest = other.or(latest),
                Err(f) => return Err((f, fetch)),
            }
        }
    }

    /// Run the fetch with the fleet's latest record, publish, release.
    async fn fetch_holding_lock<'a>(
        &'a self,
        mut conn: MultiplexedConnection,
        token_key: &str,
        lock_key: &str,
        owner: &str,
        latest: Option<Record>,
        fetch: FetchFn<'a>,
    ) -> Result<Record, Error> {
        inc(&self.counters.fetches_run);
        let outcome = fetch(latest).await;
        if let Ok(record) = &outcome {
            // Failures are counted and logged; the caller has its token.
            let _ = self.write(&mut conn, token_key, record).await;
        }
        let _ = self.unlock(&mut conn, lock_key, owner).await;
        outcome
    }

    async fn read(
        &self,
        conn: &mut MultiplexedConnection,
        token_key: &str,
    ) -> Result<Option<Record>, Fail> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(token_key);
        let value: Option<String> = self.run(conn, cmd).await?;
        Ok(value.and_then(|v| {
            let record = self.sealer.open(&v, token_key);
            if record.is_none() {
                inc(&self.counters.undecryptable);
                debug!("a stored token did not decrypt (unknown key id or tampered); ignoring it");
            }
            record
        }))
    }

    async fn write(
        &self,
        conn: &mut MultiplexedConnection,
        token_key: &str,
        record: &Record,
    ) -> Result<(), Fail> {
        let ttl_ms = record.expires_at_unix_ms - unix_ms(SystemTime::now());
        if ttl_ms <= 0 {
            return Ok(());
        }
        let Some(value) = self.sealer.seal(record, token_key) else {
            return Ok(());
        };
        let mut cmd = redis::cmd("SET");
        cmd.arg(token_key).arg(value).arg("PX").arg(ttl_ms.max(1));
        let _: redis::Value = self.run(conn, cmd).await?;
        Ok(())
    }

    async fn try_lock(
        &self,
        conn: &mut MultiplexedConnection,
        lock_key: &str,
        owner: &str,
    ) -> Result<bool, Fail> {
        let ttl_ms = self.cfg.lock_ttl.as_millis().clamp(1, u64::MAX as u128) as u64;
        let mut cmd = redis::cmd("SET");
        cmd.arg(lock_key).arg(owner).arg("NX").arg("PX").arg(ttl_ms);
        let set: Option<String> = self.run(conn, cmd).await?;
        Ok(set.is_some())
    }

    async fn unlock(
        &self,
        conn: &mut MultiplexedConnection,
        lock_key: &str,
        owner: &str,
    ) -> Result<(), Fail> {
        let mut invocation = self.release.key(lock_key);
        invocation.arg(owner);
        let result =
            tokio::time::timeout(self.cfg.op_timeout, invocation.invoke_async::<i64>(conn)).await;
        self.settle(result).map(|_| ())
    }

    /// One command, bounded by `op_timeout`.
    async fn run<T: redis::FromRedisValue>(
        &self,
        conn: &mut MultiplexedConnection,
        cmd: redis::Cmd,
    ) -> Result<T, Fail> {
        let result = tokio::time::timeout(self.cfg.op_timeout, cmd.query_async::<T>(conn)).await;
        self.settle(result)
    }

    fn settle<T>(
        &self,
        result: Result<redis::RedisResult<T>, tokio::time::error::Elapsed>,
    ) -> Result<T, Fail> {
        match result {
            Ok(Ok(v)) => {
                self.note_ok();
                Ok(v)
            }
            Ok(Err(e)) => Err(self.note_failure(&e)),
            Err(_) => Err(self.note_failure(&"timed out")),
        }
    }

    /// The live connection, or a new one (bounded by `op_timeout`).
    async fn connection(&self) -> Result<MultiplexedConnection, Fail> {
        if let Some(c) = lock(&self.conn).clone() {
            return Ok(c);
        }
        let attempt = async {
            let _one_at_a_time = self.connecting.lock().await;
            if let Some(c) = lock(&self.conn).clone() {
                return Ok(c);
            }
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(self.cfg.op_timeout))
                .set_response_timeout(Some(self.cfg.op_timeout));
            let conn = self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            *lock(&self.conn) = Some(conn.clone());
            Ok::<_, redis::RedisError>(conn)
        };
        let result = tokio::time::timeout(self.cfg.op_timeout, attempt).await;
        self.settle(result)
    }

    fn gate_open(&self) -> bool {
        if !self.down.load(Ordering::Acquire) {
            return true;
        }
        let gate = lock(&self.gate);
        gate.retry_at.is_none_or(|at| Instant::now() >= at)
    }

    fn note_ok(&self) {
        if !self.down.load(Ordering::Acquire) {
            return;
        }
        let mut gate = lock(&self.gate);
        if self.down.swap(false, Ordering::AcqRel) {
            gate.retry_at = None;
            gate.backoff = Duration::ZERO;
            info!("shared token store (Redis) is reachable again");
        }
    }

    fn note_failure(&self, error: &dyn fmt::Display) -> Fail {
        inc(&self.counters.redis_errors);
        // The next attempt reconnects.
        *lock(&self.conn) = None;
        let now = Instant::now();
        let mut gate = lock(&self.gate);
        if !self.down.swap(true, Ordering::AcqRel) {
            gate.backoff = self.cfg.min_backoff;
            gate.retry_at = Some(now + gate.backoff);
            warn!(
                error = %error,
                retry_in = ?gate.backoff,
                "shared token store (Redis) unavailable; fetching tokens directly until it is back"
            );
        } else if gate.retry_at.is_none_or(|at| now >= at) {
            // A probe after the pause failed: pause longer. (Commands that
            // were in flight when Redis went away do not count.)
            gate.backoff = (gate.backoff * 2)
                .max(self.cfg.min_backoff)
                .min(self.cfg.max_backoff.max(self.cfg.min_backoff));
            gate.retry_at = Some(now + gate.backoff);
            debug!(error = %error, retry_in = ?gate.backoff, "Redis still unavailable");
        }
        Fail::Redis
    }
}

impl TokenStore for RedisStore {
    /// HMAC-SHA256 of the principal (secret included) under a naming key
    /// derived from the store's primary encryption key: the same in every
    /// process configured alike, useless to anyone who reads Redis.
    fn key_for(&self, principal: &crate::Principal) -> String {
        let digest = principal.mac(&self.naming_key);
        let mut out = String::with_capacity(32);
        for b in &digest[..16] {
            out.push_str(&format!("{b:02x}"));
        }
        format!("{}:{out}", principal.provider())
    }

    fn get_or_fetch<'a>(
        &'a self,
        key: &'a str,
        usable: &'a (dyn Fn(&Record) -> bool + Send + Sync),
        fetch: FetchFn<'a>,
    ) -> BoxFuture<'a, Result<Record, Error>> {
        Box::pin(self.get_or_fetch_inner(key, usable, fetch))
    }
}

/// One store per configuration per process: every client built from the
/// environment shares its connection.
type Shared = Mutex<Option<(String, Arc<RedisStore>)>>;
static SHARED: LazyLock<Shared> = LazyLock::new(|| Mutex::new(None));

/// The store configured by the environment (`AUTH_RUNTIME_REDIS_URL`,
/// `AUTH_RUNTIME_REDIS_KEYS`, optional `AUTH_RUNTIME_REDIS_TIMEOUT_MS`),
/// if any. A URL without valid keys logs an error and returns `None`:
/// tokens are never stored in plaintext. Needs no runtime and no
/// reachable Redis (the connection is made on first use).
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
    let mut identity = vec![cfg.url.clone(), cfg.op_timeout.as_millis().to_string()];
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "auth-runtime:v1:token:{pledg:0123456789abcdef}";

    fn record() -> Record {
        Record {
            access_token: Secret::new("eyJhbGciOi.access-token-value.sig"),
            refresh_token: Some(Secret::new("refresh-token-value")),
            expires_at_unix_ms: 1_900_000_000_000,
            refresh_at_unix_ms: 1_899_999_000_000,
        }
    }

    fn sealer(keys: &[(&str, u8)]) -> Sealer {
        let keys: Vec<_> = keys
            .iter()
            .map(|(id, b)| (id.to_string(), [*b; 32]))
            .collect();
        Sealer::new(&keys).expect("valid keys")
    }

    #[test]
    fn round_trip() {
        let s = sealer(&[("k1", 1)]);
        let value = s.seal(&record(), KEY).expect("sealed");
        assert!(value.starts_with("v1:k1:"), "{value}");
        assert!(!value.contains("access-token-value"));
        assert!(!value.contains("refresh-token-value"));
        assert_eq!(s.open(&value, KEY), Some(record()));
        // Random nonce: two seals differ.
        assert_ne!(s.seal(&record(), KEY), Some(value));
    }

    #[test]
    fn no_refresh_token_round_trip() {
        let s = sealer(&[("k1", 1)]);
        let mut r = record();
        r.refresh_token = None;
        let value = s.seal(&r, KEY).expect("sealed");
        assert_eq!(s.open(&value, KEY), Some(r));
    }

    #[test]
    fn rotation_old_key_still_decrypts() {
        let old = sealer(&[("k0", 7)]);
        let value = old.seal(&record(), KEY).expect("sealed");
        let rotated = sealer(&[("k1", 9), ("k0", 7)]);
        assert_eq!(rotated.open(&value, KEY), Some(record()));
        // The current key encrypts.
        let new_value = rotated.seal(&record(), KEY).expect("sealed");
        assert!(new_value.starts_with("v1:k1:"));
        // Once the old key is dropped, its values are absent.
        let dropped = sealer(&[("k1", 9)]);
        assert_eq!(dropped.open(&value, KEY), None);
        assert_eq!(dropped.open(&new_value, KEY), Some(record()));
    }

    #[test]
    fn tampering_is_absence() {
        let s = sealer(&[("k1", 1)]);
        let value = s.seal(&record(), KEY).expect("sealed");
        let (head, b64) = value.rsplit_once(':').expect("layout");
        let mut blob = STANDARD.decode(b64).expect("base64");
        for i in [0, NONCE_LEN, blob.len() - 1] {
            let mut bad = blob.clone();
            bad[i] ^= 1;
            let tampered = format!("{head}:{}", STANDARD.encode(&bad));
            assert_eq!(s.open(&tampered, KEY), None, "byte {i}");
        }
        blob.truncate(NONCE_LEN + TAG_LEN - 1);
        assert_eq!(
            s.open(&format!("{head}:{}", STANDARD.encode(&blob)), KEY),
            None
        );
        // Another principal's key (associated data) does not open it.
        assert_eq!(s.open(&value, "auth-runtime:v1:token:{other}"), None);
        // Same key material under another id, an unknown id, a wrong key.
        assert_eq!(s.open(&value.replacen("v1:k1:", "v1:k2:", 1), KEY), None);
        assert_eq!(sealer(&[("k1", 2)]).open(&value, KEY), None);
        // Garbage and plaintext.
        for v in ["", "v1", "v1:k1", "v1:k1:!!!", "v2:k1:AAAA", "plain-token"] {
            assert_eq!(s.open(v, KEY), None, "{v}");
        }
    }

    #[test]
    fn debug_never_shows_keys_or_password() {
        let key = [0x5au8; 32];
        let b64 = STANDARD.encode(key);
        let cfg = RedisStoreConfig::new(
            "redis://user:hunter2@127.0.0.1:6379/0",
            vec![("current".into(), key), ("previous".into(), [0xa5; 32])],
        );
        let shown = format!("{cfg:?}");
        assert!(
            shown.contains("current") && shown.contains("previous"),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains(&b64), "{shown}");
        assert!(!shown.contains("90, 90"), "{shown}");
        let store = RedisStore::new(cfg).expect("store");
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains(&b64), "{shown}");
        assert!(!shown.contains("90, 90"), "{shown}");
    }

    #[test]
    fn keys_from_env() {
        let k1 = STANDARD.encode([1u8; 32]);
        let k0 = URL_SAFE_NO_PAD.encode([0u8; 32]);
        let keys = parse_keys(&format!("k1:{k1}, k0:{k0}")).expect("keys");
        assert_eq!(
            keys,
            vec![("k1".into(), [1u8; 32]), ("k0".into(), [0u8; 32])]
        );
        for bad in [
            "".to_string(),
            "k1".to_string(),
            format!(":{k1}"),
            "k1:c2hvcnQ=".to_string(),
            format!("k:1:{k1}"),
            format!("k1:{k1},k1:{k0}"),
        ] {
            let err = parse_keys(&bad).expect_err(&bad);
            assert!(!err.to_string().contains(&k1), "{err}");
        }
    }

    #[test]
    fn config_from_env() {
        let k1 = STANDARD.encode([1u8; 32]);
        let env = |pairs: Vec<(&'static str, String)>| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        };
        assert!(
            RedisStoreConfig::from_env_with(&env(vec![]))
                .expect("no url")
                .is_none()
        );
        let url_only = env(vec![(ENV_URL, "redis://127.0.0.1:1".into())]);
        assert!(RedisStoreConfig::from_env_with(&url_only).is_err());
        // No store, never a plaintext one.
        assert!(from_env_with(&url_only).is_none());
        let bad_keys = env(vec![
            (ENV_URL, "redis://127.0.0.1:1".into()),
            (ENV_KEYS, "k1:not-base64".into()),
        ]);
        assert!(from_env_with(&bad_keys).is_none());
        let full = env(vec![
            (ENV_URL, "redis://127.0.0.1:1".into()),
            (ENV_KEYS, format!("k1:{k1}")),
            (ENV_TIMEOUT_MS, "40".into()),
        ]);
        let cfg = RedisStoreConfig::from_env_with(&full)
            .expect("valid")
            .expect("configured");
        assert_eq!(cfg.op_timeout, Duration::from_millis(40));
        // No runtime and no Redis needed to build it; one store per config.
        let a = from_env_with(&full).expect("store");
        let b = from_env_with(&full).expect("store");
        assert!(Arc::ptr_eq(&a, &b));
    }

    #[test]
    fn keys_share_a_hash_tag() {
        let store = RedisStore::new(RedisStoreConfig::new(
            "redis://127.0.0.1:1",
            vec![("k".into(), [3; 32])],
        ))
        .expect("store");
        let tag = |k: &str| {
            let start = k.find('{').expect("{") + 1;
            let end = start + k[start..].find('}').expect("}");
            k[start..end].to_string()
        };
        let p = "pledg:0123456789abcdef";
        assert_eq!(
            store.token_key(p),
            "auth-runtime:v1:token:{pledg:0123456789abcdef}"
        );
        assert_eq!(tag(&store.token_key(p)), tag(&store.lock_key(p)));
    }

    #[tokio::test]
    async fn redis_down_is_a_direct_fetch() {
        // Nothing listens on port 1.
        let mut cfg = RedisStoreConfig::new("redis://127.0.0.1:1", vec![("k".into(), [3; 32])]);
        cfg.op_timeout = Duration::from_millis(100);
        cfg.min_backoff = Duration::from_secs(60);
        let store = RedisStore::new(cfg).expect("store");
        let usable = |_: &Record| true;
        for _ in 0..3 {
            let started = Instant::now();
            let fetch: FetchFn<'_> = Box::new(|stored| {
                Box::pin(async move {
                    assert!(stored.is_none());
                    Ok(record())
                })
            });
            let got = store
                .get_or_fetch("p", &usable, fetch)
                .await
                .expect("fetched");
            assert_eq!(got, record());
            assert!(started.elapsed() < Duration::from_secs(1));
        }
        let stats = store.stats();
        assert_eq!(stats.fallbacks, 3, "{stats:?}");
        // One failed attempt, then the backoff gate skips Redis.
        assert_eq!(stats.redis_errors, 1, "{stats:?}");
        assert!(store.ping().await.is_err());
    }
}
