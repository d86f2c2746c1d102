//! The instruments and spans (feature `otel`): one instrumentation scope
//! per provider crate and version, made from the client's [`Telemetry`]
//! when the client is built.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use opentelemetry::context::FutureExt as _;
use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::{Counter, Histogram, Meter, UpDownCounter};
use opentelemetry::propagation::Injector;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanKind, Status, TraceContextExt, Tracer, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue, StringValue};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::setting::{FetchReport, Setting, Telemetry};
use crate::base::time::Clock;
use crate::observe::events::{Attempt, Observe, RetryReason};

/// The HTTP client duration buckets the semantic conventions advise, in seconds.
const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Attribute names beyond the semantic conventions' own.
pub(crate) mod attr {
    pub(crate) const PROVIDER: &str = "payauth.provider";
    pub(crate) const OPERATION: &str = "payauth.operation";
    pub(crate) const REASON: &str = "payauth.token.reason";
    pub(crate) const SOURCE: &str = "payauth.token.source";
    pub(crate) const OUTCOME: &str = "payauth.token.outcome";
    pub(crate) const WAIT: &str = "payauth.token.wait";
    pub(crate) const STORE_RESULT: &str = "payauth.store.result";
    pub(crate) const RETRY_REASON: &str = "payauth.retry.reason";
}

/// Where a client's telemetry goes: its instruments, or nowhere.
#[derive(Clone, Default)]
pub(crate) struct Recorder(Option<Arc<Instruments>>);

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Recorder(on)"
        } else {
            "Recorder(off)"
        })
    }
}

struct Instruments {
    provider: &'static str,
    tracer: BoxedTracer,
    request_duration: Histogram<f64>,
    fetch_duration: Histogram<f64>,
    token_hits: Counter<u64>,
    token_waits: Counter<u64>,
    proactive_refreshes: Counter<u64>,
    reauthentications: Counter<u64>,
    retries: Counter<u64>,
    login_backoff: Counter<u64>,
    store_lookups: Counter<u64>,
    principals: UpDownCounter<i64>,
    /// The last `server.address` (host, value).
    last_address: arc_swap::ArcSwapOption<(Box<str>, StringValue)>,
    /// The tracer made no span of a root before (a no-op tracer).
    silent_tracer: AtomicBool,
}

impl Instruments {
    fn new(provider: &'static str, tracer: BoxedTracer, meter: &Meter) -> Instruments {
        Instruments {
            provider,
            tracer,
            request_duration: meter
                .f64_histogram("http.client.request.duration")
                .with_unit("s")
                .with_description("Duration of one operation's HTTP exchange, its retries and 401 recovery included.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            fetch_duration: meter
                .f64_histogram("payauth.token.fetch.duration")
                .with_unit("s")
                .with_description("Duration of one token fetch (login, refresh, or shared-store read).")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            token_hits: meter
                .u64_counter("payauth.token.cache.hits")
                .with_unit("{request}")
                .with_description("Requests that carried a cached token without waiting.")
                .build(),
            token_waits: meter
                .u64_counter("payauth.token.cache.waits")
                .with_unit("{request}")
                .with_description("Requests that waited for a token fetch (started it, or joined one in flight).")
                .build(),
            proactive_refreshes: meter
                .u64_counter("payauth.token.proactive_refreshes")
                .with_unit("{fetch}")
                .with_description("Background refreshes started before the token's expiry.")
                .build(),
            reauthentications: meter
                .u64_counter("payauth.http.reauthentications")
                .with_unit("{request}")
                .with_description("401 answers recovered by renewing the token and retrying once.")
                .build(),
            retries: meter
                .u64_counter("payauth.http.retries")
                .with_unit("{attempt}")
                .with_description("Attempts repeated after a transient failure, by reason.")
                .build(),
            login_backoff: meter
                .u64_counter("payauth.token.login_backoff")
                .with_unit("{fetch}")
                .with_description("Token fetches refused because logins are backing off after refusals.")
                .build(),
            store_lookups: meter
                .u64_counter("payauth.store.lookups")
                .with_unit("{fetch}")
                .with_description("Token fetches through the shared store, by result (hit, miss, outage).")
                .build(),
            principals: meter
                .i64_up_down_counter("payauth.token.principals")
                .with_unit("{principal}")
                .with_description("Principals whose token cache is alive in this process.")
                .build(),
            last_address: arc_swap::ArcSwapOption::empty(),
            silent_tracer: AtomicBool::new(false),
        }
    }
}

/// A retry's reason as the `payauth.retry.reason` attribute.
fn retry_reason(reason: RetryReason) -> opentelemetry::Value {
    match reason {
        RetryReason::Status(429) => "429".into(),
        RetryReason::Status(503) => "503".into(),
        RetryReason::Status(s) => opentelemetry::Value::String(s.to_string().into()),
        RetryReason::Timeout => "timeout".into(),
        RetryReason::Connection => "connection".into(),
    }
}

/// OpenTelemetry as an observer: the counters of the metric table.
impl Observe for Recorder {
    fn token_hit(&self) {
        if let Some(i) = &self.0 {
            i.token_hits.add(1, &[]);
        }
    }

