//! A token fetch's span (`token fetch`, `INTERNAL`) and duration, and
//! what the calls that wait on it link to.

use std::sync::Arc;
use std::time::Instant;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{Span as _, SpanContext, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};

use super::instruments::{Instruments, attr};
use super::setting::FetchReport;

/// A token fetch's span, while the fetch runs.
#[derive(Default)]
pub(crate) struct FetchSpan(Option<FetchInner>);

struct FetchInner {
    instruments: Arc<Instruments>,
    /// The span's context; `None` when the tracer makes none.
    cx: Option<Context>,
    started: Instant,
    reason: &'static str,
}

impl std::fmt::Debug for FetchSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FetchSpan")
    }
}

/// What the calls that wait on a flight link to: its fetch span.
#[derive(Clone, Debug, Default)]
pub(crate) struct FlightLink(Option<SpanContext>);

impl FlightLink {
    pub(super) fn span_context(&self) -> Option<&SpanContext> {
        self.0.as_ref()
    }
}

impl FetchSpan {
    /// The fetch starting now, reported with `instruments`: a child of
    /// the current context, or a root when `root`.
    pub(super) fn start(
        instruments: Arc<Instruments>,
        reason: &'static str,
        root: bool,
        now: Instant,
    ) -> FetchSpan {
        let cx = if instruments.traces() {
            let parent = if root {
                Context::new()
            } else {
                Context::current()
            };
            let span = instruments
                .tracer
                .span_builder("token fetch")
                .with_kind(SpanKind::Internal)
                .with_attributes([
                    KeyValue::new(attr::PROVIDER, instruments.provider),
                    KeyValue::new(attr::REASON, reason),
                ])
                .start_with_context(&instruments.tracer, &parent);
            instruments
                .learn(&parent, span.span_context())
                .then(|| parent.with_span(span))
        } else {
            None
        };
        FetchSpan(Some(FetchInner {
            instruments,
            cx,
            started: now,
            reason,
        }))
    }

    /// Whether the fetch has a span (the runtime's own `tracing` span
    /// would then be a second one, through a `tracing` → OpenTelemetry
    /// bridge).
    pub(crate) fn is_traced(&self) -> bool {
        self.0.as_ref().is_some_and(|i| i.cx.is_some())
    }

    pub(crate) fn link(&self) -> FlightLink {
        FlightLink(
            self.0
                .as_ref()
                .and_then(|i| i.cx.as_ref())
                .map(|cx| cx.span().span_context().clone())
                .filter(SpanContext::is_valid),
        )
    }

    /// `fetch`, run inside the span (its login call becomes a child).
    pub(crate) fn attach<F: Future>(&self, fetch: F) -> impl Future<Output = F::Output> {
        use futures::future::Either;
        match self.0.as_ref().and_then(|i| i.cx.as_ref()) {
            Some(cx) => Either::Left(fetch.with_context(cx.clone())),
            None => Either::Right(fetch),
        }
    }

    pub(crate) fn finish(self, report: FetchReport, now: Instant) {
        let Some(i) = self.0 else {
            return;
        };
        let outcome = if report.error.is_some() {
            "error"
        } else {
            "ok"
        };
        let mut attributes = vec![
            KeyValue::new(attr::REASON, i.reason),
            KeyValue::new(attr::SOURCE, report.source),
            KeyValue::new(attr::OUTCOME, outcome),
        ];
        if let Some(kind) = report.error {
            attributes.push(KeyValue::new("error.type", kind.as_str()));
        }
        let store = report
            .store
            .map(|store| KeyValue::new(attr::STORE_RESULT, store));
        if let Some(cx) = &i.cx {
            let span = cx.span();
            span.set_attributes(attributes.iter().chain(&store).cloned());
            if report.error.is_some() {
                span.set_status(Status::error(""));
            }
            span.end();
        }
        if i.instruments.measures {
            if let Some(store) = store {
                i.instruments.meters.store_lookups.add(1, &[store]);
            }
            let seconds = now.saturating_duration_since(i.started).as_secs_f64();
            i.instruments
                .meters
                .fetch_duration
                .record(seconds, &attributes);
        }
    }
}
