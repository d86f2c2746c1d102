//! What a failed attempt says: whether it is worth another try, and
//! whether the request may have reached the server.

use reqwest::{Method, Request, StatusCode};

use crate::base::http::body;
use crate::base::security::OperationSecurity;

/// Statuses worth another try: 408, 429 and 5xx (except 501 Not Implemented).
pub fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429) || (status.is_server_error() && status.as_u16() != 501)
}

/// Whether a status says the server did not process the request, so a
/// retry is safe whatever the method.
pub fn is_unprocessed_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
}

/// Whether a transport error is worth another try, and whether the request
/// can have reached the server.
pub fn classify_transport(e: &reqwest::Error) -> Option<bool /* may have reached server */> {
    if e.is_builder()
        || e.is_redirect()
        || e.is_status()
        || body::too_large(e).is_some()
        || crate::base::http::tls::certificate_refused(e)
    {
        // A body over the cap would be over it again; a certificate
        // refused would be refused again.
        None
    } else if e.is_connect() || refused_by_http2(e) {
        Some(false)
    } else {
        // Timeouts, resets, connections closed mid-message or mid-body.
        Some(true)
    }
}

/// An HTTP/2 server's word that it did not process the request: the
/// stream refused (`RST_STREAM REFUSED_STREAM`) or the connection closing
/// before it (`GOAWAY NO_ERROR`). Any request may be sent again after it
/// (RFC 9113 §8.7) — what reqwest's own retry layer replays, and the
/// client the SDK builds leaves retries to the session.
fn refused_by_http2(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            return h2.is_remote()
                && ((h2.is_reset() && h2.reason() == Some(h2::Reason::REFUSED_STREAM))
                    || (h2.is_go_away() && h2.reason() == Some(h2::Reason::NO_ERROR)));
        }
        source = err.source();
    }
    false
}

/// Methods that are safe to send twice without the caller's say-so: the
/// read-only ones. (PUT and DELETE are idempotent by HTTP's rules, but a
/// payment API's are not trusted to be; opt in with
/// [`RetryPolicy::retry_non_idempotent`](crate::RetryPolicy::retry_non_idempotent()).)
pub fn is_idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the operation names an idempotency key (`x-idempotency-key`)
/// and this request's JSON body carries a non-empty value for it: the
/// provider then answers a repeat with the original response.
pub(crate) fn carries_idempotency_key(security: &OperationSecurity, request: &Request) -> bool {
    let Some(field) = security.idempotency_key else {
        return false;
    };
    let Some(body) = request.body().and_then(|b| b.as_bytes()) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| match v.get(field)? {
            serde_json::Value::String(s) => Some(!s.is_empty()),
            serde_json::Value::Number(_) => Some(true),
            _ => None,
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_only_methods_are_retried_unasked() {
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(is_idempotent(&m), "{m}");
        }
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(!is_idempotent(&m), "{m}");
        }
    }

    #[test]
    fn transient_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_transient_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 501] {
            assert!(
                !is_transient_status(StatusCode::from_u16(s).unwrap()),
                "{s}"
            );
        }
    }
}