    fn retrying(&self, _: Attempt<'_>, reason: RetryReason, _: Duration) {
        if let Some(i) = &self.0 {
            i.retries.add(
                1,
                &[KeyValue::new(attr::RETRY_REASON, retry_reason(reason))],
            );
        }
    }

    fn renewing(&self, _: Attempt<'_>) {
        if let Some(i) = &self.0 {
            i.reauthentications.add(1, &[]);
        }
    }

    fn proactive_refresh(&self) {
        if let Some(i) = &self.0 {
            i.proactive_refreshes.add(1, &[]);
        }
    }

    fn login_backoff(&self) {
        if let Some(i) = &self.0 {
            i.login_backoff.add(1, &[]);
        }
    }

    fn principal(&self, delta: i64) {
        if let Some(i) = &self.0 {
            i.principals.add(delta, &[]);
        }
    }
}

impl Recorder {
    /// The instruments of `provider`'s crate at `version`, from `telemetry`.
    pub(crate) fn new(
        telemetry: &Telemetry,
        provider: &'static str,
        version: &'static str,
    ) -> Recorder {
        let scope = || {
            InstrumentationScope::builder(provider)
                .with_version(version)
                .build()
        };
        let (tracer, meter) = match &telemetry.setting {
            Setting::Off => return Recorder(None),
            Setting::Global => (
                opentelemetry::global::tracer_provider().tracer_with_scope(scope()),
                opentelemetry::global::meter_provider().meter_with_scope(scope()),
            ),
            Setting::Providers { tracer, meter } => (
                BoxedTracer::new(tracer.boxed_tracer(scope())),
                meter.meter_with_scope(scope()),
            ),
        };
        Recorder(Some(Arc::new(Instruments::new(provider, tracer, &meter))))
    }

    /// Whether anything is recorded.
    #[cfg(test)]
    pub(crate) fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// The span of a token fetch about to start: a child of the current
    /// context (the operation that needed the token), or a root when
    /// `root` (a background refresh nobody waits for).
    pub(crate) fn fetch(&self, reason: &'static str, root: bool, now: Instant) -> FetchSpan {
        let Some(i) = &self.0 else {
            return FetchSpan(None);
        };
        let parent = if root {
            Context::new()
        } else {
            Context::current()
        };
        let span = i
            .tracer
            .span_builder("token fetch")
            .with_kind(SpanKind::Internal)
            .with_attributes([
                KeyValue::new(attr::PROVIDER, i.provider),
                KeyValue::new(attr::REASON, reason),
            ])
            .start_with_context(&i.tracer, &parent);
        FetchSpan(Some(FetchInner {
            instruments: Arc::clone(i),
            cx: parent.with_span(span),
            started: now,
            reason,
        }))
    }

    /// A call waited for the fetch `link` names (`started`: it started
    /// it; otherwise it joined one in flight): counted, and the current
    /// span (the operation's) links to the fetch's.
    pub(crate) fn waited(&self, link: &FlightLink, started: bool) {
        let Some(i) = &self.0 else {
            return;
        };
        let how = if started { "started" } else { "joined" };
        i.token_waits.add(1, &[KeyValue::new(attr::WAIT, how)]);
        if let Some(fetch) = &link.0 {
            Context::map_current(|cx| {
                let span = cx.span();
                if span.span_context().is_valid() {
                    span.add_link(fetch.clone(), vec![KeyValue::new(attr::WAIT, how)]);
                }
            });
        }
    }

