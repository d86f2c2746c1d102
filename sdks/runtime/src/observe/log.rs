//! The log as an observer: one `tracing` event per event worth a line.
//! Each is out of line and cold: a call that succeeds at once — nearly
//! every call — does not carry their code through the instruction cache.

use std::time::Duration;

use tracing::{debug, info, warn};

use super::events::{Attempt, Observe, Reason, RetryReason};
use crate::base::error::Error;

/// The log sink.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Log;

impl Observe for Log {
    #[cold]
    #[inline(never)]
    fn renewing(&self, at: Attempt<'_>) {
        info!(
            provider = at.provider,
            operation = at.operation,
            attempt = at.number,
            "401: dropping the token, re-authenticating, retrying once"
        );
    }

    #[cold]
    #[inline(never)]
    fn renewal_failed(&self, provider: &'static str, e: &Error) {
        warn!(provider, kind = ?e.kind(), "re-authentication after 401 failed: {e}");
    }

    #[cold]
    #[inline(never)]
    fn retrying(&self, at: Attempt<'_>, reason: RetryReason, delay: Duration) {
        let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        match reason {
            RetryReason::Status(status) => warn!(
                provider = at.provider,
                operation = at.operation,
                attempt = at.number,
                status,
                delay_ms,
                "transient HTTP status; retrying"
            ),
            RetryReason::Timeout | RetryReason::Connection => warn!(
                provider = at.provider,
                operation = at.operation,
                attempt = at.number,
                delay_ms,
                "transport failure ({}); retrying",
                if reason == RetryReason::Timeout {
                    "timeout"
                } else {
                    "connection"
                }
            ),
        }
    }

    #[cold]
    #[inline(never)]
    fn login_sent(&self, provider: &'static str) {
        debug!(provider, "logging in");
    }

    #[cold]
    #[inline(never)]
    fn refresh_sent(&self, provider: &'static str) {
        debug!(provider, "refreshing with refresh token");
    }

    #[cold]
    #[inline(never)]
    fn fetch_failed(&self, provider: &'static str, reason: Reason, e: &Error) {
        warn!(provider, reason = reason.as_str(), kind = ?e.kind(), "token fetch failed: {e}");
        debug!(provider, "keeping the current token, if any");
    }
}
