//! Header values built from strings a provider issued.

use reqwest::header::HeaderValue;

/// Why a token cannot be sent as a bearer credential.
pub fn token_defect(token: &str) -> Option<&'static str> {
    if token.is_empty() {
        Some("it is empty")
    } else if token.bytes().any(|b| b.is_ascii_control()) {
        Some("it contains control characters")
    } else if !token.bytes().all(|b| b.is_ascii_graphic()) {
        Some("it contains spaces or non-ASCII characters")
    } else {
        None
    }
}

/// `Bearer <token>` as a sensitive header value, if `token` is non-empty
/// visible ASCII (RFC 6750's b64token is a subset; opaque tokens of other
/// visible characters are tolerated).
pub fn bearer_value(token: &str) -> Option<HeaderValue> {
    if token_defect(token).is_some() {
        return None;
    }
    let mut v = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    v.set_sensitive(true);
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_tokens_are_named() {
        for t in ["", "a\r\nb", "a b", "tök", "a\0", "\t", "a\x7f"] {
            assert!(token_defect(t).is_some(), "{t:?}");
            assert!(bearer_value(t).is_none(), "{t:?}");
        }
        let v = bearer_value("eyJ.a-b_c~+/=").unwrap();
        assert_eq!(v.as_bytes(), b"Bearer eyJ.a-b_c~+/=");
        assert!(v.is_sensitive());
    }
}
