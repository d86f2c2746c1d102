//! OpenTelemetry as an observer (feature `otel`): a client's
//! [`Recorder`] reports its calls (`call_trace.rs`), its token fetches
//! (`fetch.rs`) and the counters of the metric table, with instruments
//! from its providers (`resolve.rs`): the ones it was given, or the
//! application's global ones as they are when it calls.

use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry::KeyValue;
use opentelemetry::trace::TraceContextExt;
use reqwest::Request;

use super::call_trace::{CallTrace, retry_reason};
use super::fetch::{FetchSpan, FlightLink};
use super::instruments::{Instruments, attr};
use super::resolve::Source;
use super::setting::Telemetry;
use crate::observe::events::{Answered, Attempt, CallEnd, CallStart, Observe, Resend, RetryReason};

/// Where a client's telemetry goes: its instruments' source, or nowhere.
#[derive(Clone, Default)]
pub(crate) struct Recorder(Option<Arc<Source>>);

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Recorder(on)"
        } else {
            "Recorder(off)"
        })
    }
}

impl Recorder {
    /// The telemetry of `provider`'s crate at `version`, from `telemetry`.
    pub(crate) fn new(
        telemetry: &Telemetry,
        provider: &'static str,
        version: &'static str,
    ) -> Recorder {
        Recorder(Source::new(telemetry, provider, version).map(Arc::new))
    }

    /// Whether anything may be recorded.
    #[cfg(test)]
    pub(crate) fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// `f` with the instruments last read, when they record.
    #[inline]
    fn with_last(&self, f: impl FnOnce(&Instruments)) {
        if let Some(source) = &self.0
            && !source.quiet()
            && let Some(resolved) = source.last().as_deref()
            && resolved.instruments.measures
        {
            f(&resolved.instruments);
        }
    }

    /// The span of a token fetch about to start: a child of the current
    /// context (the operation that needed the token), or a root when
    /// `root` (a background refresh nobody waits for).
    pub(crate) fn fetch(&self, reason: &'static str, root: bool, now: Instant) -> FetchSpan {
        let Some(source) = &self.0 else {
            return FetchSpan::default();
        };
        match source.at(now).as_deref() {
            Some(resolved) if resolved.instruments.records() => {
                FetchSpan::start(Arc::clone(&resolved.instruments), reason, root, now)
            }
            _ => FetchSpan::default(),
        }
    }

    /// A call waited for the fetch `link` names (`started`: it started
    /// it; otherwise it joined one in flight): counted, and the current
    /// span (the operation's) links to the fetch's.
    pub(crate) fn waited(&self, link: &FlightLink, started: bool) {
        if self.0.is_none() {
            return;
        }
        let how = if started { "started" } else { "joined" };
        self.with_last(|i| {
            i.meters
                .token_waits
                .add(1, &[KeyValue::new(attr::WAIT, how)])
        });
        if let Some(fetch) = link.span_context() {
            Context::map_current(|cx| {
                let span = cx.span();
                if span.span_context().is_valid() {
                    span.add_link(fetch.clone(), vec![KeyValue::new(attr::WAIT, how)]);
                }
            });
        }
    }
}

/// OpenTelemetry as an observer: a call's spans and durations, and the
/// counters of the metric table.
impl Observe for Recorder {
    fn call_started(&self, trace: &mut CallTrace, call: CallStart<'_>) {
        let Some(source) = &self.0 else {
            return;
        };
        let now = call.clock.now();
        if source.quiet_at(now) {
            return;
        }
        if let Some(resolved) = source.at(now).as_deref() {
            if resolved.instruments.records() {
                *trace = CallTrace::start(Arc::clone(&resolved.instruments), call, now);
            }
            // The tracer may have just shown it makes no span.
            source.learned(resolved);
        }
    }

    fn attempt_started(
        &self,
        trace: &mut CallTrace,
        at: Attempt<'_>,
        request: &mut Request,
        resend: Option<Resend>,
    ) {
        if self.0.is_some() {
            trace.attempt_started(at, request, resend);
        }
    }

    fn attempt_answered(&self, trace: &mut CallTrace, _: Attempt<'_>, answer: Answered<'_>) {
        trace.attempt_answered(answer);
    }

    fn call_ended(&self, trace: &mut CallTrace, end: CallEnd<'_>) {
        trace.call_ended(end);
    }

    fn token_hit(&self) {
        self.with_last(|i| i.meters.token_hits.add(1, &[]));
    }

    fn retrying(&self, _: Attempt<'_>, reason: RetryReason, _: Duration) {
        self.with_last(|i| {
            i.meters.retries.add(
                1,
                &[KeyValue::new(attr::RETRY_REASON, retry_reason(reason))],
            )
        });
    }

    fn renewing(&self, _: Attempt<'_>) {
        self.with_last(|i| i.meters.reauthentications.add(1, &[]));
    }

    fn proactive_refresh(&self) {
        self.with_last(|i| i.meters.proactive_refreshes.add(1, &[]));
    }

    fn login_backoff(&self) {
        self.with_last(|i| i.meters.login_backoff.add(1, &[]));
    }

    fn principal(&self, delta: i64) {
        // A cache is made with its first client, before any call: the
        // providers are read now if they never were.
        if let Some(source) = &self.0
            && let Some(resolved) = source.last_or_read().as_deref()
            && resolved.instruments.measures
        {
            resolved.instruments.meters.principals.add(delta, &[]);
        }
    }
}
