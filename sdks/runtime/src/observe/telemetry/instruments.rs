//! The instruments of one provider crate's instrumentation scope — its
//! tracer and its meters — and the attribute values they share.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::{Counter, Histogram, Meter, UpDownCounter};
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry::{Context, InstrumentationScope, StringValue, Value};

/// The semantic conventions this crate's telemetry follows: the schema
/// of every instrumentation scope it reports under.
pub(crate) const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.37.0";

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

/// One scope: `provider`'s crate at `version`, with the schema.
pub(super) fn scope(provider: &'static str, version: &'static str) -> InstrumentationScope {
    InstrumentationScope::builder(provider)
        .with_version(version)
        .with_schema_url(SCHEMA_URL)
        .build()
}

/// The meters of one scope (each a handle: cloned, not made again, when
/// only the tracer changes).
#[derive(Clone)]
pub(super) struct Meters {
    pub(super) request_duration: Histogram<f64>,
    pub(super) operation_duration: Histogram<f64>,
    pub(super) unsent_calls: Counter<u64>,
    pub(super) fetch_duration: Histogram<f64>,
    pub(super) token_hits: Counter<u64>,
    pub(super) token_waits: Counter<u64>,
    pub(super) proactive_refreshes: Counter<u64>,
    pub(super) reauthentications: Counter<u64>,
    pub(super) retries: Counter<u64>,
    pub(super) login_backoff: Counter<u64>,
    pub(super) store_lookups: Counter<u64>,
    pub(super) principals: UpDownCounter<i64>,
}

impl Meters {
    pub(super) fn new(meter: &Meter) -> Meters {
        Meters {
            request_duration: meter
                .f64_histogram("http.client.request.duration")
                .with_unit("s")
                .with_description("Duration of HTTP client requests: one point per request sent (each retry, the resend after a 401).")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            operation_duration: meter
                .f64_histogram("payauth.client.operation.duration")
                .with_unit("s")
                .with_description("Duration of one operation call, as its caller waited: token wait, every attempt, backoff and 401 recovery included.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            unsent_calls: meter
                .u64_counter("payauth.client.operation.unsent")
                .with_unit("{call}")
                .with_description("Operation calls that ended before sending any request (no credential could be put on it, or the caller gave up first), by error.type.")
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
        }
    }
}

/// A scope's tracer and meters, as read from its providers at one time.
pub(crate) struct Instruments {
    pub(super) provider: &'static str,
    pub(super) tracer: BoxedTracer,
    pub(super) meters: Meters,
    /// The meter provider records: false for the API's no-op one.
    pub(super) measures: bool,
    /// The tracer makes spans: false once it answered a span with none of
    /// its own (the API's no-op tracer), until the providers are read again.
    traces: AtomicBool,
    /// The last `server.address` (host, value).
    last_address: arc_swap::ArcSwapOption<(Box<str>, StringValue)>,
}

impl Instruments {
    pub(super) fn new(
        provider: &'static str,
        tracer: BoxedTracer,
        meters: Meters,
        measures: bool,
    ) -> Instruments {
        Instruments {
            provider,
            tracer,
            meters,
            measures,
            traces: AtomicBool::new(true),
            last_address: arc_swap::ArcSwapOption::empty(),
        }
    }

    /// Whether a span is worth starting.
    #[inline]
    pub(super) fn traces(&self) -> bool {
        self.traces.load(Ordering::Relaxed)
    }

    /// Whether anything at all is recorded.
    #[inline]
    pub(super) fn records(&self) -> bool {
        self.measures || self.traces()
    }

    /// Learn from a span just started under `parent` whether this tracer
    /// makes spans of its own: the API's no-op tracer hands back the
    /// parent's context (an invalid one for a root). Telemetry suppressed
    /// by the application says nothing about the tracer.
    pub(super) fn learn(&self, parent: &Context, made: &SpanContext) -> bool {
        let own = made.is_valid()
            && (!parent.has_active_span()
                || made.span_id() != parent.span().span_context().span_id());
        if !own && !parent.is_telemetry_suppressed() {
            self.traces.store(false, Ordering::Relaxed);
        }
        own
    }

    /// `server.address` for `host`: the last one's value again (a
    /// reference count, no copy of the string) when it is the same host —
    /// a client talks to one.
    pub(super) fn address(&self, host: &str) -> StringValue {
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

/// Whether a meter provider records anything: the API's no-op provider
/// (what `opentelemetry::global` holds until the application sets one)
/// is a value of size zero, and a provider that records keeps its
/// pipeline somewhere — in itself. The API offers no other way to tell,
/// and a call that records nothing should cost nothing.
pub(super) fn meter_records(
    provider: &(dyn opentelemetry::metrics::MeterProvider + Send + Sync),
) -> bool {
    std::mem::size_of_val(provider) != 0
}

/// The method as the semantic conventions name it (`_OTHER` for one they
/// do not know).
pub(super) fn method_name(method: &reqwest::Method) -> &'static str {
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

/// `network.protocol.version` of an answer.
pub(super) fn protocol_version(version: reqwest::Version) -> Option<&'static str> {
    use reqwest::Version;
    match version {
        Version::HTTP_09 => Some("0.9"),
        Version::HTTP_10 => Some("1.0"),
        Version::HTTP_11 => Some("1.1"),
        Version::HTTP_2 => Some("2"),
        Version::HTTP_3 => Some("3"),
        _ => None,
    }
}

/// `error.type` of an answer with this status (4xx and 5xx), the
/// conventions' choice: the code itself.
pub(super) fn status_error(status: u16) -> Option<Value> {
    if status < 400 {
        return None;
    }
    Some(match status {
        400 => "400".into(),
        401 => "401".into(),
        403 => "403".into(),
        404 => "404".into(),
        409 => "409".into(),
        422 => "422".into(),
        429 => "429".into(),
        500 => "500".into(),
        502 => "502".into(),
        503 => "503".into(),
        504 => "504".into(),
        other => Value::String(other.to_string().into()),
    })
}

/// `error.type` of a transport failure: `timeout`, `connect`, `too_large`
/// (an answer over the body cap) or `connection`.
pub(super) fn transport_error(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if crate::base::http::body::too_large(e).is_some() {
        "too_large"
    } else {
        "connection"
    }
}
