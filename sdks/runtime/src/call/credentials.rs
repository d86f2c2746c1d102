//! The credentials of a session and how they go on a request: the
//! first alternative of the operation's security whose credentials are
//! configured — a bearer from the principal's cache, a Basic pair or API
//! key turned into a sensitive header once, a signed query JWT, a body
//! checksum — and only for the configured origin.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use reqwest::Request;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use super::settings::CallSettings;
use super::signing::{checksum_into_body, sign_body_jwt};
use crate::base::error::Error;
use crate::base::secret::Secret;
use crate::base::security::{OperationSecurity, Scheme, SchemeKind};
use crate::observe::events::Observe as _;
use crate::token::{Token, TokenFuture, TokenManager, TokenSource};

/// A bearer credential: the principal's shared cache, and this client's
/// way of filling it (its flow, fetch timeout and timer).
#[derive(Clone, Debug)]
pub(crate) struct Bearer {
    pub(super) manager: Arc<TokenManager>,
    source: Arc<TokenSource>,
}

impl Bearer {
    pub(crate) fn new(manager: Arc<TokenManager>, source: Arc<TokenSource>) -> Bearer {
        Bearer { manager, source }
    }

    pub(super) fn token(&self) -> TokenFuture<'_> {
        self.manager.token_from(&self.source)
    }

    #[inline]
    pub(super) fn fresh_header(&self) -> Option<HeaderValue> {
        self.manager.fresh_header()
    }

    pub(super) async fn renew_after_unauthorized(
        &self,
        used: &HeaderValue,
    ) -> Result<Arc<Token>, Error> {
        self.manager
            .renew_after_unauthorized_from(used, &self.source)
            .await
    }
}

/// A static credential (an API key, a Basic pair), turned into its
/// (sensitive) header value once, when the session is built — not on every
/// call.
#[derive(Clone)]
pub(super) enum Static {
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
    pub(super) fn api_key(key: &Secret) -> Static {
        if key.expose().trim().is_empty() {
            return Static::Empty;
        }
        Static::sensitive(HeaderValue::from_str(key.expose()))
    }

