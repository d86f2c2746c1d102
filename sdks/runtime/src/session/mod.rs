//! A session attaches credentials to requests and applies the retry and
//! 401 policy. Generated clients call it from their hooks; hand-made
//! requests go through [`Session::send`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use reqwest::{Request, Response};

use crate::error::{Error, ErrorKind};
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::retry::{self, RetryPolicy};
use crate::secret::Secret;
use crate::security::{OperationSecurity, Scheme, SchemeKind};
use crate::telemetry::Recorder;
use crate::time::{Clock, Sleep, TokioSleep};
use crate::token::{Token, TokenFuture, TokenManager, TokenSource};

mod attempts;

/// A bearer credential: the principal's shared cache, and this client's
/// way of filling it (its flow, fetch timeout and timer).
#[derive(Clone, Debug)]
pub(crate) struct Bearer {
    manager: Arc<TokenManager>,
    source: Arc<TokenSource>,
}

impl Bearer {
    pub(crate) fn new(manager: Arc<TokenManager>, source: Arc<TokenSource>) -> Bearer {
        Bearer { manager, source }
    }

    fn token(&self) -> TokenFuture<'_> {
        self.manager.token_from(&self.source)
    }

    #[inline]
    fn fresh_header(&self) -> Option<HeaderValue> {
        self.manager.fresh_header()
    }

    async fn renew_after_unauthorized(&self, used: &HeaderValue) -> Result<Arc<Token>, Error> {
        self.manager
            .renew_after_unauthorized_from(used, &self.source)
            .await
    }
}

/// A static credential (an API key, a Basic pair), turned into its
/// (sensitive) header value once, when the session is built — not on every
/// call.
#[derive(Clone)]
enum Static {
    Header(HeaderValue),
    /// The credential has characters a header cannot carry: every call
    /// that needs it fails with a configuration error.
    Invalid,
    /// The credential (or a part of it) is empty: never sent.
    Empty,
}

impl fmt::Debug for Static {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Static::Header(_) => "Header([redacted])",
            Static::Invalid => "Invalid",
            Static::Empty => "Empty",
        })
    }
}

impl Static {
    fn api_key(key: &Secret) -> Static {
        if key.expose().trim().is_empty() {
            return Static::Empty;
        }
        Static::sensitive(HeaderValue::from_str(key.expose()))
    }

    fn basic(user: &str, password: &Secret) -> Static {
        if user.trim().is_empty() || password.expose().trim().is_empty() {
            return Static::Empty;
        }
        if user.contains(':')
            || !user
                .bytes()
                .chain(password.expose().bytes())
                .all(|b| !b.is_ascii_control())
        {
            return Static::Invalid;
        }
        let raw = format!("{user}:{}", password.expose());
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
        Static::sensitive(HeaderValue::from_str(&format!("Basic {encoded}")))
    }

    fn sensitive(value: Result<HeaderValue, reqwest::header::InvalidHeaderValue>) -> Static {
        match value {
            Ok(mut v) => {
                v.set_sensitive(true);
                Static::Header(v)
            }
            Err(_) => Static::Invalid,
        }
    }

