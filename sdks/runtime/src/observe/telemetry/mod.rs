//! OpenTelemetry traces and metrics of every call and every token fetch
//! (feature `otel`; without it every hook here is an empty inline
//! function).
//!
//! - `setting.rs`: [`Telemetry`], a client's setting (the application's global
//!   providers by default, its own providers, or nothing);
//! - `otel.rs`: the instruments and spans, one instrumentation scope per
//!   provider crate and version;
//! - `off.rs`: the same hooks doing nothing (the feature off);
//! - `url_full.rs`: `url.full` with the values of secret-bearing query
//!   parameters (pledg's `signature`) redacted.
//!
//! Names and units of every instrument and attribute: README, "Telemetry".

#[cfg(feature = "otel")]
mod otel;
#[cfg(feature = "otel")]
pub(crate) use otel::{Ended, FetchSpan, FlightLink, OperationSpan, Recorder};

#[cfg(not(feature = "otel"))]
mod off;
#[cfg(not(feature = "otel"))]
pub(crate) use off::{FetchSpan, FlightLink, Recorder};

#[cfg(feature = "otel")]
mod url_full;
#[cfg(feature = "otel")]
pub(crate) use url_full::redacted_url;

mod setting;
pub(crate) use setting::FetchReport;
pub use setting::Telemetry;

#[cfg(all(test, feature = "otel"))]
mod tests;
