//! Response bodies read under a size cap.
//!
//! A provider's answer can be any size. A declared length above the cap
//! fails before reading a byte. Token answers are buffered (`buffer`):
//! read chunk by chunk with a running count (reqwest's `chunk()`), into one
//! buffer sized from `Content-Length`, so a call never holds more than the
//! cap. API answers are not buffered (`limit`): one that declares a
//! length within the cap is handed over as it is (hyper reads no byte past
//! it); one that declares none has its body wrapped in
//! `http_body_util::Limited` and is read once, by the caller.

use std::error::Error as StdError;
use std::fmt;

use bytes::BytesMut;
use futures::FutureExt as _;
use http_body_util::{BodyExt, LengthLimitError, Limited, StreamBody};
use reqwest::{Body, Response, ResponseBuilderExt};

type BoxError = Box<dyn StdError + Send + Sync>;

/// A response body larger than the cap. Found in the source chain of the
/// `reqwest::Error` a capped call returns (see [`too_large`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTooLarge {
    /// The cap, in bytes.
    pub limit: u64,
    /// The length the server declared, when it declared one.
    pub declared: Option<u64>,
}

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.declared {
            Some(n) => write!(
                f,
                "response body of {n} bytes exceeds the {} byte cap",
                self.limit
            ),
            None => write!(f, "response body exceeds the {} byte cap", self.limit),
        }
    }
}

impl StdError for BodyTooLarge {}

/// The cap violation behind `e`, if that is what `e` is (also for bodies
/// capped while the caller reads them).
pub fn too_large(e: &(dyn StdError + 'static)) -> Option<BodyTooLarge> {
    let mut source: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(t) = err.downcast_ref::<BodyTooLarge>() {
            return Some(*t);
        }
        source = err.source();
    }
    None
}

/// The body length the server declared (`Content-Length`), from hyper's
/// size hint: exact for such a body, none for a chunked one. No header is
/// parsed here: hyper has validated it already.
fn declared_length(resp: &Response) -> Option<u64> {
    resp.content_length()
}

/// A `reqwest::Error` whose source is `e`: reqwest has no public
/// constructor, so a body that fails with `e` is read once. Its only frame
/// is the error, so the read completes on its first poll, without I/O.
fn as_reqwest_error(e: BodyTooLarge) -> reqwest::Error {
    let failing = StreamBody::new(futures::stream::iter([Err::<
        http_body::Frame<bytes::Bytes>,
        _,
    >(e)]));
    let probe = Response::from(http::Response::new(Body::wrap(failing)));
    match probe.bytes().now_or_never() {
        Some(Err(err)) => err,
        // A body whose only frame is an error fails at once.
        _ => unreachable!("a failing body was read"),
    }
}

/// Status, version, headers, extensions and URL of `resp`, over `body`.
fn rebuild(
    status: reqwest::StatusCode,
    version: reqwest::Version,
    headers: reqwest::header::HeaderMap,
    extensions: http::Extensions,
    url: url::Url,
    body: Body,
) -> Response {
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    *rebuilt.extensions_mut() = extensions;
    let (mut parts, body) = rebuilt.into_parts();
    // `ResponseBuilderExt::url` is reqwest's public way to carry the URL.
    let carrier = http::response::Builder::new().url(url).body(());
    if let Ok(carrier) = carrier {
        parts.extensions.extend(carrier.into_parts().0.extensions);
    }
    Response::from(http::Response::from_parts(parts, body))
}

/// Read the whole body now (at most `limit` bytes), so a connection that
/// breaks mid-body is a transport failure the retry policy sees, and the
/// response can be inspected before it is returned.
pub(crate) async fn buffer(mut resp: Response, limit: u64) -> reqwest::Result<Response> {
    let declared = declared_length(&resp);
    if declared.is_some_and(|n| n > limit) {
        return Err(as_reqwest_error(BodyTooLarge { limit, declared }));
    }
    let capacity = usize::try_from(declared.unwrap_or(0).min(limit)).unwrap_or(0);
    let mut buf = BytesMut::with_capacity(capacity);
    while let Some(chunk) = resp.chunk().await? {
        if (buf.len() as u64).saturating_add(chunk.len() as u64) > limit {
            return Err(as_reqwest_error(BodyTooLarge { limit, declared }));
        }
        buf.extend_from_slice(&chunk);
    }
    let extensions = std::mem::take(resp.extensions_mut());
    Ok(rebuild(
        resp.status(),
        resp.version(),
        std::mem::take(resp.headers_mut()),
        extensions,
        resp.url().clone(),
        Body::from(buf.freeze()),
    ))
}

/// Cap the body of a response that is not buffered. A declared length
/// above the cap fails now; one within it is the cap already (hyper reads
/// no byte past a `Content-Length`), so the response is returned as it
/// is. Without one, the caller's read fails once it passes `limit` bytes.
pub(crate) fn limit(mut resp: Response, limit: u64) -> reqwest::Result<Response> {
    let declared = declared_length(&resp);
    match declared {
        Some(n) if n > limit => {
            return Err(as_reqwest_error(BodyTooLarge { limit, declared }));
        }
        Some(_) => return Ok(resp),
        None => {}
    }
    let url = resp.url().clone();
    let status = resp.status();
    let version = resp.version();
    let headers = std::mem::take(resp.headers_mut());
    let extensions = std::mem::take(resp.extensions_mut());
    let capped = Limited::new(
        Body::from(resp),
        usize::try_from(limit).unwrap_or(usize::MAX),
    )
    .map_err(move |e| -> BoxError {
        if e.is::<LengthLimitError>() {
            Box::new(BodyTooLarge {
                limit,
                declared: None,
            })
        } else {
            e
        }
    });
    let body = Body::wrap(capped);
    Ok(rebuild(status, version, headers, extensions, url, body))
}
