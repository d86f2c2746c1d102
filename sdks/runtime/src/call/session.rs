//! A session: the credentials of one provider environment and the policy
//! to use them — what generated clients and hand-made requests call. The
//! calls themselves run in `attempts.rs`; the credentials go on in
//! `credentials.rs`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Request, Response};

use super::attempts::Caller;
use super::classify::is_transient_status;
use super::credentials::{Bearer, CredentialOrigin, Credentials, Static};
use super::exchange::Failure;
use super::settings::CallSettings;
use crate::base::error::{Error, ErrorKind, Operation, OperationError};
use crate::base::policy::RetryPolicy;
use crate::base::secret::Secret;
use crate::base::security::OperationSecurity;
use crate::base::time::{Clock, Sleep, TokioSleep};
use crate::observe::metrics::{Metrics, MetricsSnapshot};
use crate::observe::telemetry::Recorder;
use crate::token::{Token, TokenManager, TokenSource};

/// Credentials for one provider environment, and the policy to use them.
/// Cheap to clone.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Caller>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.inner.credentials;
        f.debug_struct("Session")
            .field("provider", &self.inner.settings.provider)
            .field("bearer", &c.bearer.is_some())
            .field("basic", &c.basic.is_some())
            .field("api_key", &c.api_key.is_some())
            .field("signing", &c.signing.is_some())
            .field("policy", &self.inner.settings.policy)
            .finish()
    }
}

/// Builds a [`Session`]; provider crates use it through `Connect`.
#[derive(Debug)]
pub struct SessionBuilder {
    provider: &'static str,
    auth_endpoint: bool,
    bearer: Option<Bearer>,
    basic: Option<Static>,
    api_key: Option<Secret>,
    /// Secret of request signatures (`SchemeKind::SignedQueryJwt`).
    signing: Option<Secret>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    sleep: Arc<dyn Sleep>,
    metrics: Arc<Metrics>,
    origin: Option<Arc<CredentialOrigin>>,
    client_timeout: Option<Duration>,
    telemetry: Recorder,
}

impl SessionBuilder {
    pub(crate) fn new(
        provider: &'static str,
        policy: RetryPolicy,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Self {
        SessionBuilder {
            provider,
            auth_endpoint: false,
            bearer: None,
            basic: None,
            api_key: None,
            signing: None,
            policy,
            clock,
            sleep: Arc::new(TokioSleep),
            metrics,
            origin: None,
            client_timeout: None,
            telemetry: Recorder::default(),
        }
    }

    /// Where the session's spans and metrics go.
    pub(crate) fn telemetry(mut self, telemetry: Recorder) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// The timer retries wait on (default: Tokio's).
    pub fn sleep(mut self, sleep: Arc<dyn Sleep>) -> Self {
        self.sleep = sleep;
        self
    }

    /// The HTTP client bounds every request by `timeout` itself: attempts
    /// need no timeout of their own when the policy's is not shorter.
    pub(crate) fn client_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.client_timeout = timeout;
        self
    }

    /// Attach credentials only to requests for `base_url`'s origin
    /// (scheme, host, port); anything else is a `Config` error.
    pub fn origin_of(mut self, base_url: &str) -> Self {
        self.origin = url::Url::parse(base_url)
            .ok()
            .map(|u| Arc::new(CredentialOrigin::new(u.origin())));
        self
    }

    /// HTTP Basic credentials (pledg's token call, its dashboard). An
    /// empty user or password is never sent: a call that needs them is a
    /// `Config` error.
    pub fn basic(mut self, user: &str, password: &Secret) -> Self {
        self.basic = Some(Static::basic(user, password));
        self
    }

    /// A static API key; the header name comes from the spec's scheme.
    pub fn api_key(mut self, key: Secret) -> Self {
        self.api_key = Some(key);
        self
    }

    /// The secret that signs requests (pledg's `signature` JWT).
    pub fn signing_secret(mut self, secret: Secret) -> Self {
        self.signing = Some(secret);
        self
    }

    /// Mark this as the session of the provider's token endpoint.
    pub(crate) fn auth_endpoint(mut self) -> Self {
        self.auth_endpoint = true;
        self
    }

    /// Bearer tokens from `manager` (the principal's cache), fetched with
    /// `source` (this client's flow, fetch timeout and timer).
    pub(crate) fn bearer(mut self, manager: Arc<TokenManager>, source: Arc<TokenSource>) -> Self {
        self.bearer = Some(Bearer::new(manager, source));
        self
    }

