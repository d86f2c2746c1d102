//! The providers' request and callback signatures, as the sandbox checks
//! and makes them: exirom's Base64 HMAC-SHA256 checksums, pledg's HS256
//! JWTs signed with the merchant's secret key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};
use sha2::Sha256;

/// Base64(HMAC-SHA256(key, message)).
pub(crate) fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC takes keys of every length.
        Err(_) => return String::new(),
    };
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Why a pledg signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureError {
    Missing,
    Invalid,
    Expired,
}

/// Claims of an HS256 JWT signed with `secret`; `exp` (when present) is
/// checked against `now` (the sandbox clock).
pub(crate) fn verify_hs256(
    secret: &str,
    token: &str,
    now: i64,
) -> Result<Map<String, Value>, SignatureError> {
    if token.trim().is_empty() {
        return Err(SignatureError::Missing);
    }
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_exp = false;
    v.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Map<String, Value>>(
        token.trim(),
        &DecodingKey::from_secret(secret.as_bytes()),
        &v,
    )
    .map_err(|_| SignatureError::Invalid)?;
    match data.claims.get("exp").map(Value::as_i64) {
        None => {}
        Some(Some(exp)) if exp > now => {}
        Some(Some(_)) => return Err(SignatureError::Expired),
        Some(None) => return Err(SignatureError::Invalid),
    }
    Ok(data.claims)
}

/// An HS256 JWT of `claims` signed with `secret`.
pub(crate) fn sign_hs256(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

/// Equality whose time does not depend on where the inputs differ.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
