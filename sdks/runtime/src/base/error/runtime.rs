//! [`Error`], the runtime's error (a token fetch, a hand-made request),
//! and [`ErrorKind`], what a caller decides on.

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
    /// The provider refused the request as it is (400, 422, any other 4xx
    /// without a kind of its own, 501): retrying it unchanged is pointless.
    BadRequest,
    /// 404: what the request names does not exist (or not for these
    /// credentials).
    NotFound,
    /// 409: the request conflicts with the provider's state (an
    /// idempotency key reused with another body, a duplicate).
    Conflict,
    /// A 401 that survived one re-authentication and retry.
    Unauthorized,
    /// 403: valid credentials lacking permission or scope. Never retried.
    Forbidden,
    /// Institution: the refresh token has expired; the runtime logs in again.
    RefreshTokenExpired,
    /// Timeouts, connection failures, 408/429/5xx, after the retries allowed.
    Transient,
    /// The provider answered something that is not its documented shape
    /// (a body that does not decode, a status the spec does not list).
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
    /// The kind's name in `snake_case` (`invalid_credentials`, `transient`,
    /// …): stable, for logs and telemetry (`error.type`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidCredentials => "invalid_credentials",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::RefreshTokenExpired => "refresh_token_expired",
            ErrorKind::Transient => "transient",
            ErrorKind::MalformedResponse => "malformed_response",
            ErrorKind::Config => "config",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Signing => "signing",
        }
    }

    /// Whether trying again later may succeed: only
    /// [`Transient`](ErrorKind::Transient) (a timeout, a connection failure,
    /// 408/429/5xx once the retries allowed are spent).
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorKind::Transient)
    }
}

