//! Request signing and inbound-callback verification, for the providers
//! that sign: pledg (an HS256 JWT over `{"data": …}`, outbound as the
//! `signature` query parameter, inbound as `{"signature": <jwt>}`) and
//! exirom (Base64 HMAC-SHA256 checksums, outbound in the APM body,
//! inbound in the `X-Checksum` header).
//!
//! Built on `jsonwebtoken` (JWTs) and `hmac` + `sha2` (HMAC); every
//! comparison of a MAC is constant-time (`Mac::verify_slice`, and
//! `jsonwebtoken` compares signatures through the same primitive).
//! Errors never carry a secret, a signature or a body.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::base::error::{Error, ErrorKind};
use crate::base::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// Largest callback body accepted for verification (bigger ones are
/// refused before any parsing).
pub const MAX_CALLBACK_BYTES: usize = 64 * 1024;

/// An HS256 JWT with claims `{<claim>: <body>, iat, exp}` over a JSON body
/// (pledg's request signature). `body` must be a JSON document.
///
/// # Errors
///
/// `Signing`: an empty secret, a body that is not JSON, a clock before
/// 1970, or a JWT that cannot be encoded.
pub fn sign_body_jwt(
    provider: &'static str,
    secret: &Secret,
    claim: &str,
    lifetime: Duration,
    body: &[u8],
    now: SystemTime,
) -> Result<String, Error> {
    if secret.is_empty() {
        return Err(signing(provider, "the signing secret is empty"));
    }
    let data: Value = serde_json::from_slice(body)
        .map_err(|_| signing(provider, "the request body to sign is not JSON"))?;
    let iat = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| signing(provider, "the clock is before 1970"))?
        .as_secs();
    let mut claims = Map::new();
    claims.insert(claim.to_owned(), data);
    claims.insert("iat".into(), iat.into());
    claims.insert("exp".into(), iat.saturating_add(lifetime.as_secs()).into());
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &Value::Object(claims),
        &EncodingKey::from_secret(secret.expose().as_bytes()),
    )
    .map_err(|_| signing(provider, "the request could not be signed"))
}

/// Base64(HMAC-SHA256(secret, `parts` joined by `|`)) — exirom's checksum.
pub fn hmac_checksum(secret: &Secret, parts: &[&str]) -> String {
    let mut mac = mac(secret);
    mac.update(parts.join("|").as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The JSON object `body` with `checksum.field` set to the HMAC checksum
/// of its `checksum.parts` (a string as written, a number as its JSON
/// text).
///
/// # Errors
///
/// [`ErrorKind::Signing`]: an empty secret, a body that is not a JSON
/// object, or one that lacks a part (or holds one that is neither a
/// string nor a number).
pub fn checksum_into_body(
    provider: &'static str,
    secret: &Secret,
    checksum: &crate::base::security::BodyChecksum,
    body: &[u8],
) -> Result<Vec<u8>, Error> {
    if secret.is_empty() {
        return Err(signing(provider, "the checksum secret is empty"));
    }
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(body) else {
        return Err(signing(
            provider,
            "the request body to checksum is not a JSON object",
        ));
    };
    let mut parts = Vec::with_capacity(checksum.parts.len());
    for name in checksum.parts {
        match object.get(*name) {
            Some(Value::String(s)) => parts.push(s.clone()),
            Some(Value::Number(n)) => parts.push(n.to_string()),
            _ => {
                return Err(signing(
                    provider,
                    &format!("the body has no `{name}` to checksum"),
                ));
            }
        }
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    object.insert(
        checksum.field.to_owned(),
        Value::String(hmac_checksum(secret, &refs)),
    );
    serde_json::to_vec(&Value::Object(object))
        .map_err(|_| signing(provider, "the checksummed body could not be written"))
}

fn mac(secret: &Secret) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    match HmacSha256::new_from_slice(secret.expose().as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    }
}

#[cold]
fn unreachable_hmac() -> HmacSha256 {
    // Never reached: HMAC accepts every key length. A fixed key keeps the
    // function total without a panic path.
    <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default())
}

/// Whether `checksum` (Base64) is the HMAC-SHA256 of `message` under
/// `secret`, compared in constant time.
pub fn verify_hmac_checksum(secret: &Secret, message: &[u8], checksum: &str) -> bool {
    let Ok(raw) = STANDARD.decode(checksum.trim().as_bytes()) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(message);
    mac.verify_slice(&raw).is_ok()
}

/// Why an inbound callback was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// No signature (header or field) at all.
    #[error("the callback is not signed")]
    Unsigned,
    /// The signature does not verify: tampered, or signed with another key.
    #[error("the callback signature does not verify")]
    BadSignature,
    /// The signed token has expired (`exp` in the past).
    #[error("the callback signature has expired")]
    Expired,
    /// The callback is older than the accepted window, or its id was seen
    /// before (a replay).
    #[error("the callback was replayed or is too old")]
    Replayed,
    /// The body is not the provider's documented shape (or too large).
    #[error("the callback body is malformed")]
    Malformed,
    /// No secret is configured to verify callbacks with.
    #[error("no secret configured to verify callbacks")]
    NoSecret,
    /// The shared store of seen callbacks could not answer, so whether
    /// this is a replay is unknown: not accepted (answer 503, the sender
    /// tries again). See `provider::replay`.
    #[error("the replay check could not run (the shared store is unavailable)")]
    ReplayCheckUnavailable,
}

