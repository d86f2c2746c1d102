//! [`CallbackSettings`]: where the sandbox sends the providers' callbacks, and how often it
//! tries (a part of [`crate::SandboxConfig`], JSON key `callbacks`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How the sandbox calls applications back.
///
/// A callback goes to the URL its request named (exirom `callbackUrl`, axept `webHookUrl`,
/// pledg `notification_url`) when that URL is on this machine (`localhost`, `127.0.0.0/8`,
/// `::1`); to [`CallbackSettings::forward_to`] instead when it is set, whatever the request
/// named (as `stripe listen --forward-to`). A URL elsewhere is not called unless
/// [`CallbackSettings::remote`] allows it: tests and fuzzers hand the sandbox any URL, and it
/// must not post to the internet on their behalf. Redirects are never followed.
///
/// An answer other than 2xx, or none, is tried again after `first_retry`, then twice as long
/// each time up to `max_retry`, `max_attempts` attempts in all, waiting on the sandbox clock
/// (advancing it brings the next attempt forward).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallbackSettings {
    /// Send every callback here instead of the URL the request named.
    pub forward_to: Option<String>,
    /// Also call URLs off this machine (default: no).
    pub remote: bool,
    /// Attempts per callback, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the second attempt.
    pub first_retry: Duration,
    /// Longest wait between two attempts.
    pub max_retry: Duration,
    /// Longest an attempt waits for the receiver's answer (real time).
    pub attempt_timeout: Duration,
}

/// Six attempts: the first, then 1 s, 2 s, 4 s, 8 s and 16 s later (31 s in all). A
/// receiver restarted during development is caught; one that is down for good is given
/// up within a minute.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 6;
/// The wait before the second attempt; each later wait doubles.
pub const DEFAULT_FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between two attempts (the doubling stops there).
pub const DEFAULT_MAX_RETRY: Duration = Duration::from_secs(60);
/// As long as a provider would plausibly wait on a slow application.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for CallbackSettings {
    fn default() -> Self {
        CallbackSettings {
            forward_to: None,
            remote: false,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            first_retry: DEFAULT_FIRST_RETRY,
            max_retry: DEFAULT_MAX_RETRY,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
        }
    }
}

impl CallbackSettings {
    /// Every callback to `url`, whatever its request named.
    pub fn forward_to(mut self, url: impl Into<String>) -> Self {
        self.forward_to = Some(url.into());
        self
    }

    /// The wait after attempt `attempt` (from 1) failed: `first_retry × 2^(attempt-1)`,
    /// at most `max_retry`.
    pub fn retry_after(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.first_retry
            .saturating_mul(1u32 << doublings)
            .min(self.max_retry)
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.max_attempts == 0 {
            return Err("callbacks.max_attempts must be at least 1".into());
        }
        if self.attempt_timeout.is_zero() {
            return Err("callbacks.attempt_timeout must be positive".into());
        }
        if let Some(url) = &self.forward_to {
            let parsed = reqwest::Url::parse(url)
                .map_err(|_| "callbacks.forward_to must be an http(s) URL".to_string())?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err("callbacks.forward_to must be an http(s) URL".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_the_cap_and_never_overflows() {
        let s = CallbackSettings::default();
        let waits: Vec<u64> = (1..=7).map(|n| s.retry_after(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60]);
        assert_eq!(s.retry_after(u32::MAX), DEFAULT_MAX_RETRY);
        let huge = CallbackSettings {
            first_retry: Duration::MAX,
            max_retry: Duration::MAX,
            ..CallbackSettings::default()
        };
        assert_eq!(huge.retry_after(40), Duration::MAX);
    }

    #[test]
    fn a_forwarding_url_must_be_http() {
        let ok = CallbackSettings::default().forward_to("http://127.0.0.1:3000/hooks");
        assert_eq!(ok.validate(), Ok(()));
        for bad in ["ftp://x/y", "not a url", "unix:/tmp/sock"] {
            assert!(
                CallbackSettings::default()
                    .forward_to(bad)
                    .validate()
                    .is_err(),
                "{bad}"
            );
        }
        let none = CallbackSettings {
            max_attempts: 0,
            ..CallbackSettings::default()
        };
        assert!(none.validate().is_err());
    }
}
