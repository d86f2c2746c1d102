//! What a session's calls run with, beside their credentials: the retry
//! policy, clock, timer, counters and telemetry.

use std::sync::Arc;
use std::time::Duration;

use crate::base::policy::RetryPolicy;
use crate::base::time::{Clock, Sleep};
use crate::observe::metrics::Metrics;
use crate::observe::observer::Observer;
use crate::observe::telemetry::Recorder;

/// A session's settings.
#[derive(Clone)]
pub(crate) struct CallSettings {
    pub(super) provider: &'static str,
    /// This session sends the provider's token requests: always safe to
    /// retry (no side effect beyond a token), never given a bearer.
    pub(super) auth_endpoint: bool,
    pub(super) policy: RetryPolicy,
    pub(super) clock: Arc<dyn Clock>,
    /// The timer retries wait on.
    pub(super) sleep: Arc<dyn Sleep>,
    pub(super) metrics: Arc<Metrics>,
    /// The timeout the HTTP client itself puts on every request, when
    /// known (the client the SDK builds); `None` for an application's.
    pub(super) client_timeout: Option<Duration>,
    /// Where this client's spans and metrics go.
    pub(super) telemetry: Recorder,
}

impl CallSettings {
    /// Where this session's events go.
    #[inline(always)]
    pub(super) fn observer(&self) -> Observer<'_> {
        Observer {
            counters: &self.metrics,
            telemetry: &self.telemetry,
        }
    }
}
