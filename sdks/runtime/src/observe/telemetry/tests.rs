//! The spans and metrics of calls, against a loopback HTTP server, with the
//! SDK's in-memory exporters: an `INTERNAL` span per call and a `CLIENT`
//! span per attempt under it, the request and operation durations, a call
//! refused before sending, a method the conventions do not know; and
//! `traceparent` (the attempt's span) only with a propagator.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::Value;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use reqwest::{Method, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Recorder, Telemetry};
use crate::base::security::{OperationSecurity, Scheme, SchemeKind};
use crate::base::time::SystemClock;
use crate::call::session::SessionBuilder;
use crate::{Metrics, RetryPolicy, Secret};

const CREATE: OperationSecurity = OperationSecurity {
    operation_id: "create_thing",
    alternatives: &[&[Scheme {
        name: "apiKey",
        kind: SchemeKind::ApiKeyHeader("Api-key"),
    }]],
    idempotency_key: None,
    body_checksum: None,
    url_template: Some("/things"),
};

/// An HTTP/1.1 server answering the statuses of `script` in turn (200
/// when it runs out; `None`: never answer), one connection per request;
/// the request heads it saw.
async fn server(script: Vec<Option<u16>>) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let heads = Arc::clone(&seen);
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (heads, script) = (Arc::clone(&heads), Arc::clone(&script));
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                heads
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).to_lowercase());
                let status = script.lock().unwrap().pop_front().unwrap_or(Some(200));
                let Some(status) = status else {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return;
                };
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nretry-after: 0\r\nconnection: close\r\n\r\n{{}}"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (addr, seen)
}

struct Exporters {
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricExporter,
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
}

impl Exporters {
    fn new() -> Exporters {
        let spans = InMemorySpanExporter::default();
        let metrics = InMemoryMetricExporter::default();
        Exporters {
            tracer_provider: SdkTracerProvider::builder()
                .with_simple_exporter(spans.clone())
                .build(),
            meter_provider: SdkMeterProvider::builder()
                .with_reader(PeriodicReader::builder(metrics.clone()).build())
                .build(),
            spans,
            metrics,
        }
    }

    fn session(&self) -> crate::Session {
        let telemetry =
            Telemetry::with_providers(self.tracer_provider.clone(), self.meter_provider.clone());
        SessionBuilder::new(
            "t",
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(2)),
            Arc::new(SystemClock),
            Arc::new(Metrics::default()),
        )
        .api_key(Secret::new("k"))
        .telemetry(Recorder::new(&telemetry, "t", "9.9.9"))
        .build()
    }

    /// The last export's histogram `name`: its points' counts, each with
    /// its attributes.
    fn histogram(&self, name: &str) -> Vec<(u64, Vec<(String, String)>)> {
        self.meter_provider.force_flush().expect("flush");
        let exported = self.metrics.get_finished_metrics().expect("metrics");
        let Some(last) = exported.last() else {
            return Vec::new();
        };
        let mut points = Vec::new();
        for scope in last.scope_metrics() {
            for metric in scope.metrics().filter(|m| m.name() == name) {
                if let AggregatedMetrics::F64(MetricData::Histogram(h)) = metric.data() {
                    for p in h.data_points() {
                        let attributes = p
                            .attributes()
                            .map(|kv| (kv.key.as_str().to_owned(), kv.value.as_str().into_owned()))
                            .collect();
                        points.push((p.count(), attributes));
                    }
                }
            }
        }
        points
    }

    fn spans(&self) -> Vec<SpanData> {
        self.spans.get_finished_spans().expect("spans")
    }

    /// The total of counter `name` over points with `key` = `value`.
    fn counted(&self, name: &str, key: &str, value: &str) -> u64 {
        self.meter_provider.force_flush().expect("flush");
        let exported = self.metrics.get_finished_metrics().expect("metrics");
        let Some(last) = exported.last() else {
            return 0;
        };
        let mut total = 0;
        for scope in last.scope_metrics() {
            for metric in scope.metrics().filter(|m| m.name() == name) {
                if let AggregatedMetrics::U64(MetricData::Sum(sum)) = metric.data() {
                    total += sum
                        .data_points()
                        .filter(|p| {
                            p.attributes()
                                .any(|kv| kv.key.as_str() == key && kv.value.as_str() == value)
                        })
                        .map(|p| p.value())
                        .sum::<u64>();
                }
            }
        }
        total
    }
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn text(span: &SpanData, key: &str) -> Option<String> {
    attribute(span, key).map(|v| v.as_str().into_owned())
}

fn post(addr: SocketAddr, query: &str) -> Request {
    let mut r = Request::new(
        Method::POST,
        format!("http://{addr}/things{query}").parse().expect("url"),
    );
    *r.body_mut() = Some(reqwest::Body::from("{}"));
    r
}

fn has(points: &[(u64, Vec<(String, String)>)], count: u64, want: &[(&str, &str)]) -> bool {
    points.iter().any(|(n, attributes)| {
        *n == count
            && want
                .iter()
                .all(|(k, v)| attributes.iter().any(|(ak, av)| ak == k && av == v))
    })
}

