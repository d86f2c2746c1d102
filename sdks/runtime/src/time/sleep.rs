//! The timer the runtime waits on.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use futures::future::{BoxFuture, Either, select};

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

/// The future did not finish within the timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elapsed;

/// `future`, or [`Elapsed`] once `sleep` has waited `duration`.
pub(crate) async fn timeout<F: Future>(
    sleep: &dyn Sleep,
    duration: Duration,
    future: F,
) -> Result<F::Output, Elapsed> {
    let future = std::pin::pin!(future);
    match select(future, sleep.sleep(duration)).await {
        Either::Left((out, _)) => Ok(out),
        Either::Right(_) => Err(Elapsed),
    }
}
