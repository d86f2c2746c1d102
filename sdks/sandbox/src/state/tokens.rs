//! Token bookkeeping shared by every provider: revocations, per-provider epochs
//! (`revoke_all`), refresh tokens still usable, and opaque tokens (whose claims stay here).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::jwt::{self, Issued, TokenError, TokenMode, Verified};
use crate::provider::Provider;
use crate::sync::{lock, read, write};

/// Past this many remembered tokens of one kind, expired ones are dropped first.
const PRUNE_AT: usize = 100_000;

#[derive(Debug)]
struct Opaque {
    provider: Provider,
    typ: String,
    exp: Option<i64>,
    epoch: u64,
    claims: Map<String, Value>,
}

#[derive(Debug)]
pub(crate) struct TokenBook {
    /// Revoked token ids (`jti`) and revoked raw strings (API keys, opaque tokens).
    revoked: RwLock<HashSet<String>>,
    /// Per-provider epoch (by index): `revoke_all` bumps it, older tokens are refused.
    epochs: Vec<AtomicU64>,
    /// Rotating refresh tokens still usable: jti → exp (a refresh removes its token).
    live_refresh: Mutex<HashMap<String, i64>>,
    /// Opaque tokens: the string → what a JWT would carry in its claims.
    opaque: Mutex<HashMap<String, Opaque>>,
}