/// An SDK error. Its [`kind`](Error::kind) is what a caller decides on;
/// [`retry_after`](Error::retry_after) says when trying again can work;
/// [`source`](std::error::Error::source) is the transport failure behind
/// it, when there is one (its URL removed). Cheap to clone: waiters of one failed single-flight fetch
/// all receive the same error. One pointer wide, so every
/// `Result<_, Error>` on a request's path stays small.
///
/// Its `Display` names the provider, the kind, the status and the attempt
/// count; neither it nor `Debug` ever holds a secret, a URL or a body.
///
/// ```
/// use std::time::Duration;
/// use payauth_runtime::{Error, ErrorKind};
///
/// let e = Error::from_operation_status("exirom", 503, 3)
///     .with_retry_after(Duration::from_secs(2));
/// assert_eq!(e.kind(), ErrorKind::Transient);
/// assert!(e.is_retryable());
/// assert_eq!((e.status(), e.attempts()), (Some(503), 3));
/// assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
/// assert_eq!(
///     e.to_string(),
///     "exirom: Transient: HTTP 503 Service Unavailable (3 attempts) (retry after 2.0 s)"
/// );
/// ```
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
    /// The failure underneath (a transport error without its URL).
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// An error of `kind` for `provider` (its profile's name, e.g.
    /// `"exirom"`), with a message for people (`Display` shows it after the
    /// provider's name). No status, one attempt, no `retry_after`, no
    /// source: add them with the `with_*` methods. The message must not
    /// hold a secret, a URL or a response body: errors are logged.
    pub fn new(kind: ErrorKind, provider: &'static str, message: impl Into<String>) -> Self {
        Error(Arc::new(Repr {
            kind,
            provider,
            status: None,
            attempts: 1,
            retry_after: None,
            message: message.into().into_boxed_str(),
            source: None,
        }))
    }

    /// A [`Config`](ErrorKind::Config) error: the SDK is set up wrongly (a
    /// missing variable, a base URL that is not HTTPS, …).
    pub fn config(provider: &'static str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, provider, message)
    }

    /// The same error, with the HTTP status it came from.
    pub fn with_status(mut self, status: u16) -> Self {
        Arc::make_mut(&mut self.0).status = Some(status);
        self
    }

    /// The same error, saying the failing call made `attempts` HTTP
    /// attempts (default 1).
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

    /// What went wrong, as a caller decides on it.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    /// The provider whose call failed (its profile's name: `"exirom"`,
    /// `"pledg"`, …).
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
    /// Whether the kind is [`ErrorKind::Transient`] (the same as
    /// [`is_retryable`](Error::is_retryable)).
    pub fn is_transient(&self) -> bool {
        self.0.kind.is_transient()
    }
    /// Whether the same call may succeed later ([`ErrorKind::Transient`]):
    /// wait [`retry_after`](Error::retry_after) when it is set. The
    /// runtime has already retried what was safe to retry; an operation
    /// with a side effect may have taken effect (send it again with the
    /// same idempotency key where the provider has one).
    pub fn is_retryable(&self) -> bool {
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
    /// Whether the kind is [`ErrorKind::TooLarge`]: an answer past the
    /// response-size cap.
    pub fn is_too_large(&self) -> bool {
        self.0.kind == ErrorKind::TooLarge
    }
    /// Whether the kind is [`ErrorKind::InvalidCredentials`]: the provider
    /// refused the login; fix the credentials (logins pause meanwhile, see
    /// [`retry_after`](Error::retry_after)).
    pub fn is_invalid_credentials(&self) -> bool {
        self.0.kind == ErrorKind::InvalidCredentials
    }
    /// Whether the kind is [`ErrorKind::Forbidden`] (403: the credentials
    /// lack a permission).
    pub fn is_forbidden(&self) -> bool {
        self.0.kind == ErrorKind::Forbidden
    }
    /// Whether the kind is [`ErrorKind::Unauthorized`]: a 401 survived one
    /// re-authentication.
    pub fn is_unauthorized(&self) -> bool {
        self.0.kind == ErrorKind::Unauthorized
    }
    /// Whether the kind is [`ErrorKind::MalformedResponse`]: the provider
    /// answered something that is not its documented shape.
    pub fn is_malformed_response(&self) -> bool {
        self.0.kind == ErrorKind::MalformedResponse
    }
    /// Whether the kind is [`ErrorKind::Config`]: the SDK is set up
    /// wrongly; nothing was sent.
    pub fn is_config(&self) -> bool {
        self.0.kind == ErrorKind::Config
    }

    /// Classify an HTTP status of an *authentication* call: 401 →
    /// `InvalidCredentials`, 403 → `Forbidden`, 408/429/5xx → `Transient`,
    /// another 4xx → `BadRequest`, anything else → `MalformedResponse`.
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

    /// Classify an HTTP status of an API operation's final answer (a 401
    /// here has survived one re-authentication): 401 → `Unauthorized`,
    /// 403 → `Forbidden`, 404 → `NotFound`, 409 → `Conflict`, 408/429/500
    /// and 502–599 → `Transient`, another 4xx and 501 → `BadRequest`,
    /// anything else (1xx, 2xx, 3xx) → `MalformedResponse`.
    pub fn from_operation_status(provider: &'static str, status: u16, attempts: u32) -> Self {
        let kind = match status {
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            408 | 429 | 500 | 502..=599 => ErrorKind::Transient,
            400..=499 | 501 => ErrorKind::BadRequest,
            _ => ErrorKind::MalformedResponse,
        };
        let reason = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let message = match kind {
            ErrorKind::MalformedResponse => format!("undocumented answer: HTTP {status} {reason}"),
            _ => format!("HTTP {status} {reason}"),
        };
        Error::new(kind, provider, message.trim_end().to_string())
            .with_status(status)
            .with_attempts(attempts)
    }

    /// The same error with another kind (an authentication call's 401 is
    /// `InvalidCredentials`, not `Unauthorized`).
    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Self {
        Arc::make_mut(&mut self.0).kind = kind;
        self
    }

    /// On a transient error, the wait the provider asked for.
    pub(crate) fn with_transient_hint(self, headers: &reqwest::header::HeaderMap) -> Self {
        if self.0.kind == ErrorKind::Transient {
            match crate::base::http::headers::retry_after(headers) {
                Some(wait) => self.with_retry_after(wait),
                None => self,
            }
        } else {
            self
        }
    }

    /// A transport failure (no HTTP status). The message keeps only the
    /// error's category, and the error kept as the
    /// [`source`](std::error::Error::source) has its URL removed: reqwest
    /// messages embed the URL, which can carry a signature or user
    /// information.
    pub fn from_transport(provider: &'static str, e: reqwest::Error, attempts: u32) -> Self {
        if let Some(too_large) = crate::base::http::body::too_large(&e) {
            return Error::new(ErrorKind::TooLarge, provider, too_large.to_string())
                .with_attempts(attempts);
        }
        if crate::base::http::tls::certificate_refused(&e) {
            let mut error = Error::new(
                ErrorKind::Config,
                provider,
                "the server's TLS certificate is not trusted: check the base URL, or pass \
                 a client that trusts its certificate authority (`.http(..)`)"
                    .to_string(),
            )
            .with_attempts(attempts);
            Arc::make_mut(&mut error.0).source = Some(Arc::new(e.without_url()));
            return error;
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
        let mut error =
            Error::new(ErrorKind::Transient, provider, what.to_string()).with_attempts(attempts);
        Arc::make_mut(&mut error.0).source = Some(Arc::new(e.without_url()));
        error
    }
}

impl Error {
    /// The one-line description, naming the operation when there is one.
    pub(crate) fn describe(
        &self,
        f: &mut fmt::Formatter<'_>,
        operation: Option<&str>,
    ) -> fmt::Result {
        match operation {
            Some(op) => write!(
                f,
                "{} `{op}`: {:?}: {}",
                self.0.provider, self.0.kind, self.0.message
            )?,
            None => write!(
                f,
                "{}: {:?}: {}",
                self.0.provider, self.0.kind, self.0.message
            )?,
        }
        let status_in_message = self.0.message.starts_with("HTTP ")
            || self.0.message.starts_with("undocumented answer: HTTP ");
        match self.0.status {
            Some(status) if !status_in_message => {
                write!(f, " (HTTP {status}")?;
                if self.0.attempts > 1 {
                    write!(f, ", {} attempts", self.0.attempts)?;
                }
                write!(f, ")")?;
            }
            _ if self.0.attempts > 1 => write!(f, " ({} attempts)", self.0.attempts)?,
            _ => {}
        }
        if let Some(wait) = self.0.retry_after {
            write!(f, " (retry after {:.1} s)", wait.as_secs_f64())?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.describe(f, None)
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
            .field("source", &self.0.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