    /// The session, with the credentials and settings given so far.
    pub fn build(self) -> Session {
        Session {
            inner: Arc::new(Caller {
                settings: CallSettings {
                    provider: self.provider,
                    auth_endpoint: self.auth_endpoint && self.bearer.is_none(),
                    policy: self.policy,
                    clock: self.clock,
                    sleep: self.sleep,
                    metrics: self.metrics,
                    client_timeout: self.client_timeout,
                    telemetry: self.telemetry,
                },
                credentials: Credentials {
                    provider: self.provider,
                    bearer: self.bearer,
                    basic: self.basic,
                    api_key: self.api_key.as_ref().map(Static::api_key),
                    signing: self.signing,
                    origin: self.origin,
                },
            }),
        }
    }
}

impl Session {
    /// The provider's name (its profile's: `"exirom"`, …).
    pub fn provider(&self) -> &'static str {
        self.inner.settings.provider
    }

    /// This session's own counters (requests, retries, 401 recoveries);
    /// the token counters live with the cache: [`Session::metrics_snapshot`].
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.settings.metrics
    }

    /// This session's counters, with the token counters (logins,
    /// refreshes, failed fetches, invalidations) of its principal's cache
    /// — the same for every client of the principal, whichever triggered
    /// them.
    pub fn metrics_snapshot(&self) -> MetricsSnapshot {
        let own = self.inner.settings.metrics.snapshot();
        match &self.inner.credentials.bearer {
            Some(b) => own.with_token_counters(&b.manager.metrics().snapshot()),
            None => own,
        }
    }

    /// The retry policy of this session's calls.
    pub fn policy(&self) -> &RetryPolicy {
        &self.inner.settings.policy
    }

    /// This session plus a static API key (same token cache, same policy).
    pub fn with_api_key(&self, key: Secret) -> Session {
        let inner = &self.inner;
        Session {
            inner: Arc::new(Caller {
                settings: inner.settings.clone(),
                credentials: Credentials {
                    api_key: Some(Static::api_key(&key)),
                    ..inner.credentials.clone()
                },
            }),
        }
    }

    /// The token cache behind this session's bearer credential.
    pub fn token_manager(&self) -> Option<&Arc<TokenManager>> {
        self.inner.credentials.bearer.as_ref().map(|b| &b.manager)
    }

    /// A current bearer token, for requests made by hand.
    ///
    /// # Errors
    ///
    /// `Config` when the session has no bearer credential; otherwise what
    /// the token fetch failed with (`InvalidCredentials`, `Transient`,
    /// `MalformedResponse`, …).
    pub async fn bearer(&self) -> Result<Arc<Token>, Error> {
        self.inner.credentials.bearer().await
    }

    /// Put the credential `security` asks for on `request` (the first
    /// alternative whose credentials are configured). Anonymous operations
    /// — the login calls — never carry a credential.
    ///
    /// # Errors
    ///
    /// `Config` when no alternative's credentials are configured, or the
    /// request is not for the credentials' origin; `Signing` when a
    /// signature or checksum cannot be computed; a token fetch's error.
    pub async fn authorize(
        &self,
        request: &mut Request,
        security: &OperationSecurity,
    ) -> Result<(), Error> {
        self.inner.authorize(request, security).await
    }

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
        let operation = Operation::new(self.inner.settings.provider, security.operation_id);
        match build() {
            Ok(request) => Either::Left(
                self.inner
                    .execute(http, request, security, Some(build))
                    .map(move |result| typed_outcome(result, operation)),
            ),
            Err(e) => Either::Right(std::future::ready(Err(operation.fail(e)))),
        }
    }

    /// Send a hand-made request (an endpoint not, or not yet, in a spec)
    /// with a bearer token and the same retry and 401 policy.
    ///
    /// # Errors
    ///
    /// A final 401 (`Unauthorized`), 403 (`Forbidden`), or transient status
    /// or transport failure after the retries (`Transient`); what
    /// [`authorize`](Session::authorize) fails with. Any other status is
    /// the response.
    pub fn send<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: Request,
    ) -> impl Future<Output = Result<Response, Error>> + Send + 'a {
        // Not an `async fn`: no second copy of the request in a wrapper
        // future.
        self.send_with(http, request, &OperationSecurity::BEARER)
    }

    /// [`Session::send`] with an explicit security requirement.
    ///
    /// # Errors
    ///
    /// As [`Session::send`].
    pub fn send_with<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: Request,
        security: &'a OperationSecurity,
    ) -> impl Future<Output = Result<Response, Error>> + Send + 'a {
        use futures::FutureExt as _;
        // One future, authorization included: a wrapper `async fn` would
        // hold a second copy of the request and be moved once more.
        self.inner
            .execute(http, request, security, None)
            .map(move |result| self.outcome(result))
    }

    /// A final 401, 403 or transient status is an error for a hand-made
    /// request.
    fn outcome(&self, result: Result<(Response, u32), Failure>) -> Result<Response, Error> {
        let provider = self.inner.settings.provider;
        match result {
            Ok((resp, attempts)) => {
                let status = resp.status();
                let kind = match status.as_u16() {
                    401 => Some(ErrorKind::Unauthorized),
                    403 => Some(ErrorKind::Forbidden),
                    _ if is_transient_status(status) => Some(ErrorKind::Transient),
                    _ => None,
                };
                match kind {
                    Some(kind) => Err(Error::new(
                        kind,
                        provider,
                        format!(
                            "{} {}",
                            status.as_u16(),
                            status.canonical_reason().unwrap_or("")
                        ),
                    )
                    .with_status(status.as_u16())
                    .with_attempts(attempts)
                    .with_transient_hint(resp.headers())),
                    None => Ok(resp),
                }
            }
            Err(Failure::Transport(e, attempts)) => {
                Err(Error::from_transport(provider, e, attempts))
            }
            Err(Failure::Refused(e)) => Err(e),
        }
    }
}

