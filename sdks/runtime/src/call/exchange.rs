//! One attempt on the wire, and what it leaves for the next: the request
//! built again or copied before its credentials went on, the per-attempt
//! timeout, the capped body, the `x-sdk-attempts` header on the answer.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Request, Response};

use crate::base::error::Error;
use crate::base::http::body;
use crate::base::http::headers::ATTEMPTS_HEADER;

/// Why a call has no response.
pub(crate) enum Failure {
    /// A transport failure after the retries allowed, and the attempts.
    Transport(reqwest::Error, u32),
    /// No credential could be put on the request.
    Refused(Error),
}

/// A request built again for another attempt: a generated operation's
/// own building of it (its URL, headers and JSON body, from the values it
/// holds), called only when a retry or a 401 asks for one. The first
/// attempt then needs no spare copy of what it sends.
pub(crate) trait Rebuild: Send + Sync {
    /// The request as first built, credentials not yet on; `None` if it
    /// cannot be built again.
    fn rebuild(&self) -> Option<Request>;
}

impl<F, E> Rebuild for F
where
    F: Fn() -> Result<Request, E> + Send + Sync,
{
    fn rebuild(&self) -> Option<Request> {
        self().ok()
    }
}

/// What the attempts after the first send: the request without its
/// credentials, which go on again; the bearer the first attempt carried
/// goes on it, so a 401 renews exactly that token.
pub(super) struct Again<'a> {
    pub(super) request: Unsent<'a>,
    pub(super) bearer: Option<HeaderValue>,
}

/// A request as it was before the session put credentials on it.
#[expect(
    clippy::large_enum_variant,
    reason = "one per call, in its future; boxing the copy would allocate on every hand-made call"
)]
pub(super) enum Unsent<'a> {
    /// The operation builds it again (a typed call).
    Build(&'a dyn Rebuild),
    /// A copy made before the credentials went on (a hand-made request):
    /// nothing of theirs to copy — a request with no header of its own
    /// copies no header map.
    Copy(Request),
}

pub(super) fn with_timeout(request: &mut Request, timeout: Option<Duration>) {
    if timeout.is_some() {
        *request.timeout_mut() = timeout;
    }
}

/// A copy of `request` for the next attempt, or `None` when its body is a
/// stream. Cheaper than `Request::try_clone`, which always allocates the
/// request's extension map (twice): the copy has method, URL, headers,
/// version, body and the request's own timeout — the per-attempt timeout
/// is set on the request being sent. (reqwest does not expose a request's
/// other extensions; only one converted from an `http::Request` has any.)
pub(super) fn spare(request: &Request) -> Option<Request> {
    let body = match request.body() {
        None => None,
        Some(b) => Some(reqwest::Body::from(Bytes::copy_from_slice(b.as_bytes()?))),
    };
    let mut copy = Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    if let Some(own) = request.timeout() {
        *copy.timeout_mut() = Some(*own);
    }
    *copy.body_mut() = body;
    Some(copy)
}

/// The final response of an API call, its body capped for the caller.
pub(super) fn deliver(
    resp: Response,
    limit: u64,
    attempts: u32,
) -> Result<(Response, u32), Failure> {
    finish(body::limit(resp, limit), attempts)
}

/// [`ATTEMPTS_HEADER`] as a name: no parsing per response.
const ATTEMPTS_NAME: HeaderName = HeaderName::from_static(ATTEMPTS_HEADER);

pub(super) fn finish(
    result: reqwest::Result<Response>,
    attempts: u32,
) -> Result<(Response, u32), Failure> {
    match result {
        Ok(mut resp) => {
            let headers = resp.headers_mut();
            if attempts == 1 {
                // One attempt is what no header says: nothing to add on
                // nearly every call. A server's own header of the name
                // must not pass for ours (a scan of the names: cheaper
                // than hashing a custom one).
                if headers.keys().any(|k| k == ATTEMPTS_NAME) {
                    headers.remove(ATTEMPTS_NAME);
                }
            } else {
                // The usual counts as static values: no allocation.
                let value = match attempts {
                    2 => HeaderValue::from_static("2"),
                    3 => HeaderValue::from_static("3"),
                    n => HeaderValue::from(n),
                };
                headers.insert(ATTEMPTS_NAME, value);
            }
            Ok((resp, attempts))
        }
        Err(e) => Err(Failure::Transport(e, attempts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::AUTHORIZATION;

    #[test]
    fn attempts_header_matches_the_count() {
        for n in 1..=6u32 {
            let resp = Response::from(http::Response::new(""));
            let (resp, _) = finish(Ok(resp), n).ok().expect("a response");
            assert_eq!(crate::base::http::headers::attempts_of(resp.headers()), n);
            if n == 1 {
                assert!(resp.headers().get(ATTEMPTS_HEADER).is_none());
            } else {
                assert_eq!(resp.headers()[ATTEMPTS_HEADER], n.to_string().as_str());
            }
        }
    }

    #[test]
    fn a_servers_own_attempts_header_is_never_taken_for_ours() {
        for n in 1..=3u32 {
            let mut answer = http::Response::new("");
            answer
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("text/plain"));
            answer
                .headers_mut()
                .append(ATTEMPTS_NAME, HeaderValue::from_static("999"));
            answer
                .headers_mut()
                .append(ATTEMPTS_NAME, HeaderValue::from_static("7"));
            let (resp, _) = finish(Ok(Response::from(answer)), n)
                .ok()
                .expect("a response");
            assert_eq!(crate::base::http::headers::attempts_of(resp.headers()), n);
            assert!(resp.headers().get_all(ATTEMPTS_HEADER).iter().count() <= 1);
            assert_eq!(resp.headers()["content-type"], "text/plain");
        }
    }

    #[test]
    fn a_spare_is_the_same_request_without_the_attempt_timeout() {
        let mut r = Request::new(
            reqwest::Method::POST,
            "http://127.0.0.1:1/x?y=1".parse().expect("url"),
        );
        r.headers_mut()
            .insert(AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        *r.body_mut() = Some(reqwest::Body::from(r#"{"a":1}"#));
        let copy = spare(&r).expect("a bytes body can be copied");
        assert_eq!(copy.method(), r.method());
        assert_eq!(copy.url(), r.url());
        assert_eq!(copy.headers(), r.headers());
        assert_eq!(
            copy.body().and_then(|b| b.as_bytes()),
            Some(&br#"{"a":1}"#[..])
        );
        assert!(copy.timeout().is_none());
        // A request's own timeout is its own: the copy keeps it.
        *r.timeout_mut() = Some(Duration::from_secs(3));
        assert_eq!(
            spare(&r).expect("copy").timeout(),
            Some(&Duration::from_secs(3))
        );
        // A streaming body cannot be sent twice.
        *r.body_mut() = Some(reqwest::Body::wrap(http_body_util::Full::new(
            Bytes::from_static(b"x"),
        )));
        assert!(spare(&r).is_none());
    }
}
