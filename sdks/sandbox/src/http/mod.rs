//! HTTP: requests in ([`request`]), answers out ([`reply`]), the pipeline every provider
//! request goes through ([`pipeline`]), the control plane ([`control`]) and the accept
//! loop ([`server`]).

pub(crate) mod control;
pub(crate) mod pipeline;
pub(crate) mod reply;
pub(crate) mod request;
pub(crate) mod server;
