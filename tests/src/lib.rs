//! Tests only; see tests/.
pub mod demo;
pub mod fleet;
pub mod hostile;
pub mod raw;
pub mod redis_access;
pub mod redis_cluster;
pub mod redis_server;
pub mod soak;
pub mod support;
pub mod telemetry_summary;

/// The README's examples compile (`cargo test --doc`).
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
