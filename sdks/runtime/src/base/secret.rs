//! Secret values: credentials and tokens. They never print.

use std::fmt;
use std::sync::Arc;

/// A credential or token. `Debug` prints `Secret([redacted])`, there is no
/// `Display`, and the value is only reachable through [`Secret::expose`].
///
/// ```
/// let s = payauth_runtime::Secret::new("hunter2");
/// assert_eq!(format!("{s:?}"), "Secret([redacted])");
/// assert_eq!(s.expose(), "hunter2");
/// ```
///
/// The value is zeroed in memory when the last clone is dropped (the
/// `zeroize` crate): a `String` handed to [`Secret::new`] is kept as it is
/// (no copy left behind), and wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<Wiped>);

/// A string wiped when dropped.
#[derive(PartialEq, Eq)]
struct Wiped(String);

impl Wiped {
    fn wipe(&mut self) {
        use zeroize::Zeroize;
        self.0.zeroize();
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl Secret {
    /// Keeps `value` (a `String` is moved in, not copied) until the last
    /// clone drops, then wipes it.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::new(Wiped(value.into())))
    }

    /// The raw value. Call it only where the value leaves for the wire.
    pub fn expose(&self) -> &str {
        &self.0.0
    }

    /// Whether the value is the empty string (an unset credential: the
    /// runtime never sends one).
    pub fn is_empty(&self) -> bool {
        self.0.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

/// A stable, non-reversible fingerprint of a credential identity, for cache
/// keys: `sha256(parts joined by NUL)`, hex, first 32 characters.
pub fn fingerprint(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update([0u8]);
        }
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(32);
    for b in digest.iter().take(16) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wipe (what `Drop` runs) is `zeroize`'s: the bytes zeroed in
    /// place — the buffer kept, not reallocated — then the length 0.
    /// (Reading the zeroed spare capacity would take `unsafe`, which the
    /// workspace forbids; `zeroize` tests that part.)
    #[test]
    fn a_secret_is_wiped_in_place() {
        let mut w = Wiped(String::from("hunter2pw"));
        let (ptr, cap) = (w.0.as_ptr(), w.0.capacity());
        w.wipe();
        assert!(w.0.is_empty());
        assert_eq!((w.0.as_ptr(), w.0.capacity()), (ptr, cap), "wiped in place");
        let s = Secret::new(String::from("hunter2pw"));
        assert_eq!(s.expose(), "hunter2pw");
        assert!(!s.is_empty() && Secret::new("").is_empty());
    }
}
