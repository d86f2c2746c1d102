//! Time, injected: the clock the runtime reads ([`Clock`]) and the timer it
//! waits on ([`Sleep`]) — as smithy-rs injects `TimeSource` and
//! `AsyncSleep`. Refresh scheduling, login backoff, retries, the fetch
//! timeout and the flight deadline all go through them, so a test moves
//! time ([`SimulatedTime`]) instead of sleeping.
//!
//! - `clock.rs`: [`Clock`], the real [`SystemClock`], [`OffsetClock`]
//!   (real time plus an offset shared with the sandbox);
//! - `sleep.rs`: [`Sleep`], the real [`TokioSleep`];
//! - `simulated.rs`: [`SimulatedTime`], a clock and a timer that move only
//!   when the test says so.

mod clock;
pub(crate) mod duration;
mod simulated;
mod sleep;

pub(crate) use clock::is_system;
pub use clock::{Clock, OffsetClock, SystemClock};
pub use simulated::SimulatedTime;
pub use sleep::{Sleep, TokioSleep};
