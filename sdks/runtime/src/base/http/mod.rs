//! HTTP details of the base layer: capped bodies, header values made from
//! tokens, response decoding, the headers the runtime reads and writes.

pub mod body;
pub mod header;
pub mod headers;
pub mod response;
pub(crate) mod tls;
