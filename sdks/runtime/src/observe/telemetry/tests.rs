//! The spans and metrics of calls, against a loopback HTTP server, with the
//! SDK's in-memory exporters; and `traceparent` only with a propagator.

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

fn post(addr: SocketAddr, query: &str) -> Request {
    let mut r = Request::new(
        Method::POST,
        format!("http://{addr}/things{query}").parse().expect("url"),
    );
    *r.body_mut() = Some(reqwest::Body::from("{}"));
    r
}

/// One test, in this order, because the propagator is the process's:
/// first none set (no header), then W3C's (the span's own context).
#[tokio::test]
async fn a_call_is_one_client_span_and_carries_trace_context_only_with_a_propagator() {
    let otel = Exporters::new();
    let session = otel.session();
    let http = reqwest::Client::new();

    // A 429, then the answer: one span, resent once; the retry counted by
    // its reason; no propagator, so no `traceparent`.
    let (addr, heads) = server(vec![Some(429), Some(200)]).await;
    let resp = session
        .send_with(&http, post(addr, "?signature=eyJ.secret&page=2"), &CREATE)
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
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(span.name, "create_thing");
    assert_eq!(span.span_kind, opentelemetry::trace::SpanKind::Client);
    assert_eq!(
        attribute(span, "http.request.resend_count"),
        Some(&Value::I64(1))
    );
    assert_eq!(
        attribute(span, "http.response.status_code"),
        Some(&Value::I64(200))
    );
    assert_eq!(
        attribute(span, "http.request.method").map(Value::as_str),
        Some("POST".into())
    );
    let url = attribute(span, "url.full").expect("url.full").as_str();
    assert!(url.contains("signature=REDACTED"), "{url}");
    assert!(!url.contains("eyJ.secret"), "{url}");
    assert!(url.contains("page=2"), "{url}");
    assert_eq!(span.instrumentation_scope.name(), "t");
    assert_eq!(span.instrumentation_scope.version(), Some("9.9.9"));
    assert_eq!(
        otel.counted("payauth.http.retries", "payauth.retry.reason", "429"),
        1
    );

    // With W3C trace context set, every request carries the span's.
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    otel.spans.reset();
    let (addr, heads) = server(vec![]).await;
    session
        .send_with(&http, post(addr, ""), &CREATE)
        .await
        .expect("answered");
    let spans = otel.spans();
    let context = spans[0].span_context.clone();
    let expected = format!(
        "traceparent: 00-{}-{}-01",
        context.trace_id(),
        context.span_id()
    );
    let head = heads.lock().unwrap()[0].clone();
    assert!(head.contains(&expected), "{head} lacks {expected}");

    // A caller that gives up: the span still ends, `cancelled`.
    otel.spans.reset();
    let (addr, _) = server(vec![None]).await;
    let call = session.send_with(&http, post(addr, ""), &CREATE);
    assert!(
        tokio::time::timeout(Duration::from_millis(200), call)
            .await
            .is_err()
    );
    let spans = otel.spans();
    assert_eq!(spans.len(), 1);
    assert_eq!(
        attribute(&spans[0], "error.type").map(Value::as_str),
        Some("cancelled".into())
    );
    assert!(matches!(
        spans[0].status,
        opentelemetry::trace::Status::Error { .. }
    ));
}

/// `Telemetry::off` records nothing and adds nothing.
#[tokio::test]
async fn off_records_nothing() {
    let recorder = Recorder::new(&Telemetry::off(), "t", "1");
    assert!(!recorder.is_on());
}
