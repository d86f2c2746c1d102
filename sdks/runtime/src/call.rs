//! Typed errors out of generated operations.
//!
//! A generated operation reports a failure of its `pre` hook — no token
//! could be had — as `progenitor_client::Error::Custom(String)`: the hook
//! signature allows nothing richer. [`TypedCall::typed`] runs the operation
//! with a task-local slot the runtime fills with the real [`Error`], and
//! hands that back as [`CallError::Auth`].

use std::cell::RefCell;
use std::fmt;
use std::future::Future;

use progenitor_client::ResponseValue;

use crate::error::Error;

tokio::task_local! {
    static AUTH_FAILURE: RefCell<Option<Error>>;
}

/// Called by the runtime when it cannot authorize a request.
pub(crate) fn record_auth_failure(e: &Error) {
    let _ = AUTH_FAILURE.try_with(|slot| *slot.borrow_mut() = Some(e.clone()));
}

/// The failure of a generated operation called through [`TypedCall::typed`].
#[derive(Debug)]
pub enum CallError<E> {
    /// The runtime could not authenticate the request (bad credentials,
    /// provider down during login, malformed token response…).
    Auth(Error),
    /// The operation itself failed: the provider's typed error response,
    /// a transport failure, an undocumented answer.
    Api(progenitor_client::Error<E>),
}

impl<E> CallError<E> {
    /// The HTTP status behind the failure, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Auth(e) => e.status(),
            CallError::Api(e) => e.status().map(|s| s.as_u16()),
        }
    }

    /// The runtime's error, when authentication is what failed.
    pub fn auth(&self) -> Option<&Error> {
        match self {
            CallError::Auth(e) => Some(e),
            CallError::Api(_) => None,
        }
    }
}

impl<E: fmt::Debug> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Auth(e) => write!(f, "authentication failed: {e}"),
            CallError::Api(e) => write!(f, "{e}"),
        }
    }
}

impl<E: fmt::Debug> std::error::Error for CallError<E> {}

/// `.typed()` on a generated operation's `send()` future.
///
/// ```no_run
/// # use progenitor_client::{Error, ResponseValue};
/// # async fn demo<T, E: std::fmt::Debug>(
/// #     send: impl std::future::Future<Output = Result<ResponseValue<T>, Error<E>>>,
/// # ) {
/// use auth_runtime::{CallError, TypedCall};
/// // `send` is e.g. `client.create_order().body(order).send()`.
/// match send.typed().await {
///     Ok(value) => { /* the typed response */ }
///     Err(CallError::Auth(e)) if e.is_invalid_credentials() => eprintln!("check the key"),
///     Err(e) => eprintln!("{e}"),
/// }
/// # }
/// ```
pub trait TypedCall<T, E>:
    Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>> + Sized
{
    fn typed(self) -> impl Future<Output = Result<ResponseValue<T>, CallError<E>>> {
        AUTH_FAILURE.scope(RefCell::new(None), async move {
            match self.await {
                Ok(value) => Ok(value),
                Err(progenitor_client::Error::Custom(message)) => {
                    match AUTH_FAILURE.with(|slot| slot.borrow_mut().take()) {
                        Some(e) => Err(CallError::Auth(e)),
                        None => Err(CallError::Api(progenitor_client::Error::Custom(message))),
                    }
                }
                Err(e) => Err(CallError::Api(e)),
            }
        })
    }
}

impl<T, E, F> TypedCall<T, E> for F where
    F: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>
{
}
