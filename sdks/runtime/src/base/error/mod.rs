//! One error type for every SDK, with `is_*` predicates. Messages never
//! contain a credential, a token or a response body.
//!
//! - `runtime.rs`: [`Error`] and [`ErrorKind`], the runtime's error (a token
//!   fetch, a hand-made request);
//! - `operation.rs`: [`OperationError`], a generated operation's, which adds
//!   the operation's id, the response's headers and its documented error body.

mod operation;
mod runtime;

pub(crate) use operation::undecodable;
pub use operation::{Operation, OperationError, auth_body, auth_body_refined};
pub use runtime::{Error, ErrorKind};