/// One test, in this order, because the propagator is the process's:
/// first none set (no header), then W3C's (the attempt's span).
#[tokio::test]
async fn a_call_is_an_internal_span_with_a_client_span_per_attempt() {
    let otel = Exporters::new();
    let session = otel.session();
    let http = reqwest::Client::new();

    // A 429, then the answer: the operation's span, and under it one
    // span per attempt, the second resent once because of the 429; no
    // propagator, so no `traceparent`.
    let (addr, heads) = server(vec![Some(429), Some(200)]).await;
    let resp = session
        .send_with(
            &http,
            post(addr, "?signature=eyJ.secret&page=2&currency_code=EUR"),
            &CREATE,
        )
        .await
        .expect("answered");
    assert_eq!(resp.status(), 200);
    assert_eq!(heads.lock().unwrap().len(), 2);
    assert!(
        heads
            .lock()
            .unwrap()
            .iter()
            .all(|h| !h.contains("traceparent")),
        "no propagator set: no trace header"
    );
    let spans = otel.spans();
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let operation = spans
        .iter()
        .find(|s| s.name == "t.create_thing")
        .expect("the operation's span");
    assert_eq!(
        operation.span_kind,
        opentelemetry::trace::SpanKind::Internal
    );
    assert_eq!(text(operation, "payauth.provider").as_deref(), Some("t"));
    assert_eq!(
        text(operation, "payauth.operation").as_deref(),
        Some("create_thing")
    );
    assert_eq!(attribute(operation, "error.type"), None);
    let attempts: Vec<&SpanData> = spans.iter().filter(|s| s.name == "POST /things").collect();
    assert_eq!(attempts.len(), 2);
    for (n, span) in attempts.iter().enumerate() {
        assert_eq!(span.span_kind, opentelemetry::trace::SpanKind::Client);
        assert_eq!(span.parent_span_id, operation.span_context.span_id());
        assert_eq!(
            span.span_context.trace_id(),
            operation.span_context.trace_id()
        );
        assert_eq!(text(span, "http.request.method").as_deref(), Some("POST"));
        assert_eq!(text(span, "url.template").as_deref(), Some("/things"));
        assert_eq!(
            text(span, "network.protocol.version").as_deref(),
            Some("1.1")
        );
        let url = text(span, "url.full").expect("url.full");
        assert!(url.contains("signature=REDACTED"), "{url}");
        assert!(!url.contains("eyJ.secret"), "{url}");
        assert!(
            url.contains("page=2") && url.contains("currency_code=EUR"),
            "{url}"
        );
        if n == 0 {
            assert_eq!(
                attribute(span, "http.response.status_code"),
                Some(&Value::I64(429))
            );
            assert_eq!(text(span, "error.type").as_deref(), Some("429"));
            assert_eq!(attribute(span, "http.request.resend_count"), None);
            assert!(matches!(
                span.status,
                opentelemetry::trace::Status::Error { .. }
            ));
        } else {
            assert_eq!(
                attribute(span, "http.response.status_code"),
                Some(&Value::I64(200))
            );
            assert_eq!(attribute(span, "error.type"), None);
            assert_eq!(
                attribute(span, "http.request.resend_count"),
                Some(&Value::I64(1))
            );
            assert_eq!(text(span, "payauth.retry.reason").as_deref(), Some("429"));
        }
    }
    assert_eq!(
        span_scope(operation),
        ("t".to_owned(), Some("9.9.9".to_owned()))
    );
    assert_eq!(
        operation.instrumentation_scope.schema_url(),
        Some(super::instruments::SCHEMA_URL)
    );
    assert_eq!(
        otel.counted("payauth.http.retries", "payauth.retry.reason", "429"),
        1
    );
    // A duration point per request sent, one per call.
    let requests = otel.histogram("http.client.request.duration");
    assert!(
        has(
            &requests,
            1,
            &[
                ("http.response.status_code", "429"),
                ("error.type", "429"),
                ("payauth.operation", "create_thing")
            ]
        ),
        "{requests:?}"
    );
    assert!(
        has(
            &requests,
            1,
            &[
                ("http.response.status_code", "200"),
                ("network.protocol.version", "1.1")
            ]
        ),
        "{requests:?}"
    );
    let operations = otel.histogram("payauth.client.operation.duration");
    assert_eq!(
        operations.iter().map(|p| p.0).sum::<u64>(),
        1,
        "{operations:?}"
    );
    assert!(
        has(
            &operations,
            1,
            &[
                ("http.response.status_code", "200"),
                ("http.request.method", "POST")
            ]
        ),
        "{operations:?}"
    );

    // With W3C trace context set, each attempt carries its own span's.
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    otel.spans.reset();
    let (addr, heads) = server(vec![Some(429), Some(200)]).await;
    session
        .send_with(&http, post(addr, ""), &CREATE)
        .await
        .expect("answered");
    let spans = otel.spans();
    let attempts: Vec<&SpanData> = spans.iter().filter(|s| s.name == "POST /things").collect();
    assert_eq!(attempts.len(), 2);
    for (n, span) in attempts.iter().enumerate() {
        let context = &span.span_context;
        let expected = format!(
            "traceparent: 00-{}-{}-01",
            context.trace_id(),
            context.span_id()
        );
        let head = heads.lock().unwrap()[n].clone();
        assert!(head.contains(&expected), "{head} lacks {expected}");
    }

    // A caller that gives up: both spans still end, `cancelled`.
    otel.spans.reset();
    let (addr, _) = server(vec![None]).await;
    let call = session.send_with(&http, post(addr, ""), &CREATE);
    assert!(
        tokio::time::timeout(Duration::from_millis(200), call)
            .await
            .is_err()
    );
    let spans = otel.spans();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    for span in &spans {
        assert_eq!(
            text(span, "error.type").as_deref(),
            Some("cancelled"),
            "{}",
            span.name
        );
        assert!(matches!(
            span.status,
            opentelemetry::trace::Status::Error { .. }
        ));
    }
}

