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

use crate::body;
use crate::clock::Clock;
use crate::error::{Error, ErrorKind};
use crate::metrics::Metrics;
use crate::retry::{self, ATTEMPTS_HEADER, Delay, RetryPolicy};
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
    /// Secret of request signatures (`SchemeKind::SignedQueryJwt`).
    signing: Option<Secret>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    /// Credentials go only to this origin (the base URL's).
    origin: Option<url::Origin>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("provider", &self.inner.provider)
            .field("bearer", &self.inner.bearer.is_some())
            .field("basic", &self.inner.basic.is_some())
            .field("api_key", &self.inner.api_key.is_some())
            .field("signing", &self.inner.signing.is_some())
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
    /// Secret of request signatures (`SchemeKind::SignedQueryJwt`).
    signing: Option<Secret>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    origin: Option<url::Origin>,
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
            metrics,
            origin: None,
        }
    }

    /// Attach credentials only to requests for `base_url`'s origin
    /// (scheme, host, port); anything else is a `Config` error.
    pub fn origin_of(mut self, base_url: &str) -> Self {
        self.origin = url::Url::parse(base_url).ok().map(|u| u.origin());
        self
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
                signing: self.signing,
                policy: self.policy,
                clock: self.clock,
                metrics: self.metrics,
                origin: self.origin,
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
                signing: self.inner.signing.clone(),
                policy: self.inner.policy.clone(),
                clock: Arc::clone(&self.inner.clock),
                metrics: Arc::clone(&self.inner.metrics),
                origin: self.inner.origin.clone(),
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
            SchemeKind::SignedQueryJwt { .. } => self.inner.signing.is_some(),
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

    /// Credentials never leave the configured origin, and never ride on a
    /// URL that embeds credentials of its own.
    fn check_origin(&self, url: &url::Url) -> Result<(), Error> {
        let Some(origin) = &self.inner.origin else {
            return Ok(());
        };
        let target = url.origin();
        if target != *origin {
            return Err(Error::config(
                self.inner.provider,
                format!(
                    "refusing to attach credentials to a request for {}: the configured origin is {}",
                    target.ascii_serialization(),
                    origin.ascii_serialization()
                ),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::config(
                self.inner.provider,
                format!(
                    "refusing to attach credentials to a request for {} whose URL embeds user information",
                    target.ascii_serialization()
                ),
            ));
        }
        Ok(())
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
        self.check_origin(request.url())?;
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
        if let Some(checksum) = &security.body_checksum {
            let secret = self.inner.signing.as_ref().ok_or_else(|| {
                Error::config(
                    self.inner.provider,
                    format!(
                        "operation `{}` needs a checksum secret, and none is configured",
                        security.operation_id
                    ),
                )
            })?;
            let body = request.body().and_then(|b| b.as_bytes()).unwrap_or(b"");
            let signed =
                crate::signing::checksum_into_body(self.inner.provider, secret, checksum, body)?;
            *request.body_mut() = Some(signed.into());
        }
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
                SchemeKind::SignedQueryJwt {
                    param,
                    claim,
                    lifetime_secs,
                } => {
                    if let Some(secret) = &self.inner.signing {
                        let body = request.body().and_then(|b| b.as_bytes()).unwrap_or(b"");
                        let jwt = crate::signing::sign_body_jwt(
                            self.inner.provider,
                            secret,
                            claim,
                            Duration::from_secs(lifetime_secs),
                            body,
                            self.inner.clock.wall(),
                        )?;
                        request.url_mut().query_pairs_mut().append_pair(param, &jwt);
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
            // A signed URL carries the signature: keep it out of errors.
            .map_err(|(e, _)| {
                if security.signs_url() {
                    e.without_url()
                } else {
                    e
                }
            })
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
            || carries_idempotency_key(security, &request)
            || policy.retry_non_idempotent;
        let mut attempt: u32 = 0;
        let mut retries: u32 = 0;
        let mut reauthenticated = false;
        // An application's own client may have no timeout: every attempt
        // gets one (a request's own timeout wins).
        if request.timeout().is_none() {
            *request.timeout_mut() = policy.attempt_timeout;
        }
        let body_limit = if self.inner.auth_endpoint {
            policy.max_token_response_bytes
        } else {
            policy.max_response_bytes
        };
        loop {
            attempt += 1;
            if attempt > 1 {
                self.refresh_stale_bearer(&mut request).await;
            }
            self.inner.metrics.inc_requests();
            let Some(spare) = request.try_clone() else {
                // A streaming body cannot be sent twice: one attempt, and
                // the body goes to the caller capped, not buffered.
                let result = match http.execute(request).await {
                    Ok(resp) => body::limit(resp, body_limit).await,
                    Err(e) => Err(e),
                };
                return finish(result, attempt);
            };
            let result = match http.execute(request).await {
                Ok(resp) => body::buffer(resp, body_limit).await,
                Err(e) => Err(e),
            };
            request = spare;
            let within_deadline =
                |d: Duration| policy.within_deadline(started, self.inner.clock.now(), d);
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
                    let delay = match policy.delay(retries, Some(resp.headers())) {
                        Delay::Retry(d) if within_deadline(d) => d,
                        // Asked to wait past the cap or the deadline: no
                        // early retry; the caller sees the response (and
                        // `Error::retry_after`).
                        _ => return finish(Ok(resp), attempt),
                    };
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
                    let delay = policy.backoff(retries);
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

    /// Before a retry: a bearer that went stale while the request waited
    /// (backoff, `Retry-After`) is swapped for the current token, so the
    /// retry does not arrive expired.
    async fn refresh_stale_bearer(&self, request: &mut Request) {
        let Some(manager) = &self.inner.bearer else {
            return;
        };
        let Some(used) = request
            .headers()
            .get(AUTHORIZATION)
            .filter(|v| v.as_bytes().starts_with(b"Bearer "))
        else {
            return;
        };
        if let Ok(token) = manager.token().await
            && token.header_value() != used
        {
            request
                .headers_mut()
                .insert(AUTHORIZATION, token.header_value().clone());
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
                    .with_attempts(attempts)
                    .with_transient_hint(resp.headers())),
                    None => Ok(resp),
                }
            }
            Err((e, attempts)) => Err(Error::from_transport(provider, &e, attempts)),
        }
    }
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
        idempotency_key: None,
        body_checksum: None,
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
