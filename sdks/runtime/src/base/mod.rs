//! The base layer: what every other layer stands on, importing nothing
//! above it — time, secrets, the error type, HTTP body/header/response
//! handling, expiry parsing, the security table, the call policy and its
//! named defaults.

pub(crate) mod error;
pub mod expiry;
pub(crate) mod http;
pub(crate) mod operation_body;
pub(crate) mod policy;
pub(crate) mod secret;
pub(crate) mod security;
pub(crate) mod sync;
pub(crate) mod time;
