//! An OAuth2 token endpoint's answer (RFC 6749 §5), read: the access token
//! and its `expires_in` (§5.1), or the error (§5.2) as a typed
//! [`ErrorKind`]. Pure: the client-credentials flow
//! (`builder/client_credentials.rs`) hands it the final status, headers and
//! body; the property tests hand it anything.
//!
//! - `200` with `{"access_token": str, "token_type": str, "expires_in"?}`
//!   → [`Issued`]. `expires_in` is relative seconds from receipt, a number
//!   or a numeric string, saturating (a lifetime beyond `Duration::MAX` is
//!   `Duration::MAX`; the cache bounds every deadline by
//!   [`MAX_LIFETIME`](crate::base::expiry::MAX_LIFETIME)); absent,
//!   negative, NaN or not a number, it is ignored and the token's JWT
//!   `exp`, else the profile's assumed lifetime, decides. An opaque token
//!   is as good as a JWT.
//! - `400` / `401` with `{"error": code}`: the code names the kind
//!   (`invalid_client` → [`ErrorKind::InvalidCredentials`], …); without
//!   one, the status does (401 → `InvalidCredentials`).
//! - Anything else: the status's kind, as every token operation's
//!   (408/429/5xx transient, with the `Retry-After` asked for).
//!
//! No message carries the body: an error description may echo a credential.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;

use crate::base::error::{Error, ErrorKind, undecodable};
use crate::base::expiry::ExpiryHints;
use crate::base::http::headers::attempts_of;
use crate::base::secret::Secret;
use crate::base::time::duration::secs_f64_saturating;
use crate::token::Issued;

