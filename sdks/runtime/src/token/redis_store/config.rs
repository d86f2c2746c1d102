//! What the store is configured with: code ([`RedisStoreConfig`]) or the
//! environment (`AUTH_RUNTIME_REDIS_*`). Errors and `Debug` never show key
//! material or a password.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use crate::base::error::Error;

/// Names errors of this module (configuration, connection checks).
pub(super) const NAME: &str = "payauth-runtime";

/// Redis URL (`redis://`, `rediss://`, `valkey://`, `valkeys://`,
/// `unix://`). Setting it switches the shared store on. Several URLs
/// separated by commas are the seed nodes of a Redis Cluster.
pub const ENV_URL: &str = "AUTH_RUNTIME_REDIS_URL";
/// Encryption keys, `id1:base64key1,id0:base64key0`: 32 bytes each, the
/// first one encrypts, all of them decrypt.
pub const ENV_KEYS: &str = "AUTH_RUNTIME_REDIS_KEYS";
/// Optional: per-command timeout in milliseconds (default 250).
pub const ENV_TIMEOUT_MS: &str = "AUTH_RUNTIME_REDIS_TIMEOUT_MS";
/// Optional: `true`/`1` to speak the Cluster protocol to a single seed URL
/// (a configuration or discovery endpoint). Several URLs imply it.
pub const ENV_CLUSTER: &str = "AUTH_RUNTIME_REDIS_CLUSTER";
/// Optional: a PEM file of the CA that signed the server's certificate
/// (`rediss://`). Without it the system's roots are used (`SSL_CERT_FILE`
/// is honoured).
pub const ENV_CA_FILE: &str = "AUTH_RUNTIME_REDIS_CA_FILE";
/// Optional: 32 bytes of base64, the secret that names the keys in Redis.
/// Keep it fixed across encryption-key rotations (see the module docs).
pub const ENV_NAMING_KEY: &str = "AUTH_RUNTIME_REDIS_NAMING_KEY";

/// Default prefix of every key the store writes.
pub const DEFAULT_PREFIX: &str = "auth-runtime:v1";
/// Default timeout of one Redis command (connecting included).
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_millis(250);
/// Default lease of the fleet lock. Its owner extends it every third of
/// the lease while it fetches, so a slow fetch keeps it; a dead owner's
/// lock frees itself after this long.
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(10);
/// Default bound on waiting for another process's fetch.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(5);
/// Default interval between two looks at the token while waiting.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(25);
/// Default first pause after Redis failed.
pub const DEFAULT_MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Default longest pause between two attempts while Redis stays down.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Configuration of a [`RedisStore`](super::RedisStore). `Debug` shows key
/// ids, never keys, and hides passwords in the URLs.
#[derive(Clone)]
pub struct RedisStoreConfig {
    /// `redis://[user:password@]host[:port][/db]`, `rediss://…` for TLS;
    /// several, comma-separated, are the seeds of a cluster.
    pub url: String,
    /// Speak the Cluster protocol (set by [`RedisStoreConfig::new`] when
    /// `url` lists several seeds).
    pub cluster: bool,
    /// `(key id, AES-256 key)`; the first encrypts, all decrypt.
    pub keys: Vec<(String, [u8; 32])>,
    /// The secret that names Redis keys. `None`: derived from the *first*
    /// key, which changes when a rotation promotes a new key — set one to
    /// share records across processes in different rotation phases.
    pub naming_key: Option<[u8; 32]>,
    /// PEM file of a private CA for `rediss://` (else the system roots).
    pub ca_file: Option<PathBuf>,
    /// Timeout of each Redis command (and of connecting).
    pub op_timeout: Duration,
    /// Lease of the fleet lock (extended while its owner fetches).
    pub lock_ttl: Duration,
    /// How long a process waits for another one's fetch.
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
    /// A configuration with the default timings. Several comma-separated
    /// URLs select cluster mode.
    pub fn new(url: impl Into<String>, keys: Vec<(String, [u8; 32])>) -> Self {
        let url = url.into();
        RedisStoreConfig {
            cluster: url.contains(','),
            url,
            keys,
            naming_key: None,
            ca_file: None,
            op_timeout: DEFAULT_OP_TIMEOUT,
            lock_ttl: DEFAULT_LOCK_TTL,
            max_wait: DEFAULT_MAX_WAIT,
            poll_interval: DEFAULT_POLL_INTERVAL,
            min_backoff: DEFAULT_MIN_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            prefix: DEFAULT_PREFIX.to_string(),
        }
    }