/// Claims of a verified HS256 JWT (pledg's notification), `exp` checked
/// against `now` (no leeway) when present; `require_exp` refuses a token
/// without one.
///
/// # Errors
///
/// [`CallbackError::NoSecret`] for an empty secret,
/// [`CallbackError::Unsigned`] for an empty token,
/// [`CallbackError::BadSignature`] when it does not verify (or is not an
/// HS256 JWT), [`CallbackError::Expired`] past its `exp` (or without one
/// when `require_exp`), [`CallbackError::Malformed`] for claims that are
/// not a JSON object.
pub fn verify_hs256_jwt(
    secret: &Secret,
    token: &str,
    now: SystemTime,
    require_exp: bool,
) -> Result<Map<String, Value>, CallbackError> {
    if secret.is_empty() {
        return Err(CallbackError::NoSecret);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(CallbackError::Unsigned);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    // `exp` is checked below against the caller's clock, not the process's.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(secret.expose().as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature
        | jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => CallbackError::BadSignature,
        _ => CallbackError::Malformed,
    })?;
    let claims = data.claims;
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match claims.get("exp") {
        Some(exp) => match exp.as_u64() {
            Some(exp) if exp > now => {}
            Some(_) => return Err(CallbackError::Expired),
            None => return Err(CallbackError::Malformed),
        },
        None if require_exp => return Err(CallbackError::Expired),
        None => {}
    }
    Ok(claims)
}

/// Remembers callback ids already accepted, so a replay is refused.
/// Bounded: the oldest ids are forgotten past `capacity` (the timestamp
/// window of the caller covers what falls out).
#[derive(Debug)]
pub struct ReplayGuard {
    seen: std::sync::Mutex<(
        std::collections::HashSet<String>,
        std::collections::VecDeque<String>,
    )>,
    capacity: usize,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        ReplayGuard::new(10_000)
    }
}

impl ReplayGuard {
    /// A guard remembering the last `capacity` ids (at least 1; the
    /// default guard remembers 10,000).
    pub fn new(capacity: usize) -> Self {
        ReplayGuard {
            seen: Default::default(),
            capacity: capacity.max(1),
        }
    }

    /// `true` the first time `id` is seen, `false` for a replay.
    pub fn first_time(&self, id: &str) -> bool {
        let mut guard = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let (set, order) = &mut *guard;
        if set.contains(id) {
            return false;
        }
        if order.len() >= self.capacity
            && let Some(old) = order.pop_front()
        {
            set.remove(&old);
        }
        set.insert(id.to_owned());
        order.push_back(id.to_owned());
        true
    }
}

fn signing(provider: &'static str, message: &str) -> Error {
    Error::new(ErrorKind::Signing, provider, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_a_known_vector() {
        // RFC 4231 test case 2 (key "Jefe"): 5bdcc146…64ec3843 in Base64.
        let sum = hmac_checksum(&Secret::new("Jefe"), &["what do ya want for nothing?"]);
        assert_eq!(sum, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
        assert!(verify_hmac_checksum(
            &Secret::new("Jefe"),
            b"what do ya want for nothing?",
            &sum
        ));
        assert!(!verify_hmac_checksum(
            &Secret::new("Jefe"),
            b"what do ya want for nothing!",
            &sum
        ));
        assert!(!verify_hmac_checksum(
            &Secret::new("Jefe"),
            b"x",
            "not base64!"
        ));
    }

    #[test]
    fn signed_body_round_trips_and_tampering_fails() {
        let secret = Secret::new("k");
        let now = SystemTime::now();
        let jwt = sign_body_jwt(
            "pledg",
            &secret,
            "data",
            Duration::from_secs(60),
            br#"{"a":1}"#,
            now,
        )
        .unwrap();
        let claims = verify_hs256_jwt(&secret, &jwt, now, true).unwrap();
        assert_eq!(claims["data"], serde_json::json!({"a": 1}));
        assert_eq!(
            verify_hs256_jwt(&Secret::new("other"), &jwt, now, true),
            Err(CallbackError::BadSignature)
        );
        assert_eq!(
            verify_hs256_jwt(&secret, &jwt, now + Duration::from_secs(61), true),
            Err(CallbackError::Expired)
        );
        let err =
            sign_body_jwt("pledg", &secret, "data", Duration::ZERO, b"not json", now).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Signing);
    }

    #[test]
    fn replay_guard_is_bounded() {
        let g = ReplayGuard::new(2);
        assert!(g.first_time("a"));
        assert!(!g.first_time("a"));
        assert!(g.first_time("b"));
        assert!(g.first_time("c"));
        assert!(g.first_time("a"), "forgotten past capacity");
    }
}
