//! One error type for every SDK, with `is_*` predicates. Messages never
//! contain a credential, a token or a response body.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What went wrong, as a caller decides on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The provider rejected the credentials (login 401, or a second 401
    /// after a forced re-authentication). Permanent.
    InvalidCredentials,
    /// The request was malformed (400): retrying it unchanged is pointless.
    BadRequest,
    /// A 401 that survived one re-authentication and retry.
    Unauthorized,
    /// 403: valid credentials lacking permission or scope. Never retried.
    Forbidden,
    /// Institution: the refresh token has expired; the runtime logs in again.
    RefreshTokenExpired,
    /// Timeouts, connection failures, 408/429/5xx, after the retries allowed.
    Transient,
    /// The provider answered something that is not its documented shape.
    MalformedResponse,
    /// The SDK is configured wrongly (missing credential, bad base URL, …).
    Config,
    /// The response body exceeded the configured cap
    /// ([`RetryPolicy::max_response_bytes`](crate::RetryPolicy)). Not retried.
    TooLarge,
    /// A request could not be signed (pledg's `signature`, exirom's
    /// `checksum`): no JSON body to sign, or an unusable secret.
    Signing,
}

impl ErrorKind {
    /// Whether trying again later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorKind::Transient)
    }
}

/// An SDK error. Cheap to clone: waiters of one failed single-flight fetch
/// all receive the same error. One pointer wide, so every
/// `Result<_, Error>` on a request's path stays small.
#[derive(Clone)]
pub struct Error(Arc<Repr>);

#[derive(Clone)]
struct Repr {
    kind: ErrorKind,
    provider: &'static str,
    status: Option<u16>,
    attempts: u32,
    retry_after: Option<Duration>,
    message: Box<str>,
}

impl Error {
    pub fn new(kind: ErrorKind, provider: &'static str, message: impl Into<String>) -> Self {
        Error(Arc::new(Repr {
            kind,
            provider,
            status: None,
            attempts: 1,
            retry_after: None,
            message: message.into().into_boxed_str(),
        }))
    }

    pub fn config(provider: &'static str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, provider, message)
    }

    pub fn with_status(mut self, status: u16) -> Self {
        Arc::make_mut(&mut self.0).status = Some(status);
        self
    }

    pub fn with_attempts(mut self, attempts: u32) -> Self {
        Arc::make_mut(&mut self.0).attempts = attempts;
        self
    }