/// RFC 6749 §5.1: what a successful answer carries (the rest is ignored).
#[derive(Deserialize)]
struct AccessToken {
    access_token: String,
    // Required by §5.1 and checked as present; any type name is accepted,
    // the token is sent as `Bearer`.
    #[allow(dead_code)]
    token_type: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// RFC 6749 §5.2: an error answer's body (only the code is read).
#[derive(Deserialize)]
struct OAuthError {
    error: String,
}

/// The token endpoint's final answer — `status`, `headers` and the whole
/// `body` — as the token or the typed error of `provider`'s login.
///
/// # Errors
///
/// A 200 whose body is not a token answer: [`ErrorKind::MalformedResponse`]. Any
/// other status: the kind its RFC 6749 §5.2 `error` code names
/// (`invalid_client` → [`ErrorKind::InvalidCredentials`], …), else the
/// status's own kind, a 401 being
/// [`ErrorKind::InvalidCredentials`].
pub fn token_answer(
    provider: &'static str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Issued, Error> {
    let attempts = attempts_of(headers);
    if status == 200 {
        let answer: AccessToken = serde_json::from_slice(body).map_err(|e| {
            undecodable(provider, &e)
                .with_status(status)
                .with_attempts(attempts)
        })?;
        return Ok(Issued {
            access_token: Secret::new(answer.access_token),
            refresh_token: None,
            hints: ExpiryHints {
                relative: answer.expires_in.as_ref().and_then(expires_in),
                ..ExpiryHints::default()
            },
        });
    }
    let error =
        Error::from_operation_status(provider, status, attempts).with_transient_hint(headers);
    if (200..300).contains(&status) {
        // Another success status is no token answer (§5.1 says 200).
        return Err(error);
    }
    let by_status = match status {
        401 => ErrorKind::InvalidCredentials,
        _ => error.kind(),
    };
    // §5.2: the error body comes with a 400 or a 401.
    let by_code = matches!(status, 400 | 401)
        .then(|| serde_json::from_slice::<OAuthError>(body).ok())
        .flatten()
        .and_then(|e| error_kind(&e.error));
    Err(error.with_kind(by_code.unwrap_or(by_status)))
}

/// The kind an RFC 6749 §5.2 error code names, when it names one.
pub fn error_kind(code: &str) -> Option<ErrorKind> {
    Some(match code {
        // The client's id or secret is wrong, or the grant is not valid.
        "invalid_client" | "invalid_grant" => ErrorKind::InvalidCredentials,
        // Authenticated, but not allowed this grant type.
        "unauthorized_client" => ErrorKind::Forbidden,
        "invalid_request" | "unsupported_grant_type" | "invalid_scope" => ErrorKind::BadRequest,
        "temporarily_unavailable" | "server_error" => ErrorKind::Transient,
        _ => return None,
    })
}

/// `expires_in`: non-negative seconds as a JSON number or a numeric
/// string — whole seconds exactly, fractions and exponents saturating;
/// anything else is no hint.
pub fn expires_in(value: &serde_json::Value) -> Option<Duration> {
    let secs = match value {
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(whole) => return Some(Duration::from_secs(whole)),
            None => n.as_f64()?,
        },
        serde_json::Value::String(s) if s.len() <= 64 => {
            let s = s.trim();
            if let Ok(whole) = s.parse::<u64>() {
                return Some(Duration::from_secs(whole));
            }
            s.parse::<f64>().ok()?
        }
        _ => return None,
    };
    // Negative or NaN: ignored, like a missing one (a token that claims to
    // be expired on arrival is not believed over its own `exp`).
    (secs >= 0.0).then(|| secs_f64_saturating(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Result<Issued, Error> {
        token_answer("test", status, &HeaderMap::new(), body.as_bytes())
    }

    fn kind(status: u16, body: &str) -> ErrorKind {
        answer(status, body).expect_err("an error").kind()
    }

    #[test]
    fn a_token_with_its_relative_lifetime() {
        let issued = answer(
            200,
            r#"{"access_token":"opaque-1","token_type":"Bearer","expires_in":600,"scope":"x"}"#,
        )
        .expect("a token");
        assert_eq!(issued.access_token.expose(), "opaque-1");
        assert_eq!(issued.hints.relative, Some(Duration::from_secs(600)));
        assert!(issued.refresh_token.is_none());
    }

    #[test]
    fn expires_in_saturates_or_is_ignored() {
        let secs = |v: serde_json::Value| expires_in(&v);
        assert_eq!(secs(600.into()), Some(Duration::from_secs(600)));
        assert_eq!(secs("600".into()), Some(Duration::from_secs(600)));
        assert_eq!(secs(0.5.into()), Some(Duration::from_millis(500)));
        assert_eq!(
            secs(i64::MAX.into()),
            Some(Duration::from_secs(i64::MAX as u64))
        );
        assert_eq!(secs(u64::MAX.into()), Some(Duration::from_secs(u64::MAX)));
        assert_eq!(secs(1e300.into()), Some(Duration::MAX));
        assert_eq!(secs("1e400".into()), Some(Duration::MAX));
        for ignored in [
            serde_json::json!(-1),
            serde_json::json!("-5"),
            serde_json::json!("NaN"),
            serde_json::json!("ten"),
            serde_json::json!(true),
            serde_json::json!([600]),
            serde_json::Value::String("9".repeat(65)),
        ] {
            assert_eq!(expires_in(&ignored), None, "{ignored}");
        }
        let no_hint = answer(200, r#"{"access_token":"t","token_type":"Bearer"}"#).unwrap();
        assert_eq!(no_hint.hints.relative, None);
    }

    #[test]
    fn a_success_without_the_required_fields_is_malformed() {
        for body in [
            "",
            "null",
            "[]",
            r#"{"token_type":"Bearer"}"#,
            r#"{"access_token":"t"}"#,
            r#"{"access_token":7,"token_type":"Bearer"}"#,
            "<html>",
        ] {
            let e = answer(200, body).expect_err(body);
            assert_eq!(e.kind(), ErrorKind::MalformedResponse, "{body}");
            assert_eq!(e.status(), Some(200));
        }
        assert_eq!(
            kind(201, r#"{"access_token":"t","token_type":"Bearer"}"#),
            ErrorKind::MalformedResponse
        );
    }

    #[test]
    fn oauth_error_codes_name_the_kind() {
        let body = |code: &str| format!(r#"{{"error":"{code}","error_description":"x"}}"#);
        for (status, code, expected) in [
            (400, "invalid_client", ErrorKind::InvalidCredentials),
            (401, "invalid_client", ErrorKind::InvalidCredentials),
            (400, "invalid_grant", ErrorKind::InvalidCredentials),
            (400, "unauthorized_client", ErrorKind::Forbidden),
            (400, "invalid_request", ErrorKind::BadRequest),
            (400, "unsupported_grant_type", ErrorKind::BadRequest),
            (400, "invalid_scope", ErrorKind::BadRequest),
            (400, "temporarily_unavailable", ErrorKind::Transient),
            (400, "something_else", ErrorKind::BadRequest),
            (401, "something_else", ErrorKind::InvalidCredentials),
        ] {
            let e = answer(status, &body(code)).expect_err(code);
            assert_eq!(
                (e.kind(), e.status()),
                (expected, Some(status)),
                "{status} {code}"
            );
            assert!(!e.to_string().contains("\"x\""), "no body in {e}");
        }
        // Without a readable body, the status decides.
        assert_eq!(kind(401, "<html>"), ErrorKind::InvalidCredentials);
        assert_eq!(kind(400, ""), ErrorKind::BadRequest);
        // The code is read from 400 and 401 only.
        assert_eq!(kind(403, &body("invalid_client")), ErrorKind::Forbidden);
        assert_eq!(kind(503, &body("invalid_client")), ErrorKind::Transient);
        assert_eq!(kind(404, ""), ErrorKind::NotFound);
        assert_eq!(kind(302, ""), ErrorKind::MalformedResponse);
    }

    #[test]
    fn attempts_and_the_wait_asked_for_are_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(
            crate::base::http::headers::ATTEMPTS_HEADER,
            "3".parse().unwrap(),
        );
        headers.insert("retry-after", "7".parse().unwrap());
        let e = token_answer("test", 503, &headers, b"").expect_err("503");
        assert_eq!(e.attempts(), 3);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    }
}
