//! A session attaches credentials to requests and applies the retry and
//! 401 policy. Generated clients call it from their hooks; hand-made
//! requests go through [`Session::send`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use reqwest::{Request, Response, StatusCode};
use tracing::{info, warn};

use crate::clock::Clock;
use crate::error::{Error, ErrorKind};
use crate::metrics::Metrics;
use crate::retry::{self, ATTEMPTS_HEADER, RetryPolicy};
use crate::secret::Secret;
use crate::security::{OperationSecurity, Scheme, SchemeKind};
use crate::token::{Token, TokenManager};

/// progenitor adds `api-version: <info.version>` to every request; no
/// provider wants it. A constant: no header-name parsing per call.
const API_VERSION: HeaderName = HeaderName::from_static("api-version");

/// A static API key, turned into its (sensitive) header value once, when
/// the session is built — not on every call.
#[derive(Clone)]
enum ApiKey {
    Header(HeaderValue),
    /// The key has characters a header cannot carry: every call that
    /// needs it fails with a configuration error.
    Invalid,
}

impl ApiKey {
    fn new(key: &Secret) -> ApiKey {
        match HeaderValue::from_str(key.expose()) {
            Ok(mut v) => {
                v.set_sensitive(true);
                ApiKey::Header(v)
            }
            Err(_) => ApiKey::Invalid,
        }
    }
}

/// Credentials for one provider environment, and the policy to use them.
/// Cheap to clone.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    provider: &'static str,
    /// This session sends the provider's token requests: always safe to
    /// retry (no side effect beyond a token), never given a bearer.
    auth_endpoint: bool,
    bearer: Option<Arc<TokenManager>>,
    basic: Option<HeaderValue>,
    api_key: Option<ApiKey>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("provider", &self.inner.provider)
            .field("bearer", &self.inner.bearer.is_some())
            .field("basic", &self.inner.basic.is_some())
            .field("api_key", &self.inner.api_key.is_some())
            .field("policy", &self.inner.policy)
            .finish()
    }
}

/// Builds a [`Session`]; provider crates use it through `Connect`.
#[derive(Debug)]
pub struct SessionBuilder {
    provider: &'static str,
    auth_endpoint: bool,
    bearer: Option<Arc<TokenManager>>,
    basic: Option<HeaderValue>,
    api_key: Option<Secret>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
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
            policy,
            clock,
            metrics,
        }
    }

    /// HTTP Basic credentials (pledg's token call).
    pub fn basic(mut self, user: &str, password: &Secret) -> Self {
        let raw = format!("{user}:{}", password.expose());
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
        let mut v = HeaderValue::from_str(&format!("Basic {encoded}"))
            .unwrap_or_else(|_| HeaderValue::from_static(""));
        v.set_sensitive(true);
        self.basic = Some(v);
        self
    }

    /// A static API key; the header name comes from the spec's scheme.
    pub fn api_key(mut self, key: Secret) -> Self {
        self.api_key = Some(key);
        self
    }

    /// Mark this as the session of the provider's token endpoint.
    pub(crate) fn auth_endpoint(mut self) -> Self {
        self.auth_endpoint = true;
        self
    }

    pub(crate) fn bearer(mut self, manager: Arc<TokenManager>) -> Self {
        self.bearer = Some(manager);
        self
    }

    pub fn build(self) -> Session {
        Session {
            inner: Arc::new(Inner {
                provider: self.provider,
                auth_endpoint: self.auth_endpoint && self.bearer.is_none(),
                bearer: self.bearer,
                basic: self.basic,
                api_key: self.api_key.as_ref().map(ApiKey::new),
                policy: self.policy,
                clock: self.clock,
                metrics: self.metrics,
            }),
        }
    }
}

