//! Telemetry as a collector receives it: the e2e flow against the sandbox
//! with the OTLP/HTTP exporters (traces and metrics) pointed at a loopback
//! receiver this test runs; what arrives is decoded with
//! `opentelemetry-proto` and checked — the span tree (operation span →
//! token-fetch span link, the login call under the fetch, the resend
//! after a 401, status codes), one instrumentation scope per provider crate
//! and version, and the metric points.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_runtime::Telemetry;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::SdkTracerProvider;
use prost::Message;
use sandbox::Provider;
use workspace_tests::support::{Env, fast_retries};

/// What the receiver got, per signal.
#[derive(Clone, Default)]
struct Received {
    traces: Arc<Mutex<Vec<Bytes>>>,
    metrics: Arc<Mutex<Vec<Bytes>>>,
}

/// An OTLP/HTTP receiver on loopback: keeps each body, answers an empty
/// (valid) protobuf response.
async fn receiver() -> (SocketAddr, Received) {
    let received = Received::default();
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            post(|State(r): State<Received>, body: Bytes| async move {
                r.traces.lock().unwrap().push(body);
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }),
        )
        .route(
            "/v1/metrics",
            post(|State(r): State<Received>, body: Bytes| async move {
                r.metrics.lock().unwrap().push(body);
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, received)
}

/// The SDK providers an application would install, exporting over
/// OTLP/HTTP to `addr` (built off the runtime: the exporter's HTTP client
/// is a blocking one, which runs its own).
fn providers(addr: SocketAddr) -> (SdkTracerProvider, SdkMeterProvider) {
    let spans = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("http://{addr}/v1/traces"))
        .with_timeout(Duration::from_secs(10))
        .build()
        .expect("span exporter");
    let metrics = opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_endpoint(format!("http://{addr}/v1/metrics"))
        .with_temporality(Temporality::Cumulative)
        .with_timeout(Duration::from_secs(10))
        .build()
        .expect("metric exporter");
    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(spans)
        .build();
    let meter_provider = SdkMeterProvider::builder()
        // Exported at shutdown; no periodic export races the asserts.
        .with_reader(
            PeriodicReader::builder(metrics)
                .with_interval(Duration::from_secs(3600))
                .build(),
        )
        .build();
    (tracer_provider, meter_provider)
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

fn str_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match attr(attrs, key)? {
        any_value::Value::StringValue(s) => Some(s),
        _ => None,
    }
}

fn int_attr(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match attr(attrs, key)? {
        any_value::Value::IntValue(i) => Some(*i),
        _ => None,
    }
}

/// A span with the scope (provider crate, version) it was recorded under.
struct Recorded {
    scope: String,
    version: String,
    span: Span,
}

fn decode_spans(bodies: &[Bytes]) -> Vec<Recorded> {
    let mut out = Vec::new();
    for body in bodies {
        let request = ExportTraceServiceRequest::decode(body.as_ref()).expect("OTLP traces decode");
        for resource in request.resource_spans {
            for scope in resource.scope_spans {
                let (name, version) = scope.scope.map(|s| (s.name, s.version)).unwrap_or_default();
                for span in scope.spans {
                    out.push(Recorded {
                        scope: name.clone(),
                        version: version.clone(),
                        span,
                    });
                }
            }
        }
    }
    out
}

/// Metrics by (scope, name): the last export's (cumulative) points win.
fn decode_metrics(bodies: &[Bytes]) -> HashMap<(String, String), Metric> {
    let mut out = HashMap::new();
    for body in bodies {
        let request =
            ExportMetricsServiceRequest::decode(body.as_ref()).expect("OTLP metrics decode");
        for resource in request.resource_metrics {
            for scope in resource.scope_metrics {
                let name = scope.scope.map(|s| s.name).unwrap_or_default();
                for metric in scope.metrics {
                    out.insert((name.clone(), metric.name.clone()), metric);
                }
            }
        }
    }
    out
}

/// A counter's total over the points whose attributes `keep` accepts.
fn sum_where(metric: &Metric, keep: impl Fn(&[KeyValue]) -> bool) -> i64 {
    match metric.data.as_ref().expect("data") {
        metric::Data::Sum(sum) => sum
            .data_points
            .iter()
            .filter(|p| keep(&p.attributes))
            .map(|p| match p.value {
                Some(opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsInt(
                    i,
                )) => i,
                Some(
                    opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsDouble(d),
                ) => d as i64,
                None => 0,
            })
            .sum(),
        other => panic!("{} is not a sum: {other:?}", metric.name),
    }
}