    /// The URLs, one per seed.
    pub fn urls(&self) -> Vec<String> {
        self.url
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// From `AUTH_RUNTIME_REDIS_URL`, `AUTH_RUNTIME_REDIS_KEYS` and the
    /// optional `AUTH_RUNTIME_REDIS_TIMEOUT_MS`, `…_CLUSTER`, `…_CA_FILE`,
    /// `…_NAMING_KEY`. `Ok(None)`: no URL, the store is off. An error when
    /// the URL is set but the keys are missing or invalid: tokens are never
    /// stored in plaintext.
    ///
    /// # Errors
    ///
    /// `Config`: the URL set without keys, keys or a naming key that do
    /// not parse, a timeout that is not a number, a cluster flag that is
    /// not a boolean.
    pub fn from_env() -> Result<Option<Self>, Error> {
        Self::from_env_with(&|k| std::env::var(k).ok())
    }

    /// [`RedisStoreConfig::from_env`] reading from `get`.
    ///
    /// # Errors
    ///
    /// As [`RedisStoreConfig::from_env`].
    pub fn from_env_with(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
        let set = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let Some(url) = set(ENV_URL) else {
            return Ok(None);
        };
        let keys = match set(ENV_KEYS) {
            Some(k) => parse_keys(&k)?,
            None => {
                return Err(Error::config(
                    NAME,
                    format!("{ENV_URL} is set but {ENV_KEYS} is not"),
                ));
            }
        };
        let mut cfg = RedisStoreConfig::new(url, keys);
        if let Some(ms) = set(ENV_TIMEOUT_MS) {
            let ms: u64 = ms.parse().map_err(|_| {
                Error::config(
                    NAME,
                    format!("{ENV_TIMEOUT_MS} is not a number of milliseconds"),
                )
            })?;
            cfg.op_timeout = Duration::from_millis(ms.max(1));
        }
        if let Some(flag) = set(ENV_CLUSTER) {
            cfg.cluster |= match flag.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(Error::config(
                        NAME,
                        format!("{ENV_CLUSTER} must be true or false"),
                    ));
                }
            };
        }
        cfg.ca_file = set(ENV_CA_FILE).map(PathBuf::from);
        if let Some(k) = set(ENV_NAMING_KEY) {
            cfg.naming_key = Some(decode_key(&k).ok_or_else(|| {
                Error::config(NAME, format!("{ENV_NAMING_KEY} is not 32 bytes of base64"))
            })?);
        }
        Ok(Some(cfg))
    }
}

impl fmt::Debug for RedisStoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreConfig")
            .field(
                "url",
                &self
                    .urls()
                    .iter()
                    .map(|u| redact_url(u))
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .field("cluster", &self.cluster)
            .field(
                "keys",
                &self
                    .keys
                    .iter()
                    .map(|(id, _)| id.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("naming_key", &self.naming_key.map(|_| "[set]"))
            .field("ca_file", &self.ca_file)
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

fn decode_key(b64: &str) -> Option<[u8; 32]> {
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(b64.trim()).ok())
        .and_then(|bytes| bytes.try_into().ok())
}

/// Parse `id1:base64key1,id0:base64key0` (32-byte keys, standard or
/// URL-safe base64).
///
/// # Errors
///
/// `Config` for an entry that is not `id:key`, a key that is not base64
/// of 32 bytes, no key at all, an id that is not 1 to 64 of `A-Z a-z 0-9
/// - _ .`, or two entries with one id. Errors never contain key material.
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
        let key = decode_key(b64).ok_or_else(|| {
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

pub(super) fn check_keys(keys: &[(String, [u8; 32])]) -> Result<(), Error> {
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
pub(super) fn redact_url(url: &str) -> String {
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
