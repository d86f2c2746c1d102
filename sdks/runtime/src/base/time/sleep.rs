//! The timer the runtime waits on.

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;

/// Waits a duration. The runtime never calls `tokio::time` directly: every
/// wait (retry backoff, `Retry-After`, a malformed token answer asked
/// again, the fetch timeout, a waiter's deadline) goes through the
/// [`Sleep`] its client was built with.
pub trait Sleep: Send + Sync + fmt::Debug + 'static {
    /// A future that completes after `duration` of this timer's time.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// The real timer: `tokio::time::sleep` (needs a Tokio runtime with time
/// enabled; a duration past the end of the clock is "never").
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleep;

impl Sleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}
