//! [`Telemetry`], a client's setting: the application's global providers by
//! default, its own providers, or nothing.

use std::fmt;
#[cfg(feature = "otel")]
use std::sync::Arc;

/// How a token fetch ended, for its span and its duration metric.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) struct FetchReport {
    /// `login`, `refresh`, `store` (another process's token) or `cached`
    /// (a proactive refresh that found the token already renewed).
    pub(crate) source: &'static str,
    /// The error's kind, if it failed.
    pub(crate) error: Option<crate::base::error::ErrorKind>,
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
    /// they are when the client calls — not when it was built: a client
    /// made before the application installs its providers reports to
    /// them. A client reads them on its first call and again on a call a
    /// second or more (on its clock) after the last reading; a provider
    /// replaced in between is seen within that second. With none set, the
    /// API's no-op providers: nothing recorded, nothing sent, and a call
    /// costs a clock reading more than with [`Telemetry::off`].
    #[cfg(feature = "otel")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
    pub fn global() -> Telemetry {
        Telemetry {
            setting: Setting::Global,
        }
    }

    /// These providers, not the global ones.
    #[cfg(feature = "otel")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
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