impl TokenBook {
    pub(crate) fn new() -> Self {
        TokenBook {
            revoked: RwLock::new(HashSet::new()),
            epochs: Provider::all().map(|_| AtomicU64::new(0)).collect(),
            live_refresh: Mutex::new(HashMap::new()),
            opaque: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn epoch(&self, p: Provider) -> u64 {
        self.epochs
            .get(p.index())
            .map_or(0, |e| e.load(Ordering::Relaxed))
    }

    pub(crate) fn revoke_all(&self, p: Provider) {
        if let Some(e) = self.epochs.get(p.index()) {
            e.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn is_revoked(&self, s: &str) -> bool {
        read(&self.revoked).contains(s)
    }

    /// Revokes a token (by its `jti`, JWT or opaque) or any other string (API keys).
    pub(crate) fn revoke(&self, token: &str) {
        let token = token.trim();
        let jti = jwt::peek_claims(token)
            .as_ref()
            .and_then(|c| c.get("jti"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                lock(&self.opaque)
                    .get(token)
                    .and_then(|o| o.claims.get("jti"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        let mut set = write(&self.revoked);
        if let Some(jti) = jti {
            lock(&self.live_refresh).remove(&jti);
            set.insert(jti);
        }
        set.insert(token.to_owned());
    }

    /// After a check of signature/lookup and expiry: refused if revoked or of an older epoch.
    pub(crate) fn check_live(
        &self,
        p: Provider,
        v: &Verified,
        token: &str,
    ) -> Result<(), TokenError> {
        if v.epoch != self.epoch(p) || self.is_revoked(&v.jti) || self.is_revoked(token.trim()) {
            return Err(TokenError::Revoked);
        }
        Ok(())
    }

    pub(crate) fn remember_refresh(&self, jti: &str, exp: i64, now: i64) {
        let mut m = lock(&self.live_refresh);
        if m.len() > PRUNE_AT {
            m.retain(|_, e| *e > now);
        }
        m.insert(jti.to_owned(), exp);
    }

    /// Consumes a rotating refresh token: true if it was live (it is not any more).
    pub(crate) fn consume_refresh(&self, jti: &str) -> bool {
        lock(&self.live_refresh).remove(jti).is_some()
    }

    /// Issues an opaque token: 32 random bytes, its claims kept here.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn issue_opaque(
        &self,
        p: Provider,
        typ: &str,
        sub: &str,
        lifetime: Duration,
        mode: TokenMode,
        now_secs: i64,
        mut claims: Map<String, Value>,
    ) -> Issued {
        let (iat, exp) = jwt::validity(mode, lifetime, now_secs);
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let jti = jwt::random_id();
        claims.insert("sub".into(), json!(sub));
        claims.insert("jti".into(), json!(jti));
        claims.insert("iat".into(), json!(iat));
        let mut m = lock(&self.opaque);
        if m.len() > PRUNE_AT {
            m.retain(|_, o| o.exp.is_none_or(|e| e > now_secs));
        }
        m.insert(
            token.clone(),
            Opaque {
                provider: p,
                typ: typ.to_owned(),
                exp: (mode != TokenMode::WithoutExp).then_some(exp),
                epoch: self.epoch(p),
                claims,
            },
        );
        Issued {
            token,
            jti,
            nominal_exp: exp,
        }
    }

    /// Looks an opaque token up: provider, type and expiry (not revocation).
    pub(crate) fn verify_opaque(
        &self,
        p: Provider,
        token: &str,
        typ: &str,
        now_secs: i64,
    ) -> Result<Verified, TokenError> {
        let token = jwt::presented(token)?;
        let m = lock(&self.opaque);
        let o = m.get(token).ok_or(TokenError::Invalid("unknown token"))?;
        jwt::issued_for(o.provider == p, o.typ == typ)?;
        jwt::unexpired(o.exp, now_secs)?;
        Ok(Verified {
            jti: o
                .claims
                .get("jti")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            claims: o.claims.clone(),
            exp: o.exp,
            epoch: o.epoch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Provider {
        Provider::all().next().expect("a provider")
    }

    #[test]
    fn opaque_tokens_expire_and_are_revoked_like_jwts() {
        let book = TokenBook::new();
        let t = book.issue_opaque(
            p(),
            "access",
            "someone",
            Duration::from_secs(60),
            TokenMode::Normal,
            1_000,
            Map::new(),
        );
        assert!(jwt::peek_claims(&t.token).is_none(), "not a JWT");
        let v = book
            .verify_opaque(p(), &t.token, "access", 1_059)
            .expect("live");
        assert_eq!((v.sub(), v.exp), ("someone", Some(1_060)));
        book.check_live(p(), &v, &t.token).expect("not revoked");
        assert_eq!(
            book.verify_opaque(p(), &t.token, "access", 1_060),
            Err(TokenError::Expired { exp: 1_060 })
        );
        assert!(book.verify_opaque(p(), &t.token, "refresh", 1_001).is_err());
        assert!(book.verify_opaque(p(), "made-up", "access", 1_001).is_err());
        book.revoke(&t.token);
        assert_eq!(book.check_live(p(), &v, &t.token), Err(TokenError::Revoked));
        // `revoke_all` ends every token issued before it.
        let t2 = book.issue_opaque(
            p(),
            "access",
            "x",
            Duration::from_secs(60),
            TokenMode::Normal,
            1_000,
            Map::new(),
        );
        let v2 = book.verify_opaque(p(), &t2.token, "access", 1_001).unwrap();
        book.revoke_all(p());
        assert_eq!(
            book.check_live(p(), &v2, &t2.token),
            Err(TokenError::Revoked)
        );
    }

    #[test]
    fn an_opaque_token_can_lack_an_expiry_or_be_born_expired() {
        let book = TokenBook::new();
        let lifetime = Duration::from_secs(60);
        let t = book.issue_opaque(
            p(),
            "access",
            "x",
            lifetime,
            TokenMode::WithoutExp,
            1_000,
            Map::new(),
        );
        assert_eq!(
            book.verify_opaque(p(), &t.token, "access", 9_999_999)
                .unwrap()
                .exp,
            None
        );
        let t = book.issue_opaque(
            p(),
            "access",
            "x",
            lifetime,
            TokenMode::Expired,
            1_000,
            Map::new(),
        );
        assert!(matches!(
            book.verify_opaque(p(), &t.token, "access", 1_000),
            Err(TokenError::Expired { .. })
        ));
    }
}
