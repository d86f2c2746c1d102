//! OpenTelemetry traces and metrics of every call and every token fetch
//! (feature `otel`; without it every hook here is an empty inline
//! function).
//!
//! - `setting.rs`: [`Telemetry`], a client's setting (the application's
//!   global providers by default, its own providers, or nothing);
//! - `resolve.rs`: the instruments a client reports with — made from the
//!   providers it was given, or from the global ones as they are when it
//!   calls (read again at most once a second);
//! - `instruments.rs`: one instrumentation scope's tracer and meters
//!   (scope = provider crate, version and the conventions' schema);
//! - `call_trace.rs`: one call's spans and durations — an `INTERNAL` span
//!   per operation, a `CLIENT` span and a request duration per attempt;
//! - `fetch.rs`: a token fetch's span and duration;
//! - `otel.rs`: [`Recorder`], OpenTelemetry as an observer of all of it;
//! - `off.rs`: the same hooks doing nothing (the feature off);
//! - `url_full.rs`: `url.full` with the values of secret-bearing query
//!   parameters (named, not guessed from a substring) redacted.
//!
//! Names and units of every instrument and attribute: README, "Telemetry".

#[cfg(feature = "otel")]
pub(crate) mod call_trace;
#[cfg(feature = "otel")]
mod fetch;
#[cfg(feature = "otel")]
mod instruments;
#[cfg(feature = "otel")]
mod otel;
#[cfg(feature = "otel")]
mod resolve;
#[cfg(feature = "otel")]
pub(crate) use fetch::{FetchSpan, FlightLink};
#[cfg(feature = "otel")]
pub(crate) use otel::Recorder;

#[cfg(not(feature = "otel"))]
mod off;
#[cfg(not(feature = "otel"))]
pub(crate) use off::{FetchSpan, FlightLink, Recorder};

#[cfg(feature = "otel")]
mod url_full;

mod setting;
pub(crate) use setting::FetchReport;
pub use setting::Telemetry;

#[cfg(all(test, feature = "otel"))]
mod tests;
