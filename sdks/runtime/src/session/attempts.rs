//! One call's attempts: the retry and 401 policy around
//! `reqwest::Client::execute`, and the little each attempt costs.
//!
//! Per call, over a raw reqwest call, an attempt adds: for a hand-made
//! request, a spare copy of it (URL, header map, body: a retry needs them,
//! reqwest consumes the request) — a generated operation instead hands
//! over the closure that builds its request, called again only when
//! another attempt is due ([`Session::call_built`]); the per-attempt
//! timeout only when the HTTP client does not already bound every
//! attempt; and an `x-sdk-attempts` header when there was more than one.
//! Response
//! bodies are not buffered: a retried response is dropped unread, and the
//! final one goes to the caller capped — by its declared length when it
//! has one within the cap (hyper reads no byte past it), by a counting
//! wrapper when it has none. Token endpoints are the exception: their
//! answers are read here, so a body that breaks mid-way is retried.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use reqwest::{Request, Response, StatusCode};

use super::Session;
use crate::body;
use crate::error::{Operation, OperationError};
use crate::retry::{self, ATTEMPTS_HEADER, Delay};
use crate::security::OperationSecurity;
use crate::telemetry::RetryReason;

/// Why a call has no response.
pub(super) enum Failure {
    /// A transport failure after the retries allowed, and the attempts.
    Transport(reqwest::Error, u32),
    /// No credential could be put on the request.
    Refused(crate::Error),
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
struct Again<'a> {
    request: Unsent<'a>,
    bearer: Option<HeaderValue>,
}

/// A request as it was before the session put credentials on it.
#[expect(
    clippy::large_enum_variant,
    reason = "one per call, in its future; boxing the copy would allocate on every hand-made call"
)]
enum Unsent<'a> {
    /// The operation builds it again (a typed call).
    Build(&'a dyn Rebuild),
    /// A copy made before the credentials went on (a hand-made request):
    /// nothing of theirs to copy — a request with no header of its own
    /// copies no header map.
    Copy(Request),
}

