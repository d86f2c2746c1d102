//! How one client fetches tokens: the settings a fetch runs with.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::flow::TokenFlow;
use crate::base::policy::DEFAULT_FETCH_TIMEOUT;
use crate::base::time::{Sleep, TokioSleep};
use crate::observe::telemetry::Recorder;

/// What a fetch runs with: the flow (which carries the client's HTTP client
/// and login retry policy), the longest the fetch may take, and the timer
/// it waits on. A cache shared by several clients of one principal runs
/// each fetch with the source of the client whose call triggered it — a
/// client's proxy, root CA, timeouts or retry policy are never silently
/// replaced by another client's.
#[derive(Clone)]
pub struct TokenSource {
    flow: Arc<dyn TokenFlow>,
    fetch_timeout: Duration,
    sleep: Arc<dyn Sleep>,
    /// Where the fetch's span and metrics go (the client's telemetry).
    telemetry: Recorder,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("fetch_timeout", &self.fetch_timeout)
            .field("sleep", &self.sleep)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// `flow` with [`DEFAULT_FETCH_TIMEOUT`] and the Tokio timer.
    pub fn new(flow: Arc<dyn TokenFlow>) -> Self {
        TokenSource {
            flow,
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
            sleep: Arc::new(TokioSleep),
            telemetry: Recorder::default(),
        }
    }

    /// The longest one fetch (refresh token, then login, with retries) may
    /// take before its waiters get a `Transient` error.
    pub fn with_fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// The timer the fetch waits on (its timeout, its pauses).
    pub fn with_sleep(mut self, sleep: Arc<dyn Sleep>) -> Self {
        self.sleep = sleep;
        self
    }

    /// Report the fetches to this client's telemetry.
    pub(crate) fn with_telemetry(mut self, telemetry: Recorder) -> Self {
        self.telemetry = telemetry;
        self
    }

    pub(crate) fn telemetry(&self) -> &Recorder {
        &self.telemetry
    }

    /// The flow a fetch logs in or refreshes with.
    pub fn flow(&self) -> &Arc<dyn TokenFlow> {
        &self.flow
    }

    /// The longest one fetch through this source may take.
    pub fn fetch_timeout(&self) -> Duration {
        self.fetch_timeout
    }

    /// The timer a fetch waits on (its timeout, a malformed answer asked
    /// again).
    pub fn sleeper(&self) -> &dyn Sleep {
        self.sleep.as_ref()
    }

    pub(crate) fn sleep_for(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.sleep.sleep(duration)
    }
}
