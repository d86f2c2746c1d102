//! The attempts of one call, top to bottom: the credentials go on, the
//! first attempt is sent inline, and an answer that may ask for more goes
//! to the loop, which asks [`decide`] after every attempt — deliver, renew
//! the credentials and send again, or wait and send again — and reports
//! each event once, to the [`Observer`].
//!
//! Per call, over a raw reqwest call, an attempt adds: for a hand-made
//! request, a spare copy of it (URL, header map, body: a retry needs them,
//! reqwest consumes the request) — a generated operation instead hands
//! over the closure that builds its request, called again only when
//! another attempt is due; the per-attempt timeout only when the HTTP
//! client does not already bound every attempt; and an `x-sdk-attempts`
//! header when there was more than one. Response bodies are not buffered:
//! a retried response is dropped unread, and the final one goes to the
//! caller capped — by its declared length when it has one within the cap
//! (hyper reads no byte past it), by a counting wrapper when it has none.
//! Token endpoints are the exception: their answers are read here, so a
//! body that breaks mid-way is retried.

use std::time::{Duration, Instant};

use reqwest::header::AUTHORIZATION;
use reqwest::{Request, Response, StatusCode};

use super::classify::{
    carries_idempotency_key, classify_transport, is_idempotent, is_transient_status,
};
use super::credentials::Credentials;
use super::decide::{Answer, Decision, State, decide};
use super::exchange::{Again, Failure, Rebuild, Unsent, deliver, finish, spare, with_timeout};
use super::settings::CallSettings;
use crate::base::http::body;
use crate::base::http::headers::retry_after;
use crate::base::security::OperationSecurity;
use crate::observe::events::{
    Answered, Attempt, CallEnd, CallStart, CallTrace, Observe as _, Resend,
};
use crate::observe::observer::Observer;

/// Everything a session's calls run with: its settings and credentials.
pub(crate) struct Caller {
    pub(super) settings: CallSettings,
    pub(super) credentials: Credentials,
}

