//! Who a token belongs to: the identity of a token cache.
//!
//! A cache is keyed by everything that changes what the provider answers —
//! provider, base URL, the credential's public parts (email, merchant id,
//! region, storefront customer) — **and the secret**. A client holding the
//! right email but the wrong password never reaches the cache of the one
//! holding the right one: the key is a keyed hash (HMAC-SHA256) of all of
//! it, with a per-process random key in memory and a key derived from the
//! store's own secret in a shared store. A plain hash of a password is
//! never computed, stored or compared.

use std::fmt;
use std::sync::LazyLock;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::base::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// The canonical identity of a principal. `Debug` shows the provider and
/// base URL only.
#[derive(Clone)]
pub struct Principal {
    provider: &'static str,
    base_url: String,
    /// `(name, value)` pairs, in the order the provider crate adds them.
    public: Vec<(&'static str, String)>,
    secret: Vec<(&'static str, Secret)>,
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Principal {
    /// The identity of `provider`'s credentials at `base_url`, with no
    /// part yet: add every credential field that changes what the provider
    /// answers ([`part`](Principal::part), [`secret`](Principal::secret)).
    pub fn new(provider: &'static str, base_url: impl Into<String>) -> Self {
        Principal {
            provider,
            base_url: base_url.into(),
            public: Vec::new(),
            secret: Vec::new(),
        }
    }

    /// A public part of the identity (an email, a merchant id, a region).
    pub fn part(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.public.push((name, value.into()));
        self
    }

    /// A public part that may be absent (absent and empty differ).
    pub fn optional_part(self, name: &'static str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.part(name, format!("some:{v}")),
            None => self.part(name, "none"),
        }
    }

    /// A secret part: a client with a different secret gets its own cache.
    pub fn secret(mut self, name: &'static str, value: &Secret) -> Self {
        self.secret.push((name, value.clone()));
        self
    }

    /// The provider's name.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The base URL the credentials are for.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// HMAC-SHA256 of the canonical encoding under `key`. Every field is
    /// length-prefixed, so no two identities encode alike.
    pub fn mac(&self, key: &[u8]) -> [u8; 32] {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
        let mut field = |tag: u8, name: &str, value: &[u8]| {
            mac.update(&[tag]);
            mac.update(&(name.len() as u64).to_be_bytes());
            mac.update(name.as_bytes());
            mac.update(&(value.len() as u64).to_be_bytes());
            mac.update(value);
        };
        field(b'v', "auth-runtime/principal/v1", b"");
        field(b'p', "provider", self.provider.as_bytes());
        field(b'u', "base_url", self.base_url.as_bytes());
        for (name, value) in &self.public {
            field(b'i', name, value.as_bytes());
        }
        for (name, value) in &self.secret {
            field(b's', name, value.expose().as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    /// The in-process cache key: [`Principal::mac`] under a random key
    /// drawn once per process (never persisted, never printed).
    pub fn process_key(&self) -> [u8; 32] {
        static PROCESS_KEY: LazyLock<[u8; 32]> = LazyLock::new(rand::random);
        self.mac(PROCESS_KEY.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(email: &str, password: &str) -> Principal {
        Principal::new("bursagb", "https://x.example")
            .part("email", email)
            .secret("password", &Secret::new(password))
    }

    #[test]
    fn the_secret_is_part_of_the_identity() {
        assert_eq!(p("a", "pw").process_key(), p("a", "pw").process_key());
        assert_ne!(p("a", "pw").process_key(), p("a", "wrong").process_key());
        assert_ne!(p("a", "pw").process_key(), p("b", "pw").process_key());
    }

    #[test]
    fn fields_do_not_run_together() {
        let a = Principal::new("x", "u").part("a", "bc").part("d", "");
        let b = Principal::new("x", "u").part("a", "b").part("d", "c");
        assert_ne!(a.mac(b"k"), b.mac(b"k"));
        let some_empty = Principal::new("x", "u").optional_part("r", Some(""));
        let none = Principal::new("x", "u").optional_part("r", None);
        assert_ne!(some_empty.mac(b"k"), none.mac(b"k"));
    }

    #[test]
    fn keys_differ_by_mac_key_and_debug_hides_parts() {
        let x = p("alice@example.com", "hunter2");
        assert_ne!(x.mac(b"k1"), x.mac(b"k2"));
        let dbg = format!("{x:?}");
        assert!(!dbg.contains("hunter2") && !dbg.contains("alice"), "{dbg}");
    }
}
