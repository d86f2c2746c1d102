//! The documented operations a descriptor names ([`Call`]: its probe, its
//! example), and a run's answer ([`Answered`]).

use crate::base::error::{Error, OperationError};
use crate::base::http::headers::attempts_of;

/// How a call is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAuth {
    /// A bearer token (a login first).
    Bearer,
    /// A static API key header.
    ApiKey,
    /// A request signature, no token.
    Signed,
}

/// One documented operation a descriptor names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// The operation's id in the spec.
    pub operation: &'static str,
    /// The HTTP method, upper case (`GET`).
    pub method: &'static str,
    /// The path below the base URL, as the spec writes it.
    pub path: &'static str,
    /// How the call is authenticated.
    pub auth: CallAuth,
    /// Safe to send again after a 5xx (a GET, or idempotent by a request id).
    pub retry_safe: bool,
    /// The variable holding the credential this call uses, when it is not
    /// the login's (bursagb's `ApiKey`): the call is made only when it is set.
    pub needs: Option<&'static str>,
}

/// A successful answer to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answered {
    /// The HTTP status of the answer (a success).
    pub status: u16,
    /// HTTP attempts the runtime made.
    pub attempts: u32,
}

/// A typed operation's result as an [`Answered`] or the runtime's error.
///
/// # Errors
///
/// The operation's error, as [`OperationError::into_error`] gives it.
pub fn answered<T, E>(
    result: Result<progenitor_client::ResponseValue<T>, OperationError<E>>,
) -> Result<Answered, Error> {
    match result {
        Ok(value) => Ok(Answered {
            status: value.status().as_u16(),
            attempts: attempts_of(value.headers()),
        }),
        Err(e) => Err(e.into_error()),
    }
}

/// The error of a call a provider's
/// [`Described::run`](super::Described::run) does not know.
pub fn unknown_call(provider: &'static str, call: &Call) -> Error {
    Error::config(
        provider,
        format!("no sample for operation `{}`", call.operation),
    )
}
