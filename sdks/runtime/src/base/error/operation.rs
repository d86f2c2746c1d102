//! The error of a generated operation.
//!
//! Every generated `send()` returns [`OperationError<E>`], `E` being the
//! operation's documented error body (`()` when it has none). It is one
//! pointer wide, keeps the runtime's [`Error`] (its kind, status, attempts
//! and `retry_after`), the answer's headers and, when the provider sent
//! its documented error body, that body decoded. `?` into
//! `Box<dyn std::error::Error>` or `anyhow::Error` keeps all of it: the
//! value downcasts back to `OperationError<E>`, and its
//! [`source`](std::error::Error::source) is the runtime [`Error`], found by
//! a downcast whatever `E` is.

use std::fmt;
use std::time::Duration;

use progenitor_client::ResponseValue;
use reqwest::header::HeaderMap;

use super::runtime::{Error, ErrorKind};

/// A failed generated operation.
///
/// ```no_run
/// use payauth_runtime::{ErrorKind, OperationError};
///
/// fn act_on<E: std::fmt::Debug>(e: &OperationError<E>) {
///     match e.kind() {
///         ErrorKind::InvalidCredentials => eprintln!("check the credentials"),
///         ErrorKind::Transient => {
///             let wait = e.retry_after().unwrap_or(std::time::Duration::from_secs(1));
///             eprintln!("try again in {wait:?}");
///         }
///         ErrorKind::Conflict | ErrorKind::BadRequest => {
///             eprintln!("refused: HTTP {:?}, body {:?}", e.status(), e.body());
///         }
///         _ => eprintln!("{e}"),
///     }
/// }
/// ```
pub struct OperationError<E>(Box<Repr<E>>);

struct Repr<E> {
    error: Error,
    operation: &'static str,
    headers: Option<HeaderMap>,
    body: Option<E>,
}

/// Which operation of which provider: what a generated `send()` hands the
/// runtime to classify its failures.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    provider: &'static str,
    id: &'static str,
}

impl Operation {
    pub fn new(provider: &'static str, id: &'static str) -> Operation {
        Operation { provider, id }
    }

    pub fn id(self) -> &'static str {
        self.id
    }

    pub fn provider(self) -> &'static str {
        self.provider
    }

    /// A failure progenitor's code reports (a request that cannot be
    /// built, a body that does not decode, a transport failure).
    pub fn fail<E>(self, error: progenitor_client::Error<E>) -> OperationError<E> {
        use progenitor_client::Error as P;
        let provider = self.provider;
        match error {
            P::ErrorResponse(rv) => {
                let status = rv.status().as_u16();
                let headers = rv.headers().clone();
                let body = rv.into_inner();
                self.answered(status, headers, Some(body))
            }
            P::UnexpectedResponse(mut response) => {
                let status = response.status().as_u16();
                let headers = std::mem::take(response.headers_mut());
                self.answered(status, headers, None)
            }
            P::CommunicationError(e) | P::ResponseBodyError(e) => {
                self.wrap(Error::from_transport(provider, e, 1))
            }
            P::InvalidResponsePayload(_, e) => self.wrap(undecodable(provider, &e)),
            P::InvalidRequest(m) => self.wrap(Error::config(
                provider,
                format!("the request could not be built: {m}"),
            )),
            P::Custom(m) => self.wrap(Error::config(provider, m)),
            P::InvalidUpgrade(_) => self.wrap(Error::new(
                ErrorKind::MalformedResponse,
                provider,
                "unexpected protocol upgrade",
            )),
        }
    }

    /// The runtime's own failure (the request could not be authorized,
    /// the transport failed after the retries).
    pub fn wrap<E>(self, error: Error) -> OperationError<E> {
        OperationError(Box::new(Repr {
            error,
            operation: self.id,
            headers: None,
            body: None,
        }))
    }

    /// A final answer with an error status (or one the spec does not
    /// document), classified by its status.
    fn answered<E>(self, status: u16, headers: HeaderMap, body: Option<E>) -> OperationError<E> {
        let attempts = crate::base::http::headers::attempts_of(&headers);
        let error = Error::from_operation_status(self.provider, status, attempts)
            .with_transient_hint(&headers);
        OperationError(Box::new(Repr {
            error,
            operation: self.id,
            headers: Some(headers),
            body,
        }))
    }

    /// A success status's body, decoded: a body that breaks off is
    /// transient, one that does not decode malformed — both keep the
    /// status and headers.
    ///
    /// # Errors
    ///
    /// `Transient` for a body that breaks off, `MalformedResponse` for one
    /// that does not decode, `TooLarge` past the cap.
    pub fn decode<T: serde::de::DeserializeOwned, E>(
        self,
        mut response: reqwest::Response,
    ) -> impl Future<Output = Result<ResponseValue<T>, OperationError<E>>> + Send {
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        async move {
            let full = match crate::base::http::response::whole(&mut response).await {
                Ok(full) => full,
                Err(e) => return Err(self.at(Error::from_transport(self.provider, e, 1), headers)),
            };
            match serde_json::from_slice(&full) {
                Ok(inner) => Ok(ResponseValue::new(inner, status, headers)),
                Err(e) => {
                    let error = undecodable(self.provider, &e).with_status(status.as_u16());
                    Err(self.at(error, headers))
                }
            }
        }
    }

    /// A documented error status: its body decoded as the documented
    /// error when it is one; the error's kind comes from the status either
    /// way (a documented 503 whose body is a proxy's HTML page is still
    /// transient).
    pub fn error_response<E: serde::de::DeserializeOwned>(
        self,
        mut response: reqwest::Response,
    ) -> impl Future<Output = OperationError<E>> + Send {
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        async move {
            let body = crate::base::http::response::whole(&mut response)
                .await
                .ok()
                .and_then(|full| serde_json::from_slice(&full).ok());
            self.answered(status, headers, body)
        }
    }

    /// A status the spec does not document for this operation.
    pub fn unexpected<E>(self, mut response: reqwest::Response) -> OperationError<E> {
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        self.answered(status, headers, None)
    }

    fn at<E>(self, error: Error, headers: HeaderMap) -> OperationError<E> {
        let attempts = crate::base::http::headers::attempts_of(&headers);
        OperationError(Box::new(Repr {
            error: error.with_attempts(attempts),
            operation: self.id,
            headers: Some(headers),
            body: None,
        }))
    }
}