    /// W3C trace context (or whatever propagator the application set) on
    /// an outgoing request, when a span is current. With no propagator
    /// set, the API's no-op one adds nothing.
    pub(crate) fn inject(&self, headers: &mut HeaderMap) {
        if self.0.is_none() {
            return;
        }
        Context::map_current(|cx| {
            if cx.span().span_context().is_valid() {
                opentelemetry::global::get_text_map_propagator(|p| {
                    p.inject_context(cx, &mut HeaderInjector(headers))
                });
            }
        });
    }

    /// The client span of one operation (every attempt of it), started
    /// now as a child of the current context: its metrics always, its
    /// span when a tracer makes one (the API's no-op tracer gives an
    /// invalid context: then nothing of tracing is done for the call —
    /// no context to carry, no header, no attributes).
    pub(crate) fn operation(
        &self,
        request: &reqwest::Request,
        operation: &'static str,
        clock: &Arc<dyn Clock>,
    ) -> Option<Box<OperationSpan>> {
        let i = self.0.as_ref()?;
        let now = clock.now();
        let url = request.url();
        let method = method_name(request.method());
        let port = i64::from(url.port_or_known_default().unwrap_or(0));
        let base = [
            KeyValue::new("http.request.method", method),
            KeyValue::new(
                "server.address",
                i.address(url.host_str().unwrap_or_default()),
            ),
            KeyValue::new("server.port", port),
            KeyValue::new(attr::OPERATION, operation),
        ];
        // The operation's id names its span; a hand-made request, which
        // has none, is named by its method (the conventions' `{method}`).
        let name = if operation.is_empty() || operation.starts_with('(') {
            method
        } else {
            operation
        };
        let parent = Context::current();
        let root = !parent.has_active_span();
        // A tracer that made nothing of a root span before (the API's
        // no-op one) is not asked again for one: a call that records no
        // span costs no span built and dropped.
        if root && i.silent_tracer.load(Ordering::Relaxed) {
            return Some(Box::new(OperationSpan {
                instruments: Arc::clone(i),
                cx: None,
                clock: Arc::clone(clock),
                started: now,
                base: Some(base),
                ended: false,
            }));
        }
        // The attributes go in with the span (one list, not one locked
        // update each), and a sampler sees them.
        let mut attributes = Vec::with_capacity(base.len() + 2);
        attributes.extend(base.iter().cloned());
        attributes.push(KeyValue::new(attr::PROVIDER, i.provider));
        attributes.push(KeyValue::new("url.full", super::redacted_url(url)));
        let span = i
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(&i.tracer, &parent);
        if root && !span.span_context().is_valid() && !parent.is_telemetry_suppressed() {
            i.silent_tracer.store(true, Ordering::Relaxed);
        }
        let cx = span
            .span_context()
            .is_valid()
            .then(|| parent.with_span(span));
        Some(Box::new(OperationSpan {
            instruments: Arc::clone(i),
            cx,
            clock: Arc::clone(clock),
            started: now,
            base: Some(base),
            ended: false,
        }))
    }
}

impl Instruments {
    /// `server.address` for `host`: the last one's value again (a
    /// reference count, no copy of the string) when it is the same host —
    /// a client talks to one.
    fn address(&self, host: &str) -> StringValue {
        if let Some(last) = self.last_address.load().as_deref()
            && &*last.0 == host
        {
            return last.1.clone();
        }
        let value = StringValue::from(Arc::<str>::from(host));
        self.last_address
            .store(Some(Arc::new((host.into(), value.clone()))));
        value
    }
}

/// The method as the semantic conventions name it (`_OTHER` for one they
/// do not know).
fn method_name(method: &reqwest::Method) -> &'static str {
    use reqwest::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "_OTHER",
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// How an operation ended, for its span and its duration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ended {
    pub(crate) status: Option<u16>,
    /// `error.type`: the status code for a 4xx or 5xx answer, the
    /// transport failure (`timeout`, `connect`, `connection`) or the
    /// error kind when no request went out.
    pub(crate) error: Option<&'static str>,
    pub(crate) attempts: u32,
}