impl Session {
    pub fn provider(&self) -> &'static str {
        self.inner.provider
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.inner.policy
    }

    /// This session plus a static API key (same token cache, same policy).
    pub fn with_api_key(&self, key: Secret) -> Session {
        Session {
            inner: Arc::new(Inner {
                provider: self.inner.provider,
                auth_endpoint: self.inner.auth_endpoint,
                bearer: self.inner.bearer.clone(),
                basic: self.inner.basic.clone(),
                api_key: Some(ApiKey::new(&key)),
                policy: self.inner.policy.clone(),
                clock: Arc::clone(&self.inner.clock),
                metrics: Arc::clone(&self.inner.metrics),
            }),
        }
    }

    /// The token cache behind this session's bearer credential.
    pub fn token_manager(&self) -> Option<&Arc<TokenManager>> {
        self.inner.bearer.as_ref()
    }

    /// A current bearer token, for requests made by hand.
    pub async fn bearer(&self) -> Result<Arc<Token>, Error> {
        match &self.inner.bearer {
            Some(m) => m.token().await,
            None => Err(Error::config(
                self.inner.provider,
                "no bearer-token credentials configured",
            )),
        }
    }

    fn can_apply(&self, scheme: &Scheme) -> bool {
        match scheme.kind {
            SchemeKind::Bearer => self.inner.bearer.is_some(),
            SchemeKind::Basic => self.inner.basic.is_some(),
            SchemeKind::ApiKeyHeader(_) => self.inner.api_key.is_some(),
            SchemeKind::Unsupported => false,
        }
    }

    /// Put the credential `security` asks for on `request` (the first
    /// alternative whose credentials are configured). Anonymous operations
    /// — the login calls — never carry a credential.
    pub async fn authorize(
        &self,
        request: &mut Request,
        security: &OperationSecurity,
    ) -> Result<(), Error> {
        let result = self.attach(request, security).await;
        if let Err(e) = &result {
            crate::call::record_auth_failure(e);
        }
        result
    }

    async fn attach(
        &self,
        request: &mut Request,
        security: &OperationSecurity,
    ) -> Result<(), Error> {
        let headers = request.headers_mut();
        headers.remove(API_VERSION);
        if security.is_anonymous() {
            headers.remove(AUTHORIZATION);
            return Ok(());
        }
        let Some(alternative) = security
            .alternatives
            .iter()
            .find(|alt| alt.iter().all(|s| self.can_apply(s)))
        else {
            let wanted: Vec<String> = security
                .alternatives
                .iter()
                .map(|alt| alt.iter().map(|s| s.name).collect::<Vec<_>>().join(" + "))
                .collect();
            return Err(Error::config(
                self.inner.provider,
                format!(
                    "operation `{}` needs credentials for one of [{}], and none is configured",
                    security.operation_id,
                    wanted.join(" | ")
                ),
            ));
        };
        for scheme in alternative.iter() {
            match scheme.kind {
                SchemeKind::Bearer => {
                    let token = self.bearer().await?;
                    request
                        .headers_mut()
                        .insert(AUTHORIZATION, token.header_value().clone());
                }
                SchemeKind::Basic => {
                    if let Some(v) = &self.inner.basic {
                        request.headers_mut().insert(AUTHORIZATION, v.clone());
                    }
                }
                SchemeKind::ApiKeyHeader(name) => {
                    if let Some(key) = &self.inner.api_key {
                        let ApiKey::Header(value) = key else {
                            return Err(Error::config(
                                self.inner.provider,
                                "the API key has characters not allowed in a header",
                            ));
                        };
                        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                            Error::config(self.inner.provider, format!("bad header name `{name}`"))
                        })?;
                        request.headers_mut().insert(name, value.clone());
                    }
                }
                SchemeKind::Unsupported => {}
            }
        }
        Ok(())
    }

    /// Send `request` with the retry and 401 policy. Returns the final
    /// response (with an `x-sdk-attempts` header) whatever its status; only
    /// transport failures after the allowed retries are errors. This is
    /// what generated clients' `exec` hook calls.
    pub async fn execute(
        &self,
        http: &reqwest::Client,
        request: Request,
        security: &OperationSecurity,
    ) -> reqwest::Result<Response> {
        self.execute_inner(http, request, security)
            .await
            .map(|(resp, _)| resp)
            .map_err(|(e, _)| e)
    }

    async fn execute_inner(
        &self,
        http: &reqwest::Client,
        mut request: Request,
        security: &OperationSecurity,
    ) -> Result<(Response, u32), (reqwest::Error, u32)> {
        let provider = self.inner.provider;
        let policy = &self.inner.policy;
        let started = self.inner.clock.now();
        let safe = self.inner.auth_endpoint
            || security.is_anonymous()
            || retry::is_idempotent(request.method())
            || policy.retry_non_idempotent;
        let mut attempt: u32 = 0;
        let mut retries: u32 = 0;
        let mut reauthenticated = false;
        loop {
            attempt += 1;
            self.inner.metrics.inc_requests();
            let spare = request.try_clone();
            let result = match http.execute(request).await {
                Ok(resp) => buffer(resp).await,
                Err(e) => Err(e),
            };
            let Some(next) = spare else {
                // A streaming body cannot be sent twice.
                return finish(result, attempt);
            };
            request = next;
            let within_deadline =
                |d: Duration| self.inner.clock.now() + d <= started + policy.total_deadline;
            match result {
                Ok(resp)
                    if resp.status() == StatusCode::UNAUTHORIZED
                        && !reauthenticated
                        && !security.is_anonymous() =>
                {
                    let Some(manager) = &self.inner.bearer else {
                        return finish(Ok(resp), attempt);
                    };
                    let Some(used) = request
                        .headers()
                        .get(AUTHORIZATION)
                        .filter(|v| v.as_bytes().starts_with(b"Bearer "))
                        .cloned()
                    else {
                        return finish(Ok(resp), attempt);
                    };
                    reauthenticated = true;
                    self.inner.metrics.inc_reauthentications();
                    info!(
                        provider,
                        operation = security.operation_id,
                        attempt,
                        "401: dropping the token, re-authenticating, retrying once"
                    );
                    match manager.renew_after_unauthorized(&used).await {
                        Ok(token) => {
                            request
                                .headers_mut()
                                .insert(AUTHORIZATION, token.header_value().clone());
                        }
                        Err(e) => {
                            warn!(provider, kind = ?e.kind(), "re-authentication after 401 failed: {e}");
                            return finish(Ok(resp), attempt);
                        }
                    }
                }
                Ok(resp)
                    if retry::is_transient_status(resp.status())
                        && (safe || retry::is_unprocessed_status(resp.status()))
                        && retries < policy.max_retries =>
                {
                    retries += 1;
                    let delay = policy.delay(retries, Some(resp.headers()));
                    if !within_deadline(delay) {
                        return finish(Ok(resp), attempt);
                    }
                    self.inner.metrics.inc_retries();
                    warn!(
                        provider,
                        operation = security.operation_id,
                        attempt,
                        status = resp.status().as_u16(),
                        delay_ms = delay.as_millis() as u64,
                        "transient HTTP status; retrying"
                    );
                    drop(resp);
                    tokio::time::sleep(delay).await;
                }
                Err(e)
                    if retries < policy.max_retries
                        && retry::classify_transport(&e)
                            .is_some_and(|reached| safe || !reached) =>
                {
                    retries += 1;
                    let delay = policy.delay(retries, None);
                    if !within_deadline(delay) {
                        return finish(Err(e), attempt);
                    }
                    self.inner.metrics.inc_retries();
                    warn!(
                        provider,
                        operation = security.operation_id,
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "transport failure ({}); retrying",
                        transport_kind(&e)
                    );
                    tokio::time::sleep(delay).await;
                }
                other => return finish(other, attempt),
            }
        }
    }

    /// Send a hand-made request (an endpoint not, or not yet, in a spec)
    /// with a bearer token and the same retry and 401 policy. A final 401
    /// or 403, or a transient failure after the retries, is an error.
    pub async fn send(&self, http: &reqwest::Client, request: Request) -> Result<Response, Error> {
        self.send_with(http, request, &OperationSecurity::BEARER)
            .await
    }

    /// [`Session::send`] with an explicit security requirement.
    pub async fn send_with(
        &self,
        http: &reqwest::Client,
        mut request: Request,
        security: &OperationSecurity,
    ) -> Result<Response, Error> {
        let provider = self.inner.provider;
        self.authorize(&mut request, security).await?;
        match self.execute_inner(http, request, security).await {
            Ok((resp, attempts)) => {
                let status = resp.status();
                let kind = match status.as_u16() {
                    401 => Some(ErrorKind::Unauthorized),
                    403 => Some(ErrorKind::Forbidden),
                    _ if retry::is_transient_status(status) => Some(ErrorKind::Transient),
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
                    .with_attempts(attempts)),
                    None => Ok(resp),
                }
            }
            Err((e, attempts)) => Err(Error::from_transport(provider, &e, attempts)),
        }
    }
}

