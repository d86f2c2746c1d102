//! OpenTelemetry traces and metrics of every call and every token fetch
//! (feature `otel`; without it every hook here is an empty inline
//! function).
//!
//! - this file: [`Telemetry`], a client's setting (the application's global
//!   providers by default, its own providers, or nothing);
//! - `otel.rs`: the instruments and spans, one instrumentation scope per
//!   provider crate and version;
//! - `off.rs`: the same hooks doing nothing (the feature off);
//! - `url_full.rs`: `url.full` with the values of secret-bearing query
//!   parameters (pledg's `signature`) redacted.
//!
//! Names and units of every instrument and attribute: README, "Telemetry".

use std::fmt;
#[cfg(feature = "otel")]
use std::sync::Arc;

#[cfg(feature = "otel")]
mod otel;
#[cfg(feature = "otel")]
pub(crate) use otel::{Ended, FetchSpan, FlightLink, OperationSpan, Recorder, RetryReason};

#[cfg(not(feature = "otel"))]
mod off;
#[cfg(not(feature = "otel"))]
pub(crate) use off::{FetchSpan, FlightLink, Recorder, RetryReason};

#[cfg(feature = "otel")]
mod url_full;
#[cfg(feature = "otel")]
pub(crate) use url_full::redacted_url;

/// How a token fetch ended, for its span and its duration metric.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) struct FetchReport {
    /// `login`, `refresh`, `store` (another process's token) or `cached`
    /// (a proactive refresh that found the token already renewed).
    pub(crate) source: &'static str,
    /// The error's kind, if it failed.
    pub(crate) error: Option<crate::error::ErrorKind>,
    /// With a shared store: `hit`, `miss` or `outage`.
    pub(crate) store: Option<&'static str>,
}

/// What a client reports to OpenTelemetry: set with
/// `Builder::telemetry(..)`. Clients of one principal share its token
/// cache, never their telemetry: each call and each fetch it triggers is
/// reported to the providers of the client that made it.
#[derive(Clone)]
pub struct Telemetry {
    pub(crate) setting: Setting,
}

#[derive(Clone)]
pub(crate) enum Setting {
    Off,
    #[cfg(feature = "otel")]
    Global,
    #[cfg(feature = "otel")]
    Providers {
        tracer: Arc<dyn opentelemetry::global::ObjectSafeTracerProvider + Send + Sync>,
        meter: Arc<dyn opentelemetry::metrics::MeterProvider + Send + Sync>,
    },
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.setting {
            Setting::Off => "Telemetry::off",
            #[cfg(feature = "otel")]
            Setting::Global => "Telemetry::global",
            #[cfg(feature = "otel")]
            Setting::Providers { .. } => "Telemetry::with_providers",
        })
    }
}

/// With the `otel` feature, [`Telemetry::global`]; without it, nothing.
impl Default for Telemetry {
    fn default() -> Self {
        #[cfg(feature = "otel")]
        return Telemetry::global();
        #[cfg(not(feature = "otel"))]
        Telemetry::off()
    }
}

impl Telemetry {
    /// Report nothing (no span, no metric, no `traceparent`).
    pub fn off() -> Telemetry {
        Telemetry {
            setting: Setting::Off,
        }
    }

    /// The application's global providers (`opentelemetry::global`), as
    /// set when the client is built. With none set, the API's no-op
    /// providers: nothing recorded, nothing sent.
    #[cfg(feature = "otel")]
    pub fn global() -> Telemetry {
        Telemetry {
            setting: Setting::Global,
        }
    }

    /// These providers, not the global ones.
    #[cfg(feature = "otel")]
    pub fn with_providers<T, M>(tracer_provider: T, meter_provider: M) -> Telemetry
    where
        T: opentelemetry::global::ObjectSafeTracerProvider + Send + Sync + 'static,
        M: opentelemetry::metrics::MeterProvider + Send + Sync + 'static,
    {
        Telemetry {
            setting: Setting::Providers {
                tracer: Arc::new(tracer_provider),
                meter: Arc::new(meter_provider),
            },
        }
    }
}

#[cfg(all(test, feature = "otel"))]
mod tests;