/// A call's result as a generated operation returns it.
fn typed_outcome<E>(
    result: Result<(Response, u32), Failure>,
    operation: Operation,
) -> Result<Response, OperationError<E>> {
    match result {
        Ok((resp, _)) => Ok(resp),
        Err(Failure::Transport(e, attempts)) => {
            Err(operation.wrap(Error::from_transport(operation.provider(), e, attempts)))
        }
        Err(Failure::Refused(e)) => Err(operation.wrap(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::AUTHORIZATION;

    use crate::base::security::{Scheme, SchemeKind};
    use crate::base::time::SystemClock;

    const API_KEY_OP: OperationSecurity = OperationSecurity {
        operation_id: "list",
        alternatives: &[&[Scheme {
            name: "apiKey",
            kind: SchemeKind::ApiKeyHeader("Api-key"),
        }]],
        idempotency_key: None,
        body_checksum: None,
        url_template: None,
    };

    fn session(key: &str) -> Session {
        SessionBuilder::new(
            "test",
            RetryPolicy::default(),
            Arc::new(SystemClock),
            Arc::new(Metrics::default()),
        )
        .api_key(Secret::new(key))
        .build()
    }

    fn request() -> Request {
        Request::new(
            reqwest::Method::GET,
            "http://127.0.0.1/x".parse().expect("url"),
        )
    }

    #[tokio::test]
    async fn api_key_header_is_sensitive() {
        let mut r = request();
        session("k-123")
            .authorize(&mut r, &API_KEY_OP)
            .await
            .unwrap();
        let v = r.headers().get("api-key").expect("the key header");
        assert_eq!(v, "k-123");
        assert!(v.is_sensitive());
        // A session derived with another key uses that one.
        let mut r = request();
        session("k-123")
            .with_api_key(Secret::new("k-456"))
            .authorize(&mut r, &API_KEY_OP)
            .await
            .unwrap();
        assert_eq!(r.headers()["api-key"], "k-456");
    }

    #[tokio::test]
    async fn an_api_key_a_header_cannot_carry_is_a_config_error_per_call() {
        // Empty (or blank) keys too: an empty credential header is never sent.
        for key in ["bad\nkey", "", "  "] {
            let s = session(key);
            for _ in 0..2 {
                let mut r = request();
                let e = s.authorize(&mut r, &API_KEY_OP).await.unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Config);
                assert!(r.headers().get("api-key").is_none());
            }
        }
    }

    /// An empty Basic user or password, or one a header cannot carry, is
    /// never sent: each call that needs it is a `Config` error.
    #[tokio::test]
    async fn an_empty_or_unusable_basic_pair_is_never_sent() {
        const BASIC_OP: OperationSecurity = OperationSecurity {
            operation_id: "dashboard",
            alternatives: &[&[Scheme {
                name: "dashboardBasic",
                kind: SchemeKind::Basic,
            }]],
            idempotency_key: None,
            body_checksum: None,
            url_template: None,
        };
        let with = |user: &str, password: &str| {
            SessionBuilder::new(
                "test",
                RetryPolicy::default(),
                Arc::new(SystemClock),
                Arc::new(Metrics::default()),
            )
            .basic(user, &Secret::new(password))
            .build()
        };
        for (user, password) in [
            ("u", ""),
            ("", "p"),
            (" ", "p"),
            ("u", " "),
            ("a:b", "p"),
            ("u", "p\r\n"),
        ] {
            let mut r = request();
            let e = with(user, password)
                .authorize(&mut r, &BASIC_OP)
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{user:?} {password:?}");
            assert!(r.headers().get(AUTHORIZATION).is_none());
        }
        let mut r = request();
        with("user", "pa:ss")
            .authorize(&mut r, &BASIC_OP)
            .await
            .unwrap();
        let v = &r.headers()[AUTHORIZATION];
        assert_eq!(v, "Basic dXNlcjpwYTpzcw==");
        assert!(v.is_sensitive());
    }
}