/// Read the whole body now, so a connection that breaks mid-body is a
/// transport failure the retry policy sees (and not an error after it).
async fn buffer(resp: Response) -> reqwest::Result<Response> {
    let status = resp.status();
    let version = resp.version();
    let headers = resp.headers().clone();
    let body = resp.bytes().await?;
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(Response::from(rebuilt))
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

fn finish(
    result: reqwest::Result<Response>,
    attempts: u32,
) -> Result<(Response, u32), (reqwest::Error, u32)> {
    match result {
        Ok(mut resp) => {
            resp.headers_mut()
                .insert(ATTEMPTS_HEADER, HeaderValue::from(attempts));
            Ok((resp, attempts))
        }
        Err(e) => Err((e, attempts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::security::Scheme;

    const API_KEY_OP: OperationSecurity = OperationSecurity {
        operation_id: "list",
        alternatives: &[&[Scheme {
            name: "apiKey",
            kind: SchemeKind::ApiKeyHeader("Api-key"),
        }]],
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
        let mut r = Request::new(
            reqwest::Method::GET,
            "http://127.0.0.1/x".parse().expect("url"),
        );
        r.headers_mut()
            .insert("api-version", HeaderValue::from_static("1.0"));
        r
    }

    #[tokio::test]
    async fn api_key_header_is_sensitive_and_api_version_goes() {
        let mut r = request();
        session("k-123")
            .authorize(&mut r, &API_KEY_OP)
            .await
            .unwrap();
        let v = r.headers().get("api-key").expect("the key header");
        assert_eq!(v, "k-123");
        assert!(v.is_sensitive());
        assert!(r.headers().get("api-version").is_none());
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
        let s = session("bad\nkey");
        for _ in 0..2 {
            let mut r = request();
            let e = s.authorize(&mut r, &API_KEY_OP).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config);
            assert!(r.headers().get("api-key").is_none());
        }
    }
}