impl Session {
    /// A generated operation's whole call — what progenitor's `pre`,
    /// `exec` and `post` hooks do, in one future (`codegen::tidy` writes
    /// `client.auth_call(&build, "operation_id")` in their place): the
    /// credentials put on, then the attempts. `build` makes the request:
    /// once for the first attempt, and again only for a retry or after a
    /// 401 — no copy of the request is kept in case. Every failure is the
    /// operation's [`OperationError`]: a request that cannot be built
    /// (`Config`), one that cannot be authorized (the runtime's error, its
    /// kind kept), a transport failure after the retries (`Transient`, its
    /// URL removed).
    pub fn call_built<'a, E, B>(
        &'a self,
        http: &'a reqwest::Client,
        build: &'a B,
        security: &'a OperationSecurity,
    ) -> impl Future<Output = Result<Response, OperationError<E>>> + Send + 'a
    where
        B: Fn() -> Result<Request, progenitor_client::Error<E>> + Send + Sync,
        E: Send + 'a,
    {
        use futures::FutureExt as _;
        use futures::future::Either;
        let operation = Operation::new(self.inner.provider, security.operation_id);
        match build() {
            Ok(request) => Either::Left(
                self.execute_inner(http, request, security, Some(build))
                    .map(move |result| typed_outcome(result, operation)),
            ),
            Err(e) => Either::Right(std::future::ready(Err(operation.fail(e)))),
        }
    }

    /// The attempts of one call, the credentials put on first (a
    /// hand-made request: [`Session::send_with`]; a typed one:
    /// [`Session::call_built`]).
    ///
    /// The first attempt is here; an answer that asks for more (401, a
    /// transient status, a transport failure, any token-endpoint answer)
    /// goes to [`Session::more_attempts`], boxed: every call's future
    /// embeds this one, and holding only the first attempt's state keeps
    /// it a third of the size — fewer bytes at each of its moves.
    pub(super) fn execute_inner<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: Request,
        security: &'a OperationSecurity,
        rebuild: Option<&'a dyn Rebuild>,
    ) -> impl Future<Output = Result<(Response, u32), Failure>> + Send + 'a {
        #[cfg(feature = "otel")]
        {
            use futures::FutureExt as _;
            use futures::future::Either;
            use opentelemetry::context::FutureExt as _;
            let span =
                self.inner
                    .telemetry
                    .operation(&request, security.operation_id, &self.inner.clock);
            let attempts = self.attempts(http, request, security, rebuild);
            // The span is boxed (one word in the call's future); a traced
            // call's whole future is, so the span's context stays out of
            // the future of every call that has none.
            match span {
                Some(span) => match span.context() {
                    Some(cx) => Either::Left(Box::pin(
                        attempts
                            .with_context(cx)
                            .map(move |result| self.observed(span, result)),
                    )),
                    None => Either::Right(Either::Left(
                        attempts.map(move |result| self.observed(span, result)),
                    )),
                },
                None => Either::Right(Either::Right(attempts)),
            }
        }
        #[cfg(not(feature = "otel"))]
        self.attempts(http, request, security, rebuild)
    }

    /// The operation's span ends, and its duration is recorded, with the
    /// answer's status, the error's type and the resend count.
    #[cfg(feature = "otel")]
    fn observed(
        &self,
        span: Box<crate::telemetry::OperationSpan>,
        result: Result<(Response, u32), Failure>,
    ) -> Result<(Response, u32), Failure> {
        let ended = match &result {
            Ok((resp, attempts)) => crate::telemetry::Ended {
                status: Some(resp.status().as_u16()),
                error: None,
                attempts: *attempts,
            },
            Err(Failure::Transport(e, attempts)) => crate::telemetry::Ended {
                status: None,
                error: Some(transport_kind(e)),
                attempts: *attempts,
            },
            Err(Failure::Refused(e)) => crate::telemetry::Ended {
                status: None,
                error: Some(e.kind().as_str()),
                attempts: 0,
            },
        };
        span.finish(ended);
        result
    }

    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn stores its arguments twice"
    )]
    fn attempts<'a>(
        &'a self,
        http: &'a reqwest::Client,
        mut request: Request,
        security: &'a OperationSecurity,
        rebuild: Option<&'a dyn Rebuild>,
    ) -> impl Future<Output = Result<(Response, u32), Failure>> + Send + 'a {
        // An `async` block, not an `async fn`: an `async fn` keeps its
        // arguments twice (as passed, and as the body's variable), and a
        // request is 264 bytes.
        async move {
            // What a later attempt sends, taken before the credentials go
            // on when they are the session's to put on.
            let mut again = match rebuild {
                Some(build) => Some(Unsent::Build(build)),
                None => spare(&request).map(Unsent::Copy),
            }
            .map(|request| Again {
                request,
                bearer: None,
            });
            self.authorize(&mut request, security)
                .await
                .map_err(Failure::Refused)?;
            let started = self.inner.clock.now();
            let timeout = self.attempt_timeout(&request);
            let body_limit = self.body_limit();
            self.inner.metrics.inc_requests();
            if let Some(Again { bearer, .. }) = &mut again {
                *bearer = self.bearer_on(&request);
            }
            if again.is_none() {
                // A streaming body cannot be sent twice: one attempt.
                with_timeout(&mut request, timeout);
                return once_boxed(http, request, body_limit).await;
            }
            with_timeout(&mut request, timeout);
            let result = http.execute(request).await;
            match result {
                Ok(resp) if !self.inner.auth_endpoint && !self.asks_for_more(&resp, security) => {
                    deliver(resp, body_limit, 1)
                }
                // Boxed in a function of its own: built inline, the
                // unboxed future would get a slot in this one's state.
                other => {
                    self.more_attempts_boxed(http, again, security, other, started, timeout)
                        .await
                }
            }
        }
    }

    /// The bearer `request` carries, when the session has a token manager
    /// (a 401 renews exactly the token that was refused).
    fn bearer_on(&self, request: &Request) -> Option<HeaderValue> {
        self.inner.bearer.as_ref()?;
        request
            .headers()
            .get(AUTHORIZATION)
            .filter(|v| v.as_bytes().starts_with(b"Bearer "))
            .cloned()
    }

    fn body_limit(&self) -> u64 {
        if self.inner.auth_endpoint {
            self.inner.policy.max_token_response_bytes
        } else {
            self.inner.policy.max_response_bytes
        }
    }

    /// Whether an API answer may call for another attempt: a 401 the
    /// session may recover from, or a transient status.
    fn asks_for_more(&self, resp: &Response, security: &OperationSecurity) -> bool {
        let status = resp.status();
        (status == StatusCode::UNAUTHORIZED && !security.is_anonymous())
            || retry::is_transient_status(status)
    }

    #[inline(never)]
    fn more_attempts_boxed<'a>(
        &'a self,
        http: &'a reqwest::Client,
        again: Option<Again<'a>>,
        security: &'a OperationSecurity,
        first: reqwest::Result<Response>,
        started: std::time::Instant,
        timeout: Option<Duration>,
    ) -> std::pin::Pin<Box<impl Future<Output = Result<(Response, u32), Failure>> + 'a>> {
        Box::pin(self.more_attempts(http, again, security, first, started, timeout))
    }

    /// The retry and 401 policy, from the first attempt's `first` result
    /// on; `again` gives what the next attempt sends.
    async fn more_attempts(
        &self,
        http: &reqwest::Client,
        again: Option<Again<'_>>,
        security: &OperationSecurity,
        first: reqwest::Result<Response>,
        started: std::time::Instant,
        timeout: Option<Duration>,
    ) -> Result<(Response, u32), Failure> {
        let body_limit = self.body_limit();
        let mut request = match again {
            // (Not sent by `execute_inner`: a request that cannot be sent
            // twice goes once.)
            None => {
                return match first {
                    Ok(resp) => deliver(resp, body_limit, 1),
                    Err(e) => finish(Err(e), 1),
                };
            }
            Some(Again { request, bearer }) => {
                let request = match request {
                    Unsent::Build(build) => build.rebuild(),
                    Unsent::Copy(copy) => Some(copy),
                };
                let rebuilt = match request {
                    Some(mut request) => match self.authorize(&mut request, security).await {
                        Ok(()) => Some(request),
                        Err(_) => None,
                    },
                    None => None,
                };
                // Not built or authorized again (it was, a moment ago):
                // the first answer is the last.
                let Some(mut request) = rebuilt else {
                    return match first {
                        Ok(resp) => deliver(resp, body_limit, 1),
                        Err(e) => finish(Err(e), 1),
                    };
                };
                if let Some(bearer) = bearer {
                    request.headers_mut().insert(AUTHORIZATION, bearer);
                }
                request
            }
        };
        let provider = self.inner.provider;
        let policy = &self.inner.policy;
        let safe = self.inner.auth_endpoint
            || security.is_anonymous()
            || retry::is_idempotent(request.method())
            || carries_idempotency_key(security, &request)
            || policy.retry_non_idempotent;
        let mut attempt: u32 = 1;
        let mut retries: u32 = 0;
        let mut reauthenticated = false;
        let mut result = first;
        loop {
            if self.inner.auth_endpoint
                && let Ok(resp) = result
            {
                // A token answer is read now: one that breaks mid-body is
                // a transport failure, retried like any other.
                result = body::buffer(resp, body_limit).await;
            }
            let within_deadline =
                |d: Duration| policy.within_deadline(started, self.inner.clock.now(), d);
            match result {
                Ok(resp)
                    if resp.status() == StatusCode::UNAUTHORIZED
                        && !reauthenticated
                        && !security.is_anonymous() =>
                {
                    let Some(bearer) = &self.inner.bearer else {
                        return deliver(resp, body_limit, attempt);
                    };
                    let Some(used) = request
                        .headers()
                        .get(AUTHORIZATION)
                        .filter(|v| v.as_bytes().starts_with(b"Bearer "))
                        .cloned()
                    else {
                        return deliver(resp, body_limit, attempt);
                    };
                    reauthenticated = true;
                    self.inner.metrics.inc_reauthentications();
                    self.inner.telemetry.reauthentication();
                    log::reauthenticating(provider, security.operation_id, attempt);
                    match bearer.renew_after_unauthorized(&used).await {
                        Ok(token) => {
                            drop(resp);
                            request
                                .headers_mut()
                                .insert(AUTHORIZATION, token.header_value().clone());
                        }
                        Err(e) => {
                            log::reauthentication_failed(provider, &e);
                            return deliver(resp, body_limit, attempt);
                        }
                    }
                }
                Ok(resp)
                    if retry::is_transient_status(resp.status())
                        && (safe || retry::is_unprocessed_status(resp.status()))
                        && retries < policy.max_retries =>
                {
                    retries += 1;
                    let delay = match policy.delay(retries, Some(resp.headers())) {
                        Delay::Retry(d) if within_deadline(d) => d,
                        // Asked to wait past the cap or the deadline: no
                        // early retry; the caller sees the response (and
                        // `Error::retry_after`).
                        _ => return deliver(resp, body_limit, attempt),
                    };
                    self.inner.metrics.inc_retries();
                    self.inner
                        .telemetry
                        .retry(RetryReason::Status(resp.status().as_u16()));
                    log::retrying_status(
                        provider,
                        security.operation_id,
                        attempt,
                        resp.status().as_u16(),
                        delay,
                    );
                    drop(resp);
                    self.inner.sleep.sleep(delay).await;
                }
                Err(e)
                    if retries < policy.max_retries
                        && retry::classify_transport(&e)
                            .is_some_and(|reached| safe || !reached) =>
                {
                    retries += 1;
                    let delay = policy.backoff(retries);
                    if !within_deadline(delay) {
                        return finish(Err(e), attempt);
                    }
                    self.inner.metrics.inc_retries();
                    self.inner.telemetry.retry(if e.is_timeout() {
                        RetryReason::Timeout
                    } else {
                        RetryReason::Connection
                    });
                    log::retrying_transport(provider, security.operation_id, attempt, &e, delay);
                    self.inner.sleep.sleep(delay).await;
                }
                Ok(resp) => return deliver(resp, body_limit, attempt),
                Err(e) => return finish(Err(e), attempt),
            }
            // The next attempt.
            attempt += 1;
            self.refresh_stale_bearer(&mut request).await;
            self.inner.metrics.inc_requests();
            let Some(spare) = spare(&request) else {
                with_timeout(&mut request, timeout);
                return once(http, request, body_limit, attempt).await;
            };
            with_timeout(&mut request, timeout);
            result = http.execute(request).await;
            request = spare;
        }
    }

    /// The timeout to put on each attempt of `request`: none when the
    /// request has its own (it wins) or the HTTP client already bounds
    /// every attempt as tightly — the client the SDK builds does, and then
    /// no per-request setting (an allocation in reqwest) is made.
    fn attempt_timeout(&self, request: &Request) -> Option<Duration> {
        let wanted = self.inner.policy.attempt_timeout?;
        if request.timeout().is_some() || self.inner.client_timeout.is_some_and(|c| c <= wanted) {
            return None;
        }
        Some(wanted)
    }

    /// Before a retry: a bearer that went stale while the request waited
    /// (backoff, `Retry-After`) is swapped for the current token, so the
    /// retry does not arrive expired.
    async fn refresh_stale_bearer(&self, request: &mut Request) {
        let Some(bearer) = &self.inner.bearer else {
            return;
        };
        let Some(used) = request
            .headers()
            .get(AUTHORIZATION)
            .filter(|v| v.as_bytes().starts_with(b"Bearer "))
        else {
            return;
        };
        if let Ok(token) = bearer.token().await
            && token.header_value() != used
        {
            request
                .headers_mut()
                .insert(AUTHORIZATION, token.header_value().clone());
        }
    }
}