fn span_scope(span: &SpanData) -> (String, Option<String>) {
    (
        span.instrumentation_scope.name().to_owned(),
        span.instrumentation_scope.version().map(str::to_owned),
    )
}

/// A call refused before sending: its operation's span and duration say
/// why, no request is counted, and the unsent counter has it.
#[tokio::test]
async fn a_call_refused_before_sending_is_no_request() {
    let otel = Exporters::new();
    let telemetry =
        Telemetry::with_providers(otel.tracer_provider.clone(), otel.meter_provider.clone());
    // No API key: the operation cannot be authorized.
    let session = SessionBuilder::new(
        "t",
        RetryPolicy::default(),
        Arc::new(SystemClock),
        Arc::new(Metrics::default()),
    )
    .telemetry(Recorder::new(&telemetry, "t", "9.9.9"))
    .build();
    let (addr, heads) = server(vec![]).await;
    let e = session
        .send_with(&reqwest::Client::new(), post(addr, ""), &CREATE)
        .await
        .expect_err("no credential");
    assert_eq!(e.kind(), crate::ErrorKind::Config);
    assert!(heads.lock().unwrap().is_empty());
    let spans = otel.spans();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    assert_eq!(spans[0].name, "t.create_thing");
    assert_eq!(text(&spans[0], "error.type").as_deref(), Some("config"));
    assert!(otel.histogram("http.client.request.duration").is_empty());
    assert!(has(
        &otel.histogram("payauth.client.operation.duration"),
        1,
        &[("error.type", "config")]
    ));
    assert_eq!(
        otel.counted("payauth.client.operation.unsent", "error.type", "config"),
        1
    );
}

/// A method the conventions do not know: `_OTHER`, the method as sent in
/// `http.request.method_original`, and `HTTP` in the span's name.
#[tokio::test]
async fn an_unknown_method_is_other_with_its_original() {
    let otel = Exporters::new();
    let (addr, _) = server(vec![]).await;
    let request = Request::new(
        Method::from_bytes(b"PURGE").expect("method"),
        format!("http://{addr}/things").parse().expect("url"),
    );
    otel.session()
        .send_with(&reqwest::Client::new(), request, &CREATE)
        .await
        .expect("answered");
    let spans = otel.spans();
    let attempt = spans
        .iter()
        .find(|s| s.span_kind == opentelemetry::trace::SpanKind::Client)
        .expect("the attempt's span");
    assert_eq!(attempt.name, "HTTP /things");
    assert_eq!(
        text(attempt, "http.request.method").as_deref(),
        Some("_OTHER")
    );
    assert_eq!(
        text(attempt, "http.request.method_original").as_deref(),
        Some("PURGE")
    );
}

/// `Telemetry::off` records nothing and adds nothing.
#[tokio::test]
async fn off_records_nothing() {
    let recorder = Recorder::new(&Telemetry::off(), "t", "1");
    assert!(!recorder.is_on());
}

/// A call's span starts when the call is first polled, not when its
/// future is made: made outside the application's span and run inside
/// it (`client.send(r).instrument(span)`), it is that span's child.
#[tokio::test]
async fn a_call_is_a_child_of_the_context_it_runs_in() {
    use opentelemetry::context::FutureExt as _;
    use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
    let otel = Exporters::new();
    let session = otel.session();
    let http = reqwest::Client::new();
    let (addr, _) = server(vec![]).await;
    let call = session.send_with(&http, post(addr, ""), &CREATE);
    let tracer = otel.tracer_provider.tracer("app");
    let parent = opentelemetry::Context::new().with_span(tracer.start("handler"));
    let parent_id = parent.span().span_context().span_id();
    call.with_context(parent.clone()).await.expect("answered");
    parent.span().end();
    let spans = otel.spans();
    let operation = spans
        .iter()
        .find(|s| s.name == "t.create_thing")
        .expect("the operation's span");
    assert_eq!(operation.parent_span_id, parent_id);
}
