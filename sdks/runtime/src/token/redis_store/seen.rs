//! Seen-keys of inbound callbacks in Redis, so that a fleet refuses a
//! replay whichever process it reaches (`provider::replay`): one
//! `SET <key> 1 NX PX <ttl>` per callback, whose answer says whether this
//! process was the first to see it.
//!
//! Keys: `<prefix>:seen:<namespace>:<mac>`, `<mac>` the HMAC-SHA256 (first
//! 16 bytes, hex) of the callback's id under the naming key — the id holds
//! a signature or a checksum, which Redis need not see. The ACL user of the
//! module docs suffices (`SET` on `auth-runtime:v1:*`).

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::RedisStore;
use super::config::NAME;
use super::connection::Conn;
use crate::base::error::{Error, ErrorKind};

impl RedisStore {
    /// The Redis key under which `id` of `namespace` (`"exirom"`,
    /// `"pledg"`) is remembered.
    pub fn seen_key(&self, namespace: &str, id: &str) -> String {
        // HMAC takes keys of any length: `new_from_slice` cannot fail here.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.naming_key)
            .map(|mut mac| {
                mac.update(namespace.as_bytes());
                mac.update(&[0]);
                mac.update(id.as_bytes());
                mac.finalize().into_bytes()
            })
            .unwrap_or_default();
        let mut hex = String::with_capacity(32);
        for b in &mac[..16] {
            hex.push_str(&format!("{b:02x}"));
        }
        format!("{}:seen:{namespace}:{hex}", self.cfg.prefix)
    }

    /// Records `id` of `namespace` as seen for `ttl`, unless it already
    /// is: `Ok(true)` when this call recorded it (the first in the fleet to
    /// see it), `Ok(false)` when it was seen before.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Transient`]: Redis down, slow past the operation
    /// timeout, or the outage gate closed. Never a yes: the caller decides.
    pub async fn mark_seen(&self, namespace: &str, id: &str, ttl: Duration) -> Result<bool, Error> {
        let down = || {
            Error::new(
                ErrorKind::Transient,
                NAME,
                "Redis is unavailable: the callback's replay check could not run",
            )
        };
        if !self.link.gate_open() {
            return Err(down());
        }
        let mut conn: Conn = self
            .link
            .connection(&self.counters)
            .await
            .map_err(|_| down())?;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.seen_key(namespace, id))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms);
        // `OK` when set, nil when the key was there.
        let answer: Option<String> = self
            .link
            .run(&self.counters, &mut conn, &cmd)
            .await
            .map_err(|_| down())?;
        Ok(answer.is_some())
    }
}