/// A body that is not the documented shape. serde's message is not kept:
/// it quotes the body's values, which may be a token.
pub(crate) fn undecodable(provider: &'static str, e: &serde_json::Error) -> Error {
    Error::new(
        ErrorKind::MalformedResponse,
        provider,
        format!(
            "response body does not match the documented schema ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ),
    )
}

impl<E> OperationError<E> {
    /// What went wrong, as a caller decides on it.
    pub fn kind(&self) -> ErrorKind {
        self.0.error.kind()
    }
    /// The provider (`"institution"`, …).
    pub fn provider(&self) -> &'static str {
        self.0.error.provider()
    }
    /// The operation's id in the spec (`"create_customer"`).
    pub fn operation(&self) -> &'static str {
        self.0.operation
    }
    /// The HTTP status of the final answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.error.status()
    }
    /// The final answer's headers, when there was one.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.0.headers.as_ref()
    }
    /// The provider's documented error body, when it sent one.
    pub fn body(&self) -> Option<&E> {
        self.0.body.as_ref()
    }
    /// The documented error body, taken.
    pub fn into_body(self) -> Option<E> {
        self.0.body
    }
    /// How many HTTP attempts the call made.
    pub fn attempts(&self) -> u32 {
        self.0.error.attempts()
    }
    /// When trying again can succeed (see [`Error::retry_after`]).
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.error.retry_after()
    }
    /// Whether the same call may succeed later (see [`Error::is_retryable`]).
    pub fn is_retryable(&self) -> bool {
        self.0.error.is_retryable()
    }
    /// The runtime's error: kind, status, attempts, message.
    pub fn error(&self) -> &Error {
        &self.0.error
    }
    /// The runtime's error, the body and headers dropped.
    pub fn into_error(self) -> Error {
        self.0.error
    }

    /// The failure of an *authentication* operation (a token call) as the
    /// runtime's error: a 401 there means the credentials are wrong, a 403
    /// that they lack a permission; `refine` may name a more precise kind
    /// from the documented body.
    pub fn into_auth_error(self, refine: impl FnOnce(&E) -> Option<ErrorKind>) -> Error {
        let Repr { error, body, .. } = *self.0;
        let Some(status) = error.status() else {
            return error;
        };
        if error.kind() == ErrorKind::MalformedResponse && (200..300).contains(&status) {
            // A success status with a body that does not decode.
            return error;
        }
        let kind = match status {
            401 => ErrorKind::InvalidCredentials,
            _ => error.kind(),
        };
        let kind = body.as_ref().and_then(refine).unwrap_or(kind);
        error.with_kind(kind)
    }
}

impl<E> From<OperationError<E>> for Error {
    fn from(e: OperationError<E>) -> Error {
        e.into_error()
    }
}

impl<E> fmt::Display for OperationError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.error.describe(f, Some(self.0.operation))
    }
}

/// Header values are not shown (a provider may echo a credential in one);
/// their names are.
impl<E: fmt::Debug> fmt::Debug for OperationError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationError")
            .field("operation", &self.0.operation)
            .field("error", &self.0.error)
            .field(
                "headers",
                &self
                    .0
                    .headers
                    .as_ref()
                    .map(|h| h.keys().map(|k| k.as_str()).collect::<Vec<_>>()),
            )
            .field("body", &self.0.body)
            .finish()
    }
}

impl<E: fmt::Debug + 'static> std::error::Error for OperationError<E> {
    /// The runtime's [`Error`]: downcast it to read the kind of any
    /// operation's failure without naming its error body type.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.error)
    }
}
/// Await a generated token operation: its typed body, or the failure
/// classified as an authentication error (a 401 is
/// [`ErrorKind::InvalidCredentials`]).
///
/// # Errors
///
/// The operation's failure as [`OperationError::into_auth_error`] gives
/// it: 401 `InvalidCredentials`, 403 `Forbidden`, 408/429/5xx `Transient`,
/// another 4xx `BadRequest`, the runtime's own errors unchanged.
pub async fn auth_body<T, E>(
    call: impl Future<Output = Result<progenitor_client::ResponseValue<T>, OperationError<E>>>,
) -> Result<T, Error> {
    auth_body_refined(call, |_| None).await
}

/// [`auth_body`] with a look at the typed error body: `refine` may name a
/// more precise kind (institution's `REFRESH_TOKEN_EXPIRED`).
///
/// # Errors
///
/// As [`auth_body`], with the kind `refine` names when it names one.
pub async fn auth_body_refined<T, E>(
    call: impl Future<Output = Result<progenitor_client::ResponseValue<T>, OperationError<E>>>,
    refine: impl FnOnce(&E) -> Option<ErrorKind>,
) -> Result<T, Error> {
    call.await
        .map(progenitor_client::ResponseValue::into_inner)
        .map_err(|e| e.into_auth_error(refine))
}
