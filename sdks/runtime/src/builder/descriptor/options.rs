//! The settings of a client built from a descriptor ([`ClientOptions`]).

use std::sync::Arc;
use std::time::Duration;

use crate::base::policy::RetryPolicy;
use crate::base::time::{Clock, Sleep};
use crate::builder::{Builder, Provider};
use crate::observe::telemetry::Telemetry;

/// Settings of a client built from a descriptor; unset ones keep the
/// builder's defaults.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Wins over the base URL variable.
    pub base_url: Option<String>,
    /// [`Builder::clock`].
    pub clock: Option<Arc<dyn Clock>>,
    /// [`Builder::sleep`].
    pub sleep: Option<Arc<dyn Sleep>>,
    /// [`Builder::retry_policy`].
    pub retry_policy: Option<RetryPolicy>,
    /// [`Builder::telemetry`].
    pub telemetry: Option<Telemetry>,
    /// [`Builder::shared_cache`].
    pub shared_cache: Option<bool>,
    /// [`Builder::timeout`].
    pub timeout: Option<Duration>,
}

impl ClientOptions {
    /// Sets [`base_url`](ClientOptions::base_url): the base URL, winning
    /// over the variable.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// The client's clock ([`Builder::clock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }
    /// The client's timer ([`Builder::sleep`]).
    pub fn sleep(mut self, sleep: Arc<dyn Sleep>) -> Self {
        self.sleep = Some(sleep);
        self
    }
    /// The client's retry policy ([`Builder::retry_policy`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }
    /// Where the client's spans and metrics go ([`Builder::telemetry`]).
    pub fn telemetry(mut self, telemetry: Telemetry) -> Self {
        self.telemetry = Some(telemetry);
        self
    }
    /// Whether the client shares the process's token caches
    /// ([`Builder::shared_cache`]).
    pub fn shared_cache(mut self, shared: bool) -> Self {
        self.shared_cache = Some(shared);
        self
    }
    /// The per-attempt timeout ([`Builder::timeout`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// `b` with every option that is set.
    pub(super) fn apply<P: Provider>(self, mut b: Builder<P>) -> Builder<P> {
        if let Some(url) = self.base_url {
            b = b.base_url(url);
        }
        if let Some(clock) = self.clock {
            b = b.clock(clock);
        }
        if let Some(sleep) = self.sleep {
            b = b.sleep(sleep);
        }
        if let Some(policy) = self.retry_policy {
            b = b.retry_policy(policy);
        }
        if let Some(telemetry) = self.telemetry {
            b = b.telemetry(telemetry);
        }
        if let Some(shared) = self.shared_cache {
            b = b.shared_cache(shared);
        }
        if let Some(timeout) = self.timeout {
            b = b.timeout(timeout);
        }
        b
    }
}