impl Caller {
    /// Put the credentials `security` asks for on `request`.
    pub(super) fn authorize<'a>(
        &'a self,
        request: &'a mut Request,
        security: &'a OperationSecurity,
    ) -> impl Future<Output = Result<(), crate::base::error::Error>> + Send + 'a {
        self.credentials.attach(request, security, &self.settings)
    }

    /// Where this session's events go.
    #[inline(always)]
    fn observer(&self) -> Observer<'_> {
        self.settings.observer()
    }

    /// The attempts of one call, the credentials put on first; the call
    /// reported to the observer from start to end (`call_started` here,
    /// each attempt's start and answer, `call_ended` — or the trace
    /// dropped with the future).
    ///
    /// The first attempt is inline; an answer that asks for more (401, a
    /// transient status, a transport failure, any token-endpoint answer)
    /// goes to [`Caller::more_attempts`], boxed: every call's future
    /// embeds this one, and holding only the first attempt's state keeps
    /// it a third of the size — fewer bytes at each of its moves.
    pub(super) fn execute<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: Request,
        security: &'a OperationSecurity,
        rebuild: Option<&'a dyn Rebuild>,
    ) -> impl Future<Output = Result<(Response, u32), Failure>> + Send + 'a {
        // With `otel`, started when first polled, not when made: the
        // call's span is a child of the context it runs in
        // (`client.send(r).instrument(span)` enters `span` only then). One
        // move of the arguments more, no byte more: the closure's state
        // and the call's share the place. Without it, nothing cares when.
        #[cfg(feature = "otel")]
        {
            use futures::FutureExt as _;
            use futures::future::Either;
            use opentelemetry::context::FutureExt as _;
            futures::future::lazy(move |_| {
                let trace = self.call_started(&request, security);
                // A call with a span of its own runs inside it (its token
                // fetches become the span's children), boxed with its
                // context: a call that records none carries none of it.
                match trace.context() {
                    Some(cx) => Either::Left(Box::pin(
                        self.attempts(http, request, security, rebuild, trace)
                            .with_context(cx),
                    )),
                    None => Either::Right(self.attempts(http, request, security, rebuild, trace)),
                }
            })
            .flatten()
        }
        #[cfg(not(feature = "otel"))]
        {
            let trace = self.call_started(&request, security);
            self.attempts(http, request, security, rebuild, trace)
        }
    }

    /// A call of `request` starts: its trace, as the observer filled it.
    fn call_started(&self, request: &Request, security: &OperationSecurity) -> CallTrace {
        let mut trace = CallTrace::default();
        self.observer().call_started(
            &mut trace,
            CallStart {
                provider: self.settings.provider,
                security,
                request,
                token_call: self.settings.auth_endpoint,
                clock: &self.settings.clock,
            },
        );
        trace
    }

    /// Attempt `number` of this call.
    fn at<'s>(&self, security: &'s OperationSecurity, number: u32) -> Attempt<'s> {
        Attempt {
            provider: self.settings.provider,
            operation: security.operation_id,
            number,
        }
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
        mut trace: CallTrace,
    ) -> impl Future<Output = Result<(Response, u32), Failure>> + Send + 'a {
        // An `async` block, not an `async fn`: an `async fn` keeps its
        // arguments twice (as passed, and as the body's variable), and a
        // request is 264 bytes.
        async move {
            let result = 'call: {
                // What a later attempt sends, taken before the credentials
                // go on when they are the session's to put on.
                let mut again = match rebuild {
                    Some(build) => Some(Unsent::Build(build)),
                    None => spare(&request).map(Unsent::Copy),
                }
                .map(|request| Again {
                    request,
                    bearer: None,
                });
                if let Err(e) = self.authorize(&mut request, security).await {
                    break 'call Err(Failure::Refused(e));
                }
                let started = self.settings.clock.now();
                let timeout = self.attempt_timeout(&request);
                let body_limit = self.body_limit();
                if let Some(Again { bearer, .. }) = &mut again {
                    *bearer = self.credentials.bearer_on(&request);
                }
                self.observer().attempt_started(
                    &mut trace,
                    self.at(security, 1),
                    &mut request,
                    None,
                );
                with_timeout(&mut request, timeout);
                if again.is_none() {
                    // A streaming body cannot be sent twice: one attempt.
                    break 'call self
                        .once_boxed(&mut trace, http, request, security, body_limit)
                        .await;
                }
                match http.execute(request).await {
                    Ok(resp)
                        if !self.settings.auth_endpoint && !self.asks_for_more(&resp, security) =>
                    {
                        self.observer().attempt_answered(
                            &mut trace,
                            self.at(security, 1),
                            Answered::Response(&resp),
                        );
                        deliver(resp, body_limit, 1)
                    }
                    // Boxed in a function of its own: built inline, the
                    // unboxed future would get a slot in this one's state.
                    other => {
                        self.more_attempts_boxed(
                            &mut trace, http, again, security, other, started, timeout,
                        )
                        .await
                    }
                }
            };
            let end = match &result {
                Ok((resp, _)) => CallEnd::Response(resp),
                Err(Failure::Transport(e, _)) => CallEnd::Failed(e),
                Err(Failure::Refused(e)) => CallEnd::Refused(e),
            };
            self.observer().call_ended(&mut trace, end);
            result
        }
    }

    /// A request that cannot be sent again (a streaming body), sent.
    #[inline(never)]
    fn once_boxed<'a>(
        &'a self,
        trace: &'a mut CallTrace,
        http: &'a reqwest::Client,
        request: Request,
        security: &'a OperationSecurity,
        body_limit: u64,
    ) -> std::pin::Pin<Box<impl Future<Output = Result<(Response, u32), Failure>> + Send + 'a>>
    {
        Box::pin(self.once(trace, http, request, security, body_limit, 1))
    }

    /// Attempt `number`, the last whatever comes back: sent, reported, its
    /// body capped.
    async fn once(
        &self,
        trace: &mut CallTrace,
        http: &reqwest::Client,
        request: Request,
        security: &OperationSecurity,
        body_limit: u64,
        number: u32,
    ) -> Result<(Response, u32), Failure> {
        let result = http.execute(request).await;
        self.observer()
            .attempt_answered(trace, self.at(security, number), Answered::from(&result));
        finish(
            result.and_then(|resp| body::limit(resp, body_limit)),
            number,
        )
    }

    fn body_limit(&self) -> u64 {
        if self.settings.auth_endpoint {
            self.settings.policy.max_token_response_bytes
        } else {
            self.settings.policy.max_response_bytes
        }
    }

    /// Whether an API answer may call for another attempt: a 401 the
    /// session may recover from, or a transient status.
    fn asks_for_more(&self, resp: &Response, security: &OperationSecurity) -> bool {
        let status = resp.status();
        (status == StatusCode::UNAUTHORIZED && !security.is_anonymous())
            || is_transient_status(status)
    }

    /// The timeout to put on each attempt of `request`: none when the
    /// request has its own (it wins) or the HTTP client already bounds
    /// every attempt as tightly — the client the SDK builds does, and then
    /// no per-request setting (an allocation in reqwest) is made.
    fn attempt_timeout(&self, request: &Request) -> Option<Duration> {
        let wanted = self.settings.policy.attempt_timeout?;
        if request.timeout().is_some() || self.settings.client_timeout.is_some_and(|c| c <= wanted)
        {
            return None;
        }
        Some(wanted)
    }

    #[inline(never)]
    #[expect(
        clippy::too_many_arguments,
        reason = "the loop's state, handed over once"
    )]
    fn more_attempts_boxed<'a>(
        &'a self,
        trace: &'a mut CallTrace,
        http: &'a reqwest::Client,
        again: Option<Again<'a>>,
        security: &'a OperationSecurity,
        first: reqwest::Result<Response>,
        started: Instant,
        timeout: Option<Duration>,
    ) -> std::pin::Pin<Box<impl Future<Output = Result<(Response, u32), Failure>> + Send + 'a>>
    {
        Box::pin(self.more_attempts(trace, http, again, security, first, started, timeout))
    }

    /// The request the next attempt sends, credentials on — or `None`
    /// when it cannot be built or authorized again (it was, a moment ago).
    async fn next_request(
        &self,
        again: Again<'_>,
        security: &OperationSecurity,
    ) -> Option<Request> {
        let mut request = match again.request {
            Unsent::Build(build) => build.rebuild()?,
            Unsent::Copy(copy) => copy,
        };
        self.authorize(&mut request, security).await.ok()?;
        if let Some(bearer) = again.bearer {
            request.headers_mut().insert(AUTHORIZATION, bearer);
        }
        Some(request)
    }

    /// The loop after the first attempt's `first` result: ask [`decide`],
    /// do what it says, send the next attempt.
    #[expect(
        clippy::too_many_arguments,
        reason = "the loop's state, handed over once"
    )]
    async fn more_attempts(
        &self,
        trace: &mut CallTrace,
        http: &reqwest::Client,
        again: Option<Again<'_>>,
        security: &OperationSecurity,
        first: reqwest::Result<Response>,
        started: Instant,
        timeout: Option<Duration>,
    ) -> Result<(Response, u32), Failure> {
        let body_limit = self.body_limit();
        let mut number: u32 = 1;
        let mut result = self
            .answered(trace, security, number, first, body_limit)
            .await;
        let request = match again {
            Some(again) => self.next_request(again, security).await,
            // (Not sent by `attempts`: a request that cannot be sent
            // twice goes once.)
            None => None,
        };
        let Some(mut request) = request else {
            return match result {
                Ok(resp) => deliver(resp, body_limit, 1),
                Err(e) => finish(Err(e), 1),
            };
        };
        let mut state = State {
            retries: 0,
            renewed: false,
            safe: self.settings.auth_endpoint
                || security.is_anonymous()
                || is_idempotent(request.method())
                || carries_idempotency_key(security, &request)
                || self.settings.policy.retry_non_idempotent,
            anonymous: security.is_anonymous(),
            renewable: self.credentials.bearer_on(&request).is_some(),
            elapsed: Duration::ZERO,
        };
        loop {
            let answer = match &result {
                Ok(resp) => Answer::Status {
                    status: resp.status(),
                    retry_after: retry_after(resp.headers()),
                },
                Err(e) => {
                    let kind = classify_transport(e);
                    Answer::Transport {
                        retryable: kind.is_some(),
                        reached: kind.unwrap_or(true),
                        timeout: e.is_timeout(),
                    }
                }
            };
            state.elapsed = self.settings.clock.now().saturating_duration_since(started);
            let backoff = self
                .settings
                .policy
                .backoff(state.retries.saturating_add(1));
            let at = self.at(security, number);
            let resend = match decide(answer, state, &self.settings.policy, backoff) {
                Decision::Deliver => {
                    return match result {
                        Ok(resp) => deliver(resp, body_limit, number),
                        Err(e) => finish(Err(e), number),
                    };
                }
                Decision::Renew => {
                    state.renewed = true;
                    self.observer().renewing(at);
                    let used = self.credentials.bearer_on(&request);
                    let renewed = match &used {
                        Some(used) => self.credentials.renew(&mut request, used).await,
                        None => Ok(()),
                    };
                    if let Err(e) = renewed {
                        self.observer().renewal_failed(self.settings.provider, &e);
                        return match result {
                            Ok(resp) => deliver(resp, body_limit, number),
                            Err(e) => finish(Err(e), number),
                        };
                    }
                    drop(result);
                    Resend::Renewal
                }
                Decision::Retry { delay, reason } => {
                    state.retries += 1;
                    self.observer().retrying(at, reason, delay);
                    drop(result);
                    self.settings.sleep.sleep(delay).await;
                    Resend::Retry(reason)
                }
            };
            // The next attempt.
            number += 1;
            self.credentials.refresh_stale_bearer(&mut request).await;
            self.observer().attempt_started(
                trace,
                self.at(security, number),
                &mut request,
                Some(resend),
            );
            let Some(spare) = spare(&request) else {
                with_timeout(&mut request, timeout);
                return self
                    .once(trace, http, request, security, body_limit, number)
                    .await;
            };
            with_timeout(&mut request, timeout);
            let sent = http.execute(request).await;
            result = self
                .answered(trace, security, number, sent, body_limit)
                .await;
            request = spare;
        }
    }

    /// What attempt `number` came back with, reported: a token answer is
    /// read first — one that breaks mid-body is a transport failure,
    /// retried like any other.
    async fn answered(
        &self,
        trace: &mut CallTrace,
        security: &OperationSecurity,
        number: u32,
        result: reqwest::Result<Response>,
        body_limit: u64,
    ) -> reqwest::Result<Response> {
        let result = match result {
            Ok(resp) if self.settings.auth_endpoint => body::buffer(resp, body_limit).await,
            other => other,
        };
        self.observer()
            .attempt_answered(trace, self.at(security, number), Answered::from(&result));
        result
    }
}
