//! Mechanisms several providers share, emulated once: field checks of JSON bodies,
//! bearer-token checks, OAuth2 client credentials, idempotent creation by request id, and
//! the callbacks every provider sends (one sender, retried on the sandbox clock).
//! Token issuing, expiry and revocation live in `state` (`Inner::issue`, `Inner::verify`).

pub(crate) mod bearer;
pub(crate) mod callbacks;
pub(crate) mod check;
pub(crate) mod idempotency;
pub(crate) mod oauth2;
