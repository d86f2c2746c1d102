//! Encryption at rest and key naming: no I/O.
//!
//! A value is `v1:<key id>:<base64(nonce || AES-256-GCM ciphertext)>`, with
//! a random 96-bit nonce and the Redis key as associated data (a value
//! copied under another principal's key does not decrypt).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::config::{NAME, check_keys};
use crate::base::error::Error;
use crate::base::secret::Secret;
use crate::token::store::Record;

pub(super) const VALUE_VERSION: &str = "v1";
pub(super) const NONCE_LEN: usize = 12;
pub(super) const TAG_LEN: usize = 16;

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
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    refresh_token_expires_at_unix_ms: Option<i64>,
}

/// What a stored value turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Opened {
    Record(Record),
    /// Not ours to read: unknown key id, another key under a known id,
    /// tampering, garbage. Never overwritten while it lives.
    Undecryptable,
}

/// Seals and opens values.
pub(super) struct Sealer {
    /// `(key id, cipher)`; the first one encrypts.
    ciphers: Vec<(String, Aes256Gcm)>,
}

impl Sealer {
    pub(super) fn new(keys: &[(String, [u8; 32])]) -> Result<Self, Error> {
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

    /// `v1:<id>:` for every key this sealer reads: a stored value with
    /// another prefix is someone else's and is left alone.
    pub(super) fn known_prefixes(&self) -> Vec<String> {
        self.ciphers
            .iter()
            .map(|(id, _)| format!("{VALUE_VERSION}:{id}:"))
            .collect()
    }

    /// `v1:<key id>:<base64(nonce || ciphertext)>`, bound to `aad`.
    pub(super) fn seal(&self, record: &Record, aad: &str) -> Option<String> {
        let (id, cipher) = self.ciphers.first()?;
        let plain = serde_json::to_vec(&Stored {
            access_token: record.access_token.expose().to_string(),
            refresh_token: record
                .refresh_token
                .as_ref()
                .map(|s| s.expose().to_string()),
            expires_at_unix_ms: record.expires_at_unix_ms,
            refresh_at_unix_ms: record.refresh_at_unix_ms,
            refresh_token_expires_at_unix_ms: record.refresh_token_expires_at_unix_ms,
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

    /// The record in `value`, if it is ours to read.
    pub(super) fn open(&self, value: &str, aad: &str) -> Opened {
        match self.try_open(value, aad) {
            Some(r) => Opened::Record(r),
            None => Opened::Undecryptable,
        }
    }

    fn try_open(&self, value: &str, aad: &str) -> Option<Record> {
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
            refresh_token_expires_at_unix_ms: stored.refresh_token_expires_at_unix_ms,
        })
    }
}

/// The key that names Redis keys: the configured naming secret, or one
/// derived from the primary encryption key (the default, compatible with
/// earlier versions; it moves when a rotation promotes a new key).
pub(super) fn naming_key(explicit: Option<&[u8; 32]>, primary: &[u8; 32]) -> [u8; 32] {
    let (key, label): (&[u8], &[u8]) = match explicit {
        Some(k) => (k, b"auth-runtime redis key naming v1 (explicit)"),
        None => (primary, b"auth-runtime redis key naming v1"),
    };
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}