    /// The header value, or why there is none.
    fn value(&self, provider: &'static str, what: &str) -> Result<&HeaderValue, Error> {
        match self {
            Static::Header(value) => Ok(value),
            Static::Invalid => Err(Error::config(
                provider,
                format!("the {what} has characters not allowed in a header"),
            )),
            Static::Empty => Err(Error::config(
                provider,
                format!("the {what} is empty; refusing to send an empty credential"),
            )),
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
    bearer: Option<Bearer>,
    basic: Option<Static>,
    api_key: Option<Static>,
    /// Secret of request signatures (`SchemeKind::SignedQueryJwt`).
    signing: Option<Secret>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    /// The timer retries wait on.
    sleep: Arc<dyn Sleep>,
    metrics: Arc<Metrics>,
    /// Credentials go only to this origin (the base URL's).
    origin: Option<Arc<CredentialOrigin>>,
    /// The timeout the HTTP client itself puts on every request, when
    /// known (the client the SDK builds); `None` for an application's.
    client_timeout: Option<Duration>,
    /// Where this client's spans and metrics go.
    telemetry: Recorder,
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

/// The one origin credentials may go to.
#[derive(Debug)]
struct CredentialOrigin {
    origin: url::Origin,
    /// Its serialization (`https://host[:port]`), when it has one: a URL
    /// whose text up to the path is exactly this has the same scheme,
    /// host and port and no user information — one comparison of bytes
    /// on every call instead of the field-by-field check.
    prefix: Option<Box<str>>,
}

impl CredentialOrigin {
    fn new(origin: url::Origin) -> CredentialOrigin {
        let prefix = match &origin {
            url::Origin::Tuple(..) => Some(origin.ascii_serialization().into_boxed_str()),
            url::Origin::Opaque(_) => None,
        };
        CredentialOrigin { origin, prefix }
    }

    /// The fast check: true only for a URL of this origin without user
    /// information (false says nothing: the full check decides).
    fn surely_allows(&self, url: &url::Url) -> bool {
        self.prefix
            .as_deref()
            .is_some_and(|p| &url[..url::Position::BeforePath] == p)
    }
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

    pub(crate) fn bearer(mut self, bearer: Bearer) -> Self {
        self.bearer = Some(bearer);
        self
    }

    pub fn build(self) -> Session {
        Session {
            inner: Arc::new(Inner {
                provider: self.provider,
                auth_endpoint: self.auth_endpoint && self.bearer.is_none(),
                bearer: self.bearer,
                basic: self.basic,
                api_key: self.api_key.as_ref().map(Static::api_key),
                signing: self.signing,
                policy: self.policy,
                clock: self.clock,
                sleep: self.sleep,
                metrics: self.metrics,
                origin: self.origin,
                client_timeout: self.client_timeout,
                telemetry: self.telemetry,
            }),
        }
    }
}

impl Session {
    pub fn provider(&self) -> &'static str {
        self.inner.provider
    }

    /// This session's own counters (requests, retries, 401 recoveries);
    /// the token counters live with the cache: [`Session::metrics_snapshot`].
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// This session's counters, with the token counters (logins,
    /// refreshes, failed fetches, invalidations) of its principal's cache
    /// — the same for every client of the principal, whichever triggered
    /// them.
    pub fn metrics_snapshot(&self) -> MetricsSnapshot {
        let own = self.inner.metrics.snapshot();
        match &self.inner.bearer {
            Some(b) => own.with_token_counters(&b.manager.metrics().snapshot()),
            None => own,
        }
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
                api_key: Some(Static::api_key(&key)),
                signing: self.inner.signing.clone(),
                policy: self.inner.policy.clone(),
                clock: Arc::clone(&self.inner.clock),
                sleep: Arc::clone(&self.inner.sleep),
                metrics: Arc::clone(&self.inner.metrics),
                origin: self.inner.origin.clone(),
                client_timeout: self.inner.client_timeout,
                telemetry: self.inner.telemetry.clone(),
            }),
        }
    }

    /// The token cache behind this session's bearer credential.
    pub fn token_manager(&self) -> Option<&Arc<TokenManager>> {
        self.inner.bearer.as_ref().map(|b| &b.manager)
    }

    /// A current bearer token, for requests made by hand.
    pub async fn bearer(&self) -> Result<Arc<Token>, Error> {
        match &self.inner.bearer {
            Some(b) => b.token().await,
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
        self.attach(request, security).await
    }

    /// Credentials never leave the configured origin, and never ride on a
    /// URL that embeds credentials of its own.
    fn check_origin(&self, url: &url::Url) -> Result<(), Error> {
        let Some(allowed) = &self.inner.origin else {
            return Ok(());
        };
        if allowed.surely_allows(url) {
            return Ok(());
        }
        let origin = &allowed.origin;
        if !same_origin(origin, url) {
            return Err(Error::config(
                self.inner.provider,
                format!(
                    "refusing to attach credentials to a request for {}: the configured origin is {}",
                    url.origin().ascii_serialization(),
                    origin.ascii_serialization()
                ),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::config(
                self.inner.provider,
                format!(
                    "refusing to attach credentials to a request for {} whose URL embeds user information",
                    url.origin().ascii_serialization()
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
        self.inner.telemetry.inject(request.headers_mut());
        if security.is_anonymous() {
            request.headers_mut().remove(AUTHORIZATION);
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
                    let header = match self.inner.bearer.as_ref().and_then(Bearer::fresh_header) {
                        Some(header) => {
                            self.inner.telemetry.token_hit();
                            header
                        }
                        None => self.bearer().await?.header_value().clone(),
                    };
                    request.headers_mut().insert(AUTHORIZATION, header);
                }
                SchemeKind::Basic => {
                    if let Some(basic) = &self.inner.basic {
                        let value = basic.value(self.inner.provider, "Basic user or password")?;
                        request.headers_mut().insert(AUTHORIZATION, value.clone());
                    }
                }
                SchemeKind::ApiKeyHeader(name) => {
                    if let Some(key) = &self.inner.api_key {
                        let value = key.value(self.inner.provider, "API key")?;
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

    /// Send a hand-made request (an endpoint not, or not yet, in a spec)
    /// with a bearer token and the same retry and 401 policy. A final 401
    /// or 403, or a transient failure after the retries, is an error.
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
    pub fn send_with<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: Request,
        security: &'a OperationSecurity,
    ) -> impl Future<Output = Result<Response, Error>> + Send + 'a {
        use futures::FutureExt as _;
        // One future, authorization included: a wrapper `async fn` would
        // hold a second copy of the request and be moved once more.
        self.execute_inner(http, request, security, None)
            .map(move |result| self.outcome(result))
    }

    /// A final 401, 403 or transient status is an error for a hand-made
    /// request.
    fn outcome(
        &self,
        result: Result<(Response, u32), attempts::Failure>,
    ) -> Result<Response, Error> {
        let provider = self.inner.provider;
        match result {
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
            Err(attempts::Failure::Transport(e, attempts)) => {
                Err(Error::from_transport(provider, e, attempts))
            }
            Err(attempts::Failure::Refused(e)) => Err(e),
        }
    }
}

/// `url.origin() == *origin`, without building `url`'s origin (two
/// allocations per request).
fn same_origin(origin: &url::Origin, url: &url::Url) -> bool {
    let url::Origin::Tuple(scheme, host, port) = origin else {
        // An opaque origin equals no other.
        return false;
    };
    let same_host = match (host, url.host()) {
        (url::Host::Domain(a), Some(url::Host::Domain(b))) => a == b,
        (url::Host::Ipv4(a), Some(url::Host::Ipv4(b))) => *a == b,
        (url::Host::Ipv6(a), Some(url::Host::Ipv6(b))) => *a == b,
        _ => false,
    };
    same_host && url.scheme() == scheme && url.port_or_known_default() == Some(*port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::Scheme;
    use crate::time::SystemClock;

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

    /// The allocation-free origin check agrees with `Url::origin` on
    /// default ports, case, IP literals, schemes and foreign hosts.
    #[test]
    fn same_origin_agrees_with_url_origin() {
        let bases = [
            "https://api.example.com",
            "http://127.0.0.1:8080",
            "https://[::1]:8443",
        ];
        let targets = [
            "https://api.example.com/x",
            "https://API.Example.com:443/x",
            "https://api.example.com:444/x",
            "http://api.example.com/x",
            "https://api.example.com.evil/x",
            "https://evil.example/x",
            "http://127.0.0.1:8080/x?y=1",
            "http://127.0.0.1:8081/x",
            "http://127.0.0.2:8080/x",
            "https://[::1]:8443/x",
            "https://[::2]:8443/x",
            "https://u:p@api.example.com/x",
            "https://u@api.example.com/x",
            "https://:p@api.example.com/x",
            "https://api.example.com",
            "https://api.example.com?q",
            "https://api.example.com#f",
            "http://127.0.0.1:8080",
            "https://[0:0:0:0:0:0:0:1]:8443/x",
            "https://xn--nxasmq6b.example/x",
            "https://ΒΓ.example/x",
            "file:///etc/passwd",
            "data:text/plain,x",
        ];
        for base in bases {
            let origin = url::Url::parse(base).expect("base").origin();
            let allowed = CredentialOrigin::new(origin.clone());
            for target in targets {
                let url = url::Url::parse(target).expect("target");
                assert_eq!(
                    same_origin(&origin, &url),
                    url.origin() == origin,
                    "{base} vs {target}"
                );
                // The byte comparison: exactly the same origin without
                // user information.
                let full =
                    url.origin() == origin && url.username().is_empty() && url.password().is_none();
                assert_eq!(allowed.surely_allows(&url), full, "{base} vs {target}");
            }
        }
        // An opaque origin has no fast path (and equals nothing).
        let opaque =
            CredentialOrigin::new(url::Url::parse("data:text/plain,x").expect("data").origin());
        assert!(!opaque.surely_allows(&url::Url::parse("data:text/plain,x").expect("data")));
    }
}