/// A histogram's count over the points whose attributes `keep` accepts.
fn count_where(metric: &Metric, keep: impl Fn(&[KeyValue]) -> bool) -> u64 {
    match metric.data.as_ref().expect("data") {
        metric::Data::Histogram(h) => h
            .data_points
            .iter()
            .filter(|p| keep(&p.attributes))
            .map(|p| p.count)
            .sum(),
        other => panic!("{} is not a histogram: {other:?}", metric.name),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_receives_the_span_tree_and_the_metrics() {
    let (addr, received) = receiver().await;
    let (tracer_provider, meter_provider) = tokio::task::spawn_blocking(move || providers(addr))
        .await
        .unwrap();
    let telemetry = Telemetry::with_providers(tracer_provider.clone(), meter_provider.clone());
    let env = Env::start().await;

    // Exirom: four calls on a cold cache share one login; the provider
    // then revokes the token (a 401, one renewal, one resend); an unknown
    // payment answers 404.
    let exirom = env.client_reporting(Provider::Exirom, fast_retries(), telemetry.clone());
    let client: exirom::Client = exirom.typed();
    // The login answers after 500 ms: all four calls are waiting on it by
    // then, however busy the machine (none finds a token cached).
    env.sandbox.inject(
        Provider::Exirom,
        sandbox::Route::Login,
        sandbox::Fault::latency(Duration::from_millis(500)),
    );
    let cold = futures::future::join_all((0..4).map(|_| exirom.operation(&env.sandbox))).await;
    for (_, _, outcome) in &cold {
        assert!(outcome.ok(), "{outcome:?}");
    }
    assert_eq!(env.logins(Provider::Exirom), 1, "one login for four calls");
    env.sandbox.revoke_all(Provider::Exirom);
    let (_, _, after_401) = exirom.operation(&env.sandbox).await;
    assert!(after_401.ok(), "{after_401:?}");
    assert_eq!(after_401.attempts, 2);
    let missing = client
        .get_card_payment_status()
        .id("no-such-payment")
        .send()
        .await
        .expect_err("unknown payment");
    assert_eq!(missing.status(), Some(404));

    // Every other provider: one typed operation each.
    for p in [
        Provider::Institution,
        Provider::Pledg,
        Provider::Bursagb,
        Provider::Axept,
    ] {
        let c = env.client_reporting(p, fast_retries(), telemetry.clone());
        let (_, _, outcome) = c.operation(&env.sandbox).await;
        assert!(outcome.ok(), "{p:?}: {outcome:?}");
    }

    tokio::task::spawn_blocking(move || {
        tracer_provider.force_flush().expect("spans flushed");
        meter_provider.force_flush().expect("metrics flushed");
        tracer_provider.shutdown().expect("tracer shut down");
        meter_provider.shutdown().expect("meter shut down");
    })
    .await
    .unwrap();

    let spans = decode_spans(&received.traces.lock().unwrap());
    let exirom_spans: Vec<&Recorded> = spans.iter().filter(|r| r.scope == "exirom").collect();
    assert!(
        exirom_spans
            .iter()
            .all(|r| r.version == env!("CARGO_PKG_VERSION")),
        "scope version is the crate's"
    );
    let fetches: Vec<&Span> = exirom_spans
        .iter()
        .map(|r| &r.span)
        .filter(|s| s.name == "token fetch")
        .collect();
    let operations: Vec<&Span> = exirom_spans
        .iter()
        .map(|r| &r.span)
        .filter(|s| s.kind == SpanKind::Client as i32)
        .collect();
    let payments: Vec<&Span> = operations
        .iter()
        .copied()
        .filter(|s| s.name == "create_card_payment")
        .collect();
    assert_eq!(
        payments.len(),
        5,
        "four cold calls and the one after the 401"
    );
    for s in &operations {
        assert_eq!(str_attr(&s.attributes, "server.address"), Some("127.0.0.1"));
        assert_eq!(
            int_attr(&s.attributes, "server.port"),
            Some(i64::from(env.sandbox.local_addr().port()))
        );
        assert_eq!(str_attr(&s.attributes, "payauth.provider"), Some("exirom"));
        assert!(
            str_attr(&s.attributes, "url.full").is_some_and(|u| u.starts_with("http://127.0.0.1:"))
        );
        assert!(str_attr(&s.attributes, "http.request.method").is_some());
        assert!(str_attr(&s.attributes, "payauth.operation").is_some());
    }

    // The cold start: one fetch (a login), its login call beneath it, and
    // the four calls each linked to it — one started it, three joined.
    let first = fetches
        .iter()
        .find(|s| str_attr(&s.attributes, "payauth.token.reason") == Some("missing"))
        .expect("the first fetch");
    assert_eq!(
        str_attr(&first.attributes, "payauth.token.source"),
        Some("login")
    );
    assert_eq!(
        str_attr(&first.attributes, "payauth.token.outcome"),
        Some("ok")
    );
    let login_calls: Vec<&&Span> = operations
        .iter()
        .filter(|s| s.parent_span_id == first.span_id)
        .collect();
    assert_eq!(login_calls.len(), 1, "the login call is the fetch's child");
    assert_eq!(
        str_attr(&login_calls[0].attributes, "http.request.method"),
        Some("POST")
    );
    assert_eq!(
        int_attr(&login_calls[0].attributes, "http.response.status_code"),
        Some(200)
    );
    let linked_to = |fetch: &Span| -> Vec<String> {
        payments
            .iter()
            .flat_map(|s| s.links.iter())
            .filter(|l| l.span_id == fetch.span_id && l.trace_id == fetch.trace_id)
            .map(|l| {
                str_attr(&l.attributes, "payauth.token.wait")
                    .unwrap_or("")
                    .to_owned()
            })
            .collect()
    };
    let mut waits = linked_to(first);
    waits.sort();
    assert_eq!(waits, ["joined", "joined", "joined", "started"]);
    // The fetch runs in the trace of the call that started it.
    let starter = payments
        .iter()
        .find(|s| s.span_id == first.parent_span_id)
        .expect("the fetch's parent is the call that started it");
    assert_eq!(starter.trace_id, first.trace_id);

    // The 401: one resend, a fetch for reason `unauthorized` beneath the
    // call and linked from it, and the final status.
    let resent = payments
        .iter()
        .find(|s| int_attr(&s.attributes, "http.request.resend_count") == Some(1))
        .expect("the call after the 401 was resent once");
    assert!(
        int_attr(&resent.attributes, "http.response.status_code")
            .is_some_and(|c| (200..300).contains(&c))
    );
    let renewal = fetches
        .iter()
        .find(|s| str_attr(&s.attributes, "payauth.token.reason") == Some("unauthorized"))
        .expect("the renewal fetch");
    assert_eq!(renewal.parent_span_id, resent.span_id);
    assert_eq!(linked_to(renewal), ["started"]);

    // The 404: status code and error type.
    let not_found = operations
        .iter()
        .find(|s| int_attr(&s.attributes, "http.response.status_code") == Some(404))
        .expect("the 404 call");
    assert_eq!(str_attr(&not_found.attributes, "error.type"), Some("404"));
    assert!(
        not_found.status.as_ref().is_some_and(|s| s.code == 2),
        "status ERROR"
    );

    // One scope per provider crate.
    for name in ["exirom", "institution", "pledg", "bursagb", "axept"] {
        assert!(
            spans
                .iter()
                .any(|r| r.scope == name && r.span.kind == SpanKind::Client as i32),
            "{name} spans under their own scope"
        );
    }

    // The metrics.
    let metrics = decode_metrics(&received.metrics.lock().unwrap());
    let m = |name: &str| {
        metrics
            .get(&("exirom".to_owned(), name.to_owned()))
            .unwrap_or_else(|| panic!("exirom {name} exported; got {:?}", metrics.keys()))
    };
    let duration = m("http.client.request.duration");
    assert_eq!(duration.unit, "s");
    assert_eq!(
        count_where(duration, |_| true),
        operations.len() as u64,
        "one duration point per operation span"
    );
    assert_eq!(
        count_where(duration, |a| int_attr(a, "http.response.status_code")
            == Some(404)
            && str_attr(a, "error.type") == Some("404")),
        1
    );
    assert_eq!(count_where(m("payauth.token.fetch.duration"), |_| true), 2);
    assert_eq!(
        count_where(m("payauth.token.fetch.duration"), |a| str_attr(
            a,
            "payauth.token.source"
        ) == Some("login")),
        2,
        "a login at the cold start, another after the revocation"
    );
    assert_eq!(sum_where(m("payauth.token.cache.waits"), |_| true), 5);
    assert_eq!(
        sum_where(m("payauth.token.cache.waits"), |a| str_attr(
            a,
            "payauth.token.wait"
        ) == Some("joined")),
        3
    );
    assert!(
        sum_where(m("payauth.token.cache.hits"), |_| true) >= 1,
        "the 404 call hit the cache"
    );
    assert_eq!(sum_where(m("payauth.http.reauthentications"), |_| true), 1);
    assert_eq!(sum_where(m("payauth.token.principals"), |_| true), 1);
    for name in ["institution", "pledg", "bursagb", "axept"] {
        assert!(
            metrics.contains_key(&(name.to_owned(), "http.client.request.duration".to_owned())),
            "{name} has its own meter"
        );
    }
}
