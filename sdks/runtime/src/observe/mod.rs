//! The observe layer: where every event of a call and of a token fetch
//! goes — counters, OpenTelemetry, the log.

pub(crate) mod events;
mod log;
pub(crate) mod metrics;
pub(crate) mod observer;
mod payload;
pub(crate) mod telemetry;