    pub(super) fn basic(user: &str, password: &Secret) -> Static {
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

/// What a session may put on its requests, and where.
#[derive(Clone, Debug)]
pub(super) struct Credentials {
    pub(super) provider: &'static str,
    pub(super) bearer: Option<Bearer>,
    pub(super) basic: Option<Static>,
    pub(super) api_key: Option<Static>,
    /// Secret of request signatures (`SchemeKind::SignedQueryJwt`) and
    /// body checksums.
    pub(super) signing: Option<Secret>,
    /// Credentials go only to this origin (the base URL's).
    pub(super) origin: Option<Arc<CredentialOrigin>>,
}

impl Credentials {
    fn can_apply(&self, scheme: &Scheme) -> bool {
        match scheme.kind {
            SchemeKind::Bearer => self.bearer.is_some(),
            SchemeKind::Basic => self.basic.is_some(),
            SchemeKind::ApiKeyHeader(_) => self.api_key.is_some(),
            SchemeKind::SignedQueryJwt { .. } => self.signing.is_some(),
            SchemeKind::Unsupported => false,
        }
    }

    /// A current bearer token, for requests made by hand.
    pub(super) async fn bearer(&self) -> Result<Arc<Token>, Error> {
        match &self.bearer {
            Some(b) => b.token().await,
            None => Err(Error::config(
                self.provider,
                "no bearer-token credentials configured",
            )),
        }
    }

    /// Credentials never leave the configured origin, and never ride on a
    /// URL that embeds credentials of its own.
    fn check_origin(&self, url: &url::Url) -> Result<(), Error> {
        let Some(allowed) = &self.origin else {
            return Ok(());
        };
        if allowed.surely_allows(url) {
            return Ok(());
        }
        let origin = &allowed.origin;
        if !same_origin(origin, url) {
            return Err(Error::config(
                self.provider,
                format!(
                    "refusing to attach credentials to a request for {}: the configured origin is {}",
                    url.origin().ascii_serialization(),
                    origin.ascii_serialization()
                ),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::config(
                self.provider,
                format!(
                    "refusing to attach credentials to a request for {} whose URL embeds user information",
                    url.origin().ascii_serialization()
                ),
            ));
        }
        Ok(())
    }

    /// Put the credential `security` asks for on `request` (the first
    /// alternative whose credentials are configured). Anonymous
    /// operations — the login calls — never carry a credential. (The
    /// trace context goes on each attempt as it is sent.)
    pub(super) async fn attach(
        &self,
        request: &mut Request,
        security: &OperationSecurity,
        settings: &CallSettings,
    ) -> Result<(), Error> {
        let observer = settings.observer();
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
                self.provider,
                format!(
                    "operation `{}` needs credentials for one of [{}], and none is configured",
                    security.operation_id,
                    wanted.join(" | ")
                ),
            ));
        };
        if let Some(checksum) = &security.body_checksum {
            let secret = self.signing.as_ref().ok_or_else(|| {
                Error::config(
                    self.provider,
                    format!(
                        "operation `{}` needs a checksum secret, and none is configured",
                        security.operation_id
                    ),
                )
            })?;
            let body = request.body().and_then(|b| b.as_bytes()).unwrap_or(b"");
            let signed = checksum_into_body(self.provider, secret, checksum, body)?;
            *request.body_mut() = Some(signed.into());
        }
        for scheme in alternative.iter() {
            match scheme.kind {
                SchemeKind::Bearer => {
                    let header = match self.bearer.as_ref().and_then(Bearer::fresh_header) {
                        Some(header) => {
                            observer.token_hit();
                            header
                        }
                        None => self.bearer().await?.header_value().clone(),
                    };
                    request.headers_mut().insert(AUTHORIZATION, header);
                }
                SchemeKind::Basic => {
                    if let Some(basic) = &self.basic {
                        let value = basic.value(self.provider, "Basic user or password")?;
                        request.headers_mut().insert(AUTHORIZATION, value.clone());
                    }
                }
                SchemeKind::ApiKeyHeader(name) => {
                    if let Some(key) = &self.api_key {
                        let value = key.value(self.provider, "API key")?;
                        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                            Error::config(self.provider, format!("bad header name `{name}`"))
                        })?;
                        request.headers_mut().insert(name, value.clone());
                    }
                }
                SchemeKind::SignedQueryJwt {
                    param,
                    claim,
                    lifetime_secs,
                } => {
                    if let Some(secret) = &self.signing {
                        let body = request.body().and_then(|b| b.as_bytes()).unwrap_or(b"");
                        let jwt = sign_body_jwt(
                            self.provider,
                            secret,
                            claim,
                            Duration::from_secs(lifetime_secs),
                            body,
                            settings.clock.wall(),
                        )?;
                        request.url_mut().query_pairs_mut().append_pair(param, &jwt);
                    }
                }
                SchemeKind::Unsupported => {}
            }
        }
        Ok(())
    }

    /// The bearer `request` carries, when the session has a token manager
    /// (a 401 renews exactly the token that was refused).
    pub(super) fn bearer_on(&self, request: &Request) -> Option<HeaderValue> {
        self.bearer.as_ref()?;
        request
            .headers()
            .get(AUTHORIZATION)
            .filter(|v| v.as_bytes().starts_with(b"Bearer "))
            .cloned()
    }

    /// After a 401: a token other than `used`, put on `request`.
    pub(super) async fn renew(
        &self,
        request: &mut Request,
        used: &HeaderValue,
    ) -> Result<(), Error> {
        let Some(bearer) = &self.bearer else {
            return Err(Error::config(
                self.provider,
                "no bearer-token credentials configured",
            ));
        };
        let token = bearer.renew_after_unauthorized(used).await?;
        request
            .headers_mut()
            .insert(AUTHORIZATION, token.header_value().clone());
        Ok(())
    }

    /// Before a retry: a bearer that went stale while the request waited
    /// (backoff, `Retry-After`) is swapped for the current token, so the
    /// retry does not arrive expired.
    pub(super) async fn refresh_stale_bearer(&self, request: &mut Request) {
        let Some(bearer) = &self.bearer else {
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

/// The one origin credentials may go to.
#[derive(Debug)]
pub(super) struct CredentialOrigin {
    origin: url::Origin,
    /// Its serialization (`https://host[:port]`), when it has one: a URL
    /// whose text up to the path is exactly this has the same scheme,
    /// host and port and no user information — one comparison of bytes
    /// on every call instead of the field-by-field check.
    prefix: Option<Box<str>>,
}

impl CredentialOrigin {
    pub(super) fn new(origin: url::Origin) -> CredentialOrigin {
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
