//! [`Observer`]: the one place events are reported to. It hands each to
//! the three sinks — the counters ([`Metrics`]), OpenTelemetry
//! ([`Recorder`]; empty inline functions without the `otel` feature) and
//! the log ([`Log`]) — statically, so an event no sink records costs
//! nothing.

use std::time::Duration;

use reqwest::Request;

use super::events::{
    Answered, Attempt, CallEnd, CallStart, CallTrace, Observe, Reason, Resend, RetryReason,
};
use super::log::Log;
use super::metrics::Metrics;
use super::telemetry::Recorder;
use crate::base::error::Error;

/// The sinks of one event: the counters it goes to (a client's, or a
/// principal's cache's) and the telemetry of the client it happened for.
#[derive(Clone, Copy)]
pub(crate) struct Observer<'a> {
    pub(crate) counters: &'a Metrics,
    pub(crate) telemetry: &'a Recorder,
}

macro_rules! to_every_sink {
    ($( fn $name:ident(&self $(, $arg:ident: $ty:ty)*); )*) => {
        impl Observe for Observer<'_> {
            // A call's events: its trace (and the request) lent to each
            // sink in turn.
            #[inline(always)]
            fn call_started(&self, trace: &mut CallTrace, call: CallStart<'_>) {
                self.counters.call_started(trace, call);
                self.telemetry.call_started(trace, call);
                Log.call_started(trace, call);
            }
            #[inline(always)]
            fn attempt_started(
                &self,
                trace: &mut CallTrace,
                at: Attempt<'_>,
                request: &mut Request,
                resend: Option<Resend>,
            ) {
                self.counters.attempt_started(trace, at, request, resend);
                self.telemetry.attempt_started(trace, at, request, resend);
                Log.attempt_started(trace, at, request, resend);
            }
            #[inline(always)]
            fn attempt_answered(&self, trace: &mut CallTrace, at: Attempt<'_>, answer: Answered<'_>) {
                self.counters.attempt_answered(trace, at, answer);
                self.telemetry.attempt_answered(trace, at, answer);
                Log.attempt_answered(trace, at, answer);
            }
            #[inline(always)]
            fn call_ended(&self, trace: &mut CallTrace, end: CallEnd<'_>) {
                self.counters.call_ended(trace, end);
                self.telemetry.call_ended(trace, end);
                Log.call_ended(trace, end);
            }
            $(
                #[inline(always)]
                fn $name(&self $(, $arg: $ty)*) {
                    self.counters.$name($($arg),*);
                    self.telemetry.$name($($arg),*);
                    Log.$name($($arg),*);
                }
            )*
        }
    };
}

to_every_sink! {
    fn token_hit(&self);
    fn renewing(&self, at: Attempt<'_>);
    fn renewal_failed(&self, provider: &'static str, error: &Error);
    fn retrying(&self, at: Attempt<'_>, reason: RetryReason, delay: Duration);
    fn login_sent(&self, provider: &'static str);
    fn refresh_sent(&self, provider: &'static str);
    fn fetch_failed(&self, provider: &'static str, reason: Reason, error: &Error);
    fn invalidated(&self, provider: &'static str);
    fn proactive_refresh(&self);
    fn login_backoff(&self);
    fn principal(&self, delta: i64);
}