/// The attempt loop's log lines, out of line: each `tracing` event is a
/// good deal of code, and a call that succeeds at once — nearly every
/// call — should not carry it through the instruction cache.
mod log {
    use std::time::Duration;

    use tracing::{info, warn};

    #[cold]
    #[inline(never)]
    pub(super) fn reauthenticating(provider: &str, operation: &str, attempt: u32) {
        info!(
            provider,
            operation, attempt, "401: dropping the token, re-authenticating, retrying once"
        );
    }

    #[cold]
    #[inline(never)]
    pub(super) fn reauthentication_failed(provider: &str, e: &crate::Error) {
        warn!(provider, kind = ?e.kind(), "re-authentication after 401 failed: {e}");
    }

    #[cold]
    #[inline(never)]
    pub(super) fn retrying_status(
        provider: &str,
        operation: &str,
        attempt: u32,
        status: u16,
        delay: Duration,
    ) {
        warn!(
            provider,
            operation,
            attempt,
            status,
            delay_ms = delay.as_millis() as u64,
            "transient HTTP status; retrying"
        );
    }

    #[cold]
    #[inline(never)]
    pub(super) fn retrying_transport(
        provider: &str,
        operation: &str,
        attempt: u32,
        e: &reqwest::Error,
        delay: Duration,
    ) {
        warn!(
            provider,
            operation,
            attempt,
            delay_ms = delay.as_millis() as u64,
            "transport failure ({}); retrying",
            super::transport_kind(e)
        );
    }
}

