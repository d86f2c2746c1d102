//! Counters a test or a metrics exporter can read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Request;

use super::events::{Attempt, CallTrace, Observe, Reason, Resend, RetryReason};
use crate::base::error::Error;

macro_rules! counters {
    ($($field:ident => $inc:ident: $doc:literal),* $(,)?) => {
        /// Live counters: a client's (requests, retries, 401 recoveries) or a
        /// principal's cache's (logins, refreshes, failed fetches, invalidations).
        #[derive(Debug, Default)]
        pub struct Metrics { $(#[doc = $doc] $field: AtomicU64,)* }

        /// A point-in-time copy of [`Metrics`].
        #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
        pub struct MetricsSnapshot { $(#[doc = $doc] pub $field: u64,)* }

        impl Metrics {
            $(pub(crate) fn $inc(&self) { self.$field.fetch_add(1, Ordering::Relaxed); })*

            /// Every counter's value now (each read on its own: a
            /// snapshot taken during calls may be mid-update).
            pub fn snapshot(&self) -> MetricsSnapshot {
                MetricsSnapshot { $($field: self.$field.load(Ordering::Relaxed),)* }
            }
        }
    };
}

impl MetricsSnapshot {
    /// These counters with the token counters (logins, refreshes, failed
    /// fetches, invalidations) taken from `cache`.
    pub fn with_token_counters(mut self, cache: &MetricsSnapshot) -> Self {
        self.logins = cache.logins;
        self.refreshes = cache.refreshes;
        self.fetch_failures = cache.fetch_failures;
        self.invalidations = cache.invalidations;
        self
    }
}

/// The counters as an observer.
impl Observe for Metrics {
    #[inline(always)]
    fn attempt_started(
        &self,
        _: &mut CallTrace,
        _: Attempt<'_>,
        _: &mut Request,
        _: Option<Resend>,
    ) {
        self.inc_requests();
    }
    #[inline(always)]
    fn renewing(&self, _: Attempt<'_>) {
        self.inc_reauthentications();
    }
    #[inline(always)]
    fn retrying(&self, _: Attempt<'_>, _: RetryReason, _: Duration) {
        self.inc_retries();
    }
    #[inline(always)]
    fn login_sent(&self, _: &'static str) {
        self.inc_logins();
    }
    #[inline(always)]
    fn refresh_sent(&self, _: &'static str) {
        self.inc_refreshes();
    }
    #[inline(always)]
    fn fetch_failed(&self, _: &'static str, _: Reason, _: &Error) {
        self.inc_fetch_failures();
    }
    #[inline(always)]
    fn invalidated(&self, _: &'static str) {
        self.inc_invalidations();
    }
}

counters! {
    logins => inc_logins: "Full logins sent to the provider.",
    refreshes => inc_refreshes: "Refresh-token exchanges sent to the provider.",
    fetch_failures => inc_fetch_failures: "Token fetches (login or refresh) that failed.",
    invalidations => inc_invalidations: "Cached tokens dropped after a 401.",
    requests => inc_requests: "HTTP attempts sent (retries included).",
    retries => inc_retries: "Transient-failure retries.",
    reauthentications => inc_reauthentications: "401 recoveries: re-authenticate and retry once.",
}