    /// When trying again makes sense: the provider's requested wait, or the
    /// time left of a login cool-down.
    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        Arc::make_mut(&mut self.0).retry_after = Some(wait);
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    pub fn provider(&self) -> &'static str {
        self.0.provider
    }
    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }
    /// How many HTTP attempts the failing call made.
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }
    pub fn is_transient(&self) -> bool {
        self.0.kind.is_transient()
    }
    /// How long to wait before the next attempt can succeed, when known:
    /// the time left of a login cool-down (see `LOGIN_BACKOFF_INITIAL`), or
    /// the wait the provider asked for (`retry-after-ms` / `Retry-After`)
    /// on the final transient response, saturated at `Duration::MAX` — set
    /// when the call gave up because the ask exceeded
    /// [`RetryPolicy::max_retry_after`](crate::RetryPolicy) or the deadline.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }
    pub fn is_too_large(&self) -> bool {
        self.0.kind == ErrorKind::TooLarge
    }
    pub fn is_invalid_credentials(&self) -> bool {
        self.0.kind == ErrorKind::InvalidCredentials
    }
    pub fn is_forbidden(&self) -> bool {
        self.0.kind == ErrorKind::Forbidden
    }
    pub fn is_unauthorized(&self) -> bool {
        self.0.kind == ErrorKind::Unauthorized
    }
    pub fn is_malformed_response(&self) -> bool {
        self.0.kind == ErrorKind::MalformedResponse
    }
    pub fn is_config(&self) -> bool {
        self.0.kind == ErrorKind::Config
    }

    /// Classify an HTTP status of an *authentication* call.
    pub fn from_auth_status(provider: &'static str, status: u16, attempts: u32) -> Self {
        let kind = match status {
            401 => ErrorKind::InvalidCredentials,
            403 => ErrorKind::Forbidden,
            408 | 429 | 500..=599 => ErrorKind::Transient,
            400..=499 => ErrorKind::BadRequest,
            _ => ErrorKind::MalformedResponse,
        };
        Error::new(
            kind,
            provider,
            format!("authentication failed with HTTP {status}"),
        )
        .with_status(status)
        .with_attempts(attempts)
    }

    /// Classify the result of a generated *authentication* operation.
    /// `refine` looks at a typed error body and may name a more precise
    /// kind (institution's `REFRESH_TOKEN_EXPIRED`).
    pub fn from_progenitor<E>(
        provider: &'static str,
        err: progenitor_client::Error<E>,
        refine: impl FnOnce(&E) -> Option<ErrorKind>,
    ) -> Self {
        use progenitor_client::Error as P;
        match err {
            P::ErrorResponse(rv) => {
                let attempts = crate::retry::attempts_of(rv.headers());
                let status = rv.status().as_u16();
                let mut e = Error::from_auth_status(provider, status, attempts)
                    .with_transient_hint(rv.headers());
                if let Some(kind) = refine(&rv) {
                    Arc::make_mut(&mut e.0).kind = kind;
                }
                e
            }
            P::UnexpectedResponse(resp) => {
                let attempts = crate::retry::attempts_of(resp.headers());
                Error::from_auth_status(provider, resp.status().as_u16(), attempts)
                    .with_transient_hint(resp.headers())
            }
            P::CommunicationError(e) => Error::from_transport(provider, &e, 1),
            P::InvalidResponsePayload(_, e) => Error::new(
                ErrorKind::MalformedResponse,
                provider,
                format!(
                    "response body does not match the documented schema ({:?} error at line {} column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            ),
            P::ResponseBodyError(e) => Error::from_transport(provider, &e, 1),
            P::InvalidRequest(m) => Error::config(provider, m),
            P::Custom(m) => Error::config(provider, m),
            P::InvalidUpgrade(_) => Error::new(
                ErrorKind::MalformedResponse,
                provider,
                "unexpected protocol upgrade",
            ),
        }
    }

    /// On a transient error, the wait the provider asked for.
    pub(crate) fn with_transient_hint(self, headers: &reqwest::header::HeaderMap) -> Self {
        if self.0.kind == ErrorKind::Transient {
            match crate::retry::retry_after(headers) {
                Some(wait) => self.with_retry_after(wait),
                None => self,
            }
        } else {
            self
        }
    }

    /// A transport failure (no HTTP status). Only the error's category is
    /// kept: reqwest messages can embed URLs with credentials.
    pub fn from_transport(provider: &'static str, e: &reqwest::Error, attempts: u32) -> Self {
        if let Some(too_large) = crate::body::too_large(e) {
            return Error::new(ErrorKind::TooLarge, provider, too_large.to_string())
                .with_attempts(attempts);
        }
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else if e.is_body() || e.is_decode() {
            "connection broke while reading the response"
        } else {
            "request failed in transport"
        };
        Error::new(ErrorKind::Transient, provider, what.to_string()).with_attempts(attempts)
    }
}

/// Await a generated token operation: its typed body, or the failure
/// classified as an authentication error.
pub async fn auth_body<T, E>(
    provider: &'static str,
    call: impl Future<Output = Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>>,
) -> Result<T, Error> {
    auth_body_refined(provider, call, |_| None).await
}

/// [`auth_body`] with a look at the typed error body (see
/// [`Error::from_progenitor`]).
pub async fn auth_body_refined<T, E>(
    provider: &'static str,
    call: impl Future<Output = Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>>,
    refine: impl FnOnce(&E) -> Option<ErrorKind>,
) -> Result<T, Error> {
    call.await
        .map(progenitor_client::ResponseValue::into_inner)
        .map_err(|e| Error::from_progenitor(provider, e, refine))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {:?}: {}",
            self.0.provider, self.0.kind, self.0.message
        )?;
        if let Some(status) = self.0.status {
            write!(f, " (HTTP {status}")?;
            if self.0.attempts > 1 {
                write!(f, ", {} attempts", self.0.attempts)?;
            }
            write!(f, ")")?;
        } else if self.0.attempts > 1 {
            write!(f, " ({} attempts)", self.0.attempts)?;
        }
        if let Some(wait) = self.0.retry_after {
            write!(f, " (retry after {:.1} s)", wait.as_secs_f64())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("provider", &self.0.provider)
            .field("status", &self.0.status)
            .field("attempts", &self.0.attempts)
            .field("retry_after", &self.0.retry_after)
            .field("message", &self.0.message)
            .finish()
    }
}

impl std::error::Error for Error {}