#[inline(never)]
fn once_boxed(
    http: &reqwest::Client,
    request: Request,
    body_limit: u64,
) -> std::pin::Pin<Box<impl Future<Output = Result<(Response, u32), Failure>> + '_>> {
    Box::pin(once(http, request, body_limit, 1))
}

/// A request that cannot be sent again (a streaming body), sent.
async fn once(
    http: &reqwest::Client,
    request: Request,
    body_limit: u64,
    attempt: u32,
) -> Result<(Response, u32), Failure> {
    let result = match http.execute(request).await {
        Ok(resp) => body::limit(resp, body_limit),
        Err(e) => Err(e),
    };
    finish(result, attempt)
}

fn with_timeout(request: &mut Request, timeout: Option<Duration>) {
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
fn spare(request: &Request) -> Option<Request> {
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

/// A call's result as a generated operation returns it.
fn typed_outcome<E>(
    result: Result<(Response, u32), Failure>,
    operation: Operation,
) -> Result<Response, OperationError<E>> {
    match result {
        Ok((resp, _)) => Ok(resp),
        Err(Failure::Transport(e, attempts)) => Err(operation.wrap(crate::Error::from_transport(
            operation.provider(),
            e,
            attempts,
        ))),
        Err(Failure::Refused(e)) => Err(operation.wrap(e)),
    }
}

/// The final response of an API call, its body capped for the caller.
fn deliver(resp: Response, limit: u64, attempts: u32) -> Result<(Response, u32), Failure> {
    finish(body::limit(resp, limit), attempts)
}

/// Whether the operation names an idempotency key (`x-idempotency-key`)
/// and this request's JSON body carries a non-empty value for it: the
/// provider then answers a repeat with the original response.
fn carries_idempotency_key(security: &OperationSecurity, request: &Request) -> bool {
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

fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "connection"
    }
}

/// [`ATTEMPTS_HEADER`] as a name: no parsing per response.
const ATTEMPTS_NAME: HeaderName = HeaderName::from_static(ATTEMPTS_HEADER);

fn finish(result: reqwest::Result<Response>, attempts: u32) -> Result<(Response, u32), Failure> {
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

    #[test]
    fn attempts_header_matches_the_count() {
        for n in 1..=6u32 {
            let resp = Response::from(http::Response::new(""));
            let (resp, _) = finish(Ok(resp), n).ok().expect("a response");
            assert_eq!(retry::attempts_of(resp.headers()), n);
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
            assert_eq!(retry::attempts_of(resp.headers()), n);
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

#[cfg(test)]
mod future_size {
    use super::*;
    use std::sync::Arc;

    /// Every call's future embeds this state and is moved a few times
    /// on its way to the executor: rare paths (token-answer buffering,
    /// 401 renewal, retry sleeps) are boxed so it stays small. It was
    /// 3,536 bytes before they were, 1,416 with only the first attempt
    /// inline but the request kept twice (`async fn` arguments), 760
    /// then, 976 now: the copy of a hand-made request is taken before the
    /// credentials go on (a request with no header of its own then copies
    /// no header map), so it is held across that step too; 1,000 with the
    /// `otel` feature (the operation's span boxed: one word, and a tag).
    #[test]
    fn a_call_future_stays_small() {
        let session = crate::SessionBuilder::new(
            "t",
            crate::RetryPolicy::default(),
            Arc::new(crate::time::SystemClock),
            Arc::new(crate::Metrics::default()),
        )
        .build();
        let http = reqwest::Client::new();
        let request = Request::new(
            reqwest::Method::GET,
            "http://127.0.0.1:1/x".parse().expect("url"),
        );
        let send = session.send(&http, request);
        eprintln!(
            "Session::send future: {} bytes",
            std::mem::size_of_val(&send)
        );
        assert!(std::mem::size_of_val(&send) <= 1_000);
    }
}

/// HTTP/2 refusals: the client the SDK builds has reqwest's retry layer
/// off, so the session must replay what that layer did — a stream the
/// server refused was not processed, whatever its method.
#[cfg(test)]
mod refused_streams {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::security::{Scheme, SchemeKind};
    use crate::{Metrics, RetryPolicy, Secret, SessionBuilder, time::SystemClock};

    const API_KEY_POST: OperationSecurity = OperationSecurity {
        operation_id: "create",
        alternatives: &[&[Scheme {
            name: "apiKey",
            kind: SchemeKind::ApiKeyHeader("Api-key"),
        }]],
        idempotency_key: None,
        body_checksum: None,
    };

    /// An HTTP/2 server that refuses its first `refuse` streams and answers
    /// `{}` to the rest; the streams it saw.
    async fn server(refuse: usize) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let Ok(mut conn) = h2::server::handshake(socket).await else {
                        return;
                    };
                    while let Some(Ok((_request, mut respond))) = conn.accept().await {
                        if counter.fetch_add(1, Ordering::SeqCst) < refuse {
                            respond.send_reset(h2::Reason::REFUSED_STREAM);
                            continue;
                        }
                        let answer = http::Response::builder()
                            .status(200)
                            .body(())
                            .expect("response");
                        if let Ok(mut body) = respond.send_response(answer, false) {
                            let _ = body.send_data(Bytes::from_static(b"{}"), true);
                        }
                    }
                });
            }
        });
        (addr, seen)
    }

    /// reqwest with the SDK's retry setting, speaking HTTP/2 in clear.
    fn http() -> reqwest::Client {
        reqwest::Client::builder()
            .http2_prior_knowledge()
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .build()
            .expect("client")
    }

    fn post(addr: SocketAddr) -> Request {
        let mut r = Request::new(
            reqwest::Method::POST,
            format!("http://{addr}/create").parse().expect("url"),
        );
        *r.body_mut() = Some(reqwest::Body::from("{}"));
        r
    }

    #[tokio::test]
    async fn a_refused_stream_did_not_reach_the_server() {
        let (addr, _) = server(usize::MAX).await;
        let e = http().execute(post(addr)).await.expect_err("refused");
        assert_eq!(crate::retry::classify_transport(&e), Some(false), "{e:?}");
    }

    #[tokio::test]
    async fn a_refused_post_is_sent_again() {
        let (addr, seen) = server(1).await;
        let session = SessionBuilder::new(
            "t",
            RetryPolicy::default(),
            Arc::new(SystemClock),
            Arc::new(Metrics::default()),
        )
        .api_key(Secret::new("k"))
        .build();
        let resp = session
            .send_with(&http(), post(addr), &API_KEY_POST)
            .await
            .expect("served on the second stream");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[ATTEMPTS_HEADER], "2");
        assert_eq!(seen.load(Ordering::SeqCst), 2);
    }

    fn session() -> Session {
        SessionBuilder::new(
            "t",
            RetryPolicy::default(),
            Arc::new(SystemClock),
            Arc::new(Metrics::default()),
        )
        .api_key(Secret::new("k"))
        .build()
    }

    /// A typed call's request is built once, and again only when another
    /// attempt is due — no spare copy is kept in case.
    #[tokio::test]
    #[expect(clippy::result_large_err, reason = "progenitor's error type")]
    async fn a_typed_call_builds_its_request_again_only_for_another_attempt() {
        for (refused, built) in [(0, 1), (1, 2)] {
            let (addr, seen) = server(refused).await;
            let builds = AtomicUsize::new(0);
            let build = || -> Result<Request, progenitor_client::Error<()>> {
                builds.fetch_add(1, Ordering::SeqCst);
                Ok(post(addr))
            };
            let resp = session()
                .call_built(&http(), &build, &API_KEY_POST)
                .await
                .expect("served");
            assert_eq!(resp.status(), StatusCode::OK);
            assert_eq!(builds.load(Ordering::SeqCst), built, "refused {refused}");
            assert_eq!(seen.load(Ordering::SeqCst), built);
            assert_eq!(crate::retry::attempts_of(resp.headers()), built as u32);
        }
    }

    /// A request that cannot be built is its error, and nothing is sent;
    /// one that cannot be built again leaves the first answer the last.
    #[tokio::test]
    #[expect(clippy::result_large_err, reason = "progenitor's error type")]
    async fn a_request_not_built_is_not_sent() {
        let (addr, seen) = server(1).await;
        let never = || -> Result<Request, progenitor_client::Error<()>> {
            Err(progenitor_client::Error::InvalidRequest("bad".into()))
        };
        match session().call_built(&http(), &never, &API_KEY_POST).await {
            Err(e) => {
                assert_eq!(e.kind(), crate::ErrorKind::Config, "{e:?}");
                assert!(e.to_string().contains("bad"), "{e}");
            }
            Ok(r) => panic!("expected a config error, got {r:?}"),
        }
        assert_eq!(seen.load(Ordering::SeqCst), 0);

        let builds = AtomicUsize::new(0);
        let once = || -> Result<Request, progenitor_client::Error<()>> {
            if builds.fetch_add(1, Ordering::SeqCst) == 0 {
                Ok(post(addr))
            } else {
                Err(progenitor_client::Error::InvalidRequest("gone".into()))
            }
        };
        match session().call_built(&http(), &once, &API_KEY_POST).await {
            Err(e) => {
                assert_eq!(e.kind(), crate::ErrorKind::Transient, "{e:?}");
                let cause = std::error::Error::source(e.error())
                    .and_then(|c| c.downcast_ref::<reqwest::Error>())
                    .expect("the transport failure is the source");
                assert_eq!(
                    crate::retry::classify_transport(cause),
                    Some(false),
                    "{e:?}"
                );
                assert!(cause.url().is_none(), "its URL removed");
            }
            Ok(r) => panic!("expected the refused stream's error, got {r:?}"),
        }
        assert_eq!(builds.load(Ordering::SeqCst), 2);
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }
}