/// One operation's client span; dropped unfinished (the caller gave up),
/// it ends with `error.type = cancelled`.
pub(crate) struct OperationSpan {
    instruments: Arc<Instruments>,
    /// The span's context; `None` when no tracer made one.
    cx: Option<Context>,
    /// The session's clock: the duration, however the call ends (a
    /// cancelled one included), is read on it.
    clock: Arc<dyn Clock>,
    started: Instant,
    /// method, address, port, operation: the duration's attributes too
    /// (taken when it is recorded).
    base: Option<[KeyValue; 4]>,
    ended: bool,
}

impl OperationSpan {
    /// The context the operation's attempts run in (its token fetches
    /// become children of its span, its requests carry its trace), when
    /// there is a span.
    pub(crate) fn context(&self) -> Option<Context> {
        self.cx.clone()
    }

    pub(crate) fn finish(mut self: Box<Self>, ended: Ended) {
        self.end(ended);
    }

    fn end(&mut self, ended: Ended) {
        let now = self.clock.now();
        self.ended = true;
        let error_type: Option<opentelemetry::Value> = match (ended.error, ended.status) {
            (Some(e), _) => Some(e.into()),
            (None, Some(s)) if s >= 400 => Some(opentelemetry::Value::String(s.to_string().into())),
            _ => None,
        };
        let status = ended
            .status
            .map(|s| KeyValue::new("http.response.status_code", i64::from(s)));
        let error = error_type.map(|e| KeyValue::new("error.type", e));
        if let Some(cx) = &self.cx {
            let span = cx.span();
            if span.is_recording() {
                let resend = (ended.attempts > 1).then(|| {
                    KeyValue::new("http.request.resend_count", i64::from(ended.attempts - 1))
                });
                span.set_attributes(status.iter().chain(error.iter()).cloned().chain(resend));
                if error.is_some() {
                    span.set_status(Status::error(""));
                }
            }
            span.end();
        }
        let seconds = now.saturating_duration_since(self.started).as_secs_f64();
        let Some([a, b, c, d]) = self.base.take() else {
            return;
        };
        let record = |attributes: &[KeyValue]| {
            self.instruments
                .request_duration
                .record(seconds, attributes)
        };
        // On the stack, moved: no list allocated, nothing copied per call.
        match (status, error) {
            (Some(s), Some(e)) => record(&[a, b, c, d, s, e]),
            (Some(s), None) => record(&[a, b, c, d, s]),
            (None, Some(e)) => record(&[a, b, c, d, e]),
            (None, None) => record(&[a, b, c, d]),
        }
    }
}

impl Drop for OperationSpan {
    fn drop(&mut self) {
        if !self.ended {
            self.end(Ended {
                status: None,
                error: Some("cancelled"),
                attempts: 0,
            });
        }
    }
}

/// A token fetch's span, while the fetch runs.
#[derive(Default)]
pub(crate) struct FetchSpan(Option<FetchInner>);

struct FetchInner {
    instruments: Arc<Instruments>,
    cx: Context,
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

impl FetchSpan {
    pub(crate) fn link(&self) -> FlightLink {
        FlightLink(
            self.0
                .as_ref()
                .map(|i| i.cx.span().span_context().clone())
                .filter(SpanContext::is_valid),
        )
    }

    /// `fetch`, run inside the span (its login call becomes a child).
    pub(crate) fn attach<F: Future>(&self, fetch: F) -> impl Future<Output = F::Output> {
        use futures::future::Either;
        match &self.0 {
            Some(i) => Either::Left(fetch.with_context(i.cx.clone())),
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
        let span = i.cx.span();
        span.set_attributes(attributes.iter().cloned());
        if let Some(store) = report.store {
            let kv = KeyValue::new(attr::STORE_RESULT, store);
            span.set_attribute(kv.clone());
            i.instruments.store_lookups.add(1, &[kv]);
        }
        if report.error.is_some() {
            span.set_status(Status::error(""));
        }
        span.end();
        let seconds = now.saturating_duration_since(i.started).as_secs_f64();
        i.instruments.fetch_duration.record(seconds, &attributes);
    }
}
