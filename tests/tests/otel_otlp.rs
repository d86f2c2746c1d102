//! Telemetry as a collector receives it: the e2e flow against the sandbox
//! with the OTLP/HTTP exporters (traces and metrics) pointed at a loopback
//! receiver this test runs; what arrives is decoded with
//! `opentelemetry-proto` and checked — the span tree (an `INTERNAL` span
//! per operation, a `CLIENT` span per attempt under it, the token fetch
//! under the operation that started it and linked from every one that
//! waited, the login call under the fetch), the retried calls (429, 401,
//! timeout: one span per attempt, its status, `resend_count` and reason),
//! one instrumentation scope per provider crate and version with the
//! conventions' schema, and the metric points (a request duration per
//! request sent, an operation duration per call).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
use payauth_runtime::Telemetry;
use payauth_sandbox::Provider;
use payauth_sandbox::{Fault, Route};
use prost::Message;
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

/// A span with the scope (provider crate, version, schema) it was
/// recorded under.
struct Recorded {
    scope: String,
    version: String,
    schema_url: String,
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
                        schema_url: scope.schema_url.clone(),
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

/// The providers flushed and shut down (off the runtime: the exporters'
/// HTTP client is a blocking one).
async fn shut_down(tracer_provider: SdkTracerProvider, meter_provider: SdkMeterProvider) {
    tokio::task::spawn_blocking(move || {
        tracer_provider.force_flush().expect("spans flushed");
        meter_provider.force_flush().expect("metrics flushed");
        tracer_provider.shutdown().expect("tracer shut down");
        meter_provider.shutdown().expect("meter shut down");
    })
    .await
    .unwrap();
}

fn is_kind(span: &Span, kind: SpanKind) -> bool {
    span.kind == kind as i32
}

fn is_error(span: &Span) -> bool {
    span.status.as_ref().is_some_and(|s| s.code == 2)
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
        Route::Login,
        Fault::latency(Duration::from_millis(500)),
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

    shut_down(tracer_provider, meter_provider).await;

    let spans = decode_spans(&received.traces.lock().unwrap());
    let exirom_spans: Vec<&Recorded> = spans.iter().filter(|r| r.scope == "exirom").collect();
    assert!(
        exirom_spans
            .iter()
            .all(|r| r.version == env!("CARGO_PKG_VERSION")
                && r.schema_url
                    .starts_with("https://opentelemetry.io/schemas/1.")),
        "scope version is the crate's, schema the conventions'"
    );
    let fetches: Vec<&Span> = exirom_spans
        .iter()
        .map(|r| &r.span)
        .filter(|s| s.name == "token fetch")
        .collect();
    let operations: Vec<&Span> = exirom_spans
        .iter()
        .map(|r| &r.span)
        .filter(|s| is_kind(s, SpanKind::Internal) && s.name.starts_with("exirom."))
        .collect();
    let requests: Vec<&Span> = exirom_spans
        .iter()
        .map(|r| &r.span)
        .filter(|s| is_kind(s, SpanKind::Client))
        .collect();
    let payments: Vec<&Span> = operations
        .iter()
        .copied()
        .filter(|s| s.name == "exirom.create_card_payment")
        .collect();
    assert_eq!(
        payments.len(),
        5,
        "four cold calls and the one after the 401"
    );
    for s in &operations {
        assert_eq!(str_attr(&s.attributes, "payauth.provider"), Some("exirom"));
        assert!(str_attr(&s.attributes, "payauth.operation").is_some());
    }
    for s in &requests {
        assert_eq!(str_attr(&s.attributes, "server.address"), Some("127.0.0.1"));
        assert_eq!(
            int_attr(&s.attributes, "server.port"),
            Some(i64::from(env.sandbox.local_addr().port()))
        );
        assert_eq!(str_attr(&s.attributes, "payauth.provider"), Some("exirom"));
        assert!(
            str_attr(&s.attributes, "url.full").is_some_and(|u| u.starts_with("http://127.0.0.1:"))
        );
        let method = str_attr(&s.attributes, "http.request.method").expect("method");
        let template = str_attr(&s.attributes, "url.template").expect("template");
        assert_eq!(s.name, format!("{method} {template}"));
        assert_eq!(
            str_attr(&s.attributes, "network.protocol.version"),
            Some("1.1")
        );
        // Every request under an operation or a fetch of this trace.
        assert!(
            operations
                .iter()
                .chain(&fetches)
                .any(|p| p.span_id == s.parent_span_id && p.trace_id == s.trace_id),
            "{} has no parent among the operations and fetches",
            s.name
        );
    }
    let payment_requests = |op: &Span| -> Vec<&Span> {
        requests
            .iter()
            .copied()
            .filter(|s| s.parent_span_id == op.span_id)
            .collect()
    };

    // The cold start: one fetch (a login), its login request beneath it,
    // and the four calls each linked to it — one started it, three joined.
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
    let login_calls: Vec<&&Span> = requests
        .iter()
        .filter(|s| s.parent_span_id == first.span_id)
        .collect();
    assert_eq!(
        login_calls.len(),
        1,
        "the login request is the fetch's child"
    );
    assert_eq!(login_calls[0].name, "POST /v1/auth");
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
    // One request per call, but the 401's two.
    let mut per_call: Vec<usize> = payments
        .iter()
        .map(|op| payment_requests(op).len())
        .collect();
    per_call.sort();
    assert_eq!(per_call, [1, 1, 1, 1, 2]);

    // The 401: two requests under the call (401, then 200 resent once for
    // the renewal), a fetch for reason `unauthorized` beneath the call and
    // linked from it.
    let resent = requests
        .iter()
        .find(|s| int_attr(&s.attributes, "http.request.resend_count") == Some(1))
        .expect("the request after the 401 was resent once");
    assert_eq!(
        str_attr(&resent.attributes, "payauth.retry.reason"),
        Some("401")
    );
    assert!(
        int_attr(&resent.attributes, "http.response.status_code")
            .is_some_and(|c| (200..300).contains(&c))
    );
    let renewed_op = payments
        .iter()
        .find(|s| s.span_id == resent.parent_span_id)
        .expect("the resend under its operation");
    let attempts = payment_requests(renewed_op);
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts.iter().any(
            |s| int_attr(&s.attributes, "http.response.status_code") == Some(401)
                && str_attr(&s.attributes, "error.type") == Some("401")
                && is_error(s)
        )
    );
    assert_eq!(str_attr(&renewed_op.attributes, "error.type"), None);
    let renewal = fetches
        .iter()
        .find(|s| str_attr(&s.attributes, "payauth.token.reason") == Some("unauthorized"))
        .expect("the renewal fetch");
    assert_eq!(renewal.parent_span_id, renewed_op.span_id);
    assert_eq!(linked_to(renewal), ["started"]);

    // The 404: status code and error type, on the request and the call.
    let not_found = requests
        .iter()
        .find(|s| int_attr(&s.attributes, "http.response.status_code") == Some(404))
        .expect("the 404 request");
    assert_eq!(not_found.name, "GET /v1/payments/card/status/{id}");
    assert_eq!(str_attr(&not_found.attributes, "error.type"), Some("404"));
    assert!(is_error(not_found), "status ERROR");
    let status_op = operations
        .iter()
        .find(|s| s.span_id == not_found.parent_span_id)
        .expect("the 404's operation");
    assert_eq!(status_op.name, "exirom.get_card_payment_status");
    assert_eq!(str_attr(&status_op.attributes, "error.type"), Some("404"));

    // One scope per provider crate.
    for name in ["exirom", "institution", "pledg", "bursagb", "axept"] {
        assert!(
            spans
                .iter()
                .any(|r| r.scope == name && is_kind(&r.span, SpanKind::Client)),
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
        requests.len() as u64,
        "one duration point per request sent"
    );
    assert_eq!(
        count_where(duration, |a| int_attr(a, "http.response.status_code")
            == Some(404)
            && str_attr(a, "error.type") == Some("404")),
        1
    );
    let calls = m("payauth.client.operation.duration");
    assert_eq!(
        count_where(calls, |a| str_attr(a, "payauth.operation")
            != Some("authenticate")),
        operations.len() as u64,
        "one operation point per call"
    );
    assert_eq!(
        count_where(calls, |a| str_attr(a, "payauth.operation")
            == Some("authenticate")),
        2,
        "the two logins are calls too"
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

/// Three retried calls as a collector sees them — a 429 then a 200, a 401
/// (the token renewed) then a 200, a timeout then a 200: for each, the
/// operation's `INTERNAL` span, one `CLIENT` span per request under it
/// with its own status, the resend's `resend_count` and reason; the
/// request duration counted once per request sent, the operation's once
/// per call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_calls_are_one_client_span_per_attempt() {
    let (addr, received) = receiver().await;
    let (tracer_provider, meter_provider) = tokio::task::spawn_blocking(move || providers(addr))
        .await
        .unwrap();
    let telemetry = Telemetry::with_providers(tracer_provider.clone(), meter_provider.clone());
    let env = Env::start().await;
    // Attempts bounded at 400 ms: a 3 s latency is a timeout.
    let exirom = env.client_reporting(
        Provider::Exirom,
        fast_retries().attempt_timeout(Duration::from_millis(400)),
        telemetry,
    );
    // A token first: the calls below retry, they do not log in.
    let (_, _, warm) = exirom.operation(&env.sandbox).await;
    assert!(warm.ok(), "{warm:?}");

    let mut calls = Vec::new();
    for (fault, reason) in [
        (Fault::status(429), "429"),
        (Fault::status(401), "401"),
        (Fault::latency(Duration::from_secs(3)), "timeout"),
    ] {
        env.sandbox
            .inject(Provider::Exirom, Route::CardPayment, fault);
        let (_, _, outcome) = exirom.operation(&env.sandbox).await;
        assert!(outcome.ok(), "{reason}: {outcome:?}");
        assert_eq!(outcome.attempts, 2, "{reason}");
        calls.push(reason);
    }
    shut_down(tracer_provider, meter_provider).await;

    let spans = decode_spans(&received.traces.lock().unwrap());
    let spans: Vec<&Span> = spans
        .iter()
        .filter(|r| r.scope == "exirom")
        .map(|r| &r.span)
        .collect();
    let operations: Vec<&Span> = spans
        .iter()
        .copied()
        .filter(|s| s.name == "exirom.create_card_payment")
        .collect();
    assert_eq!(
        operations.len(),
        4,
        "the warm-up and the three retried calls"
    );
    for op in &operations {
        assert!(is_kind(op, SpanKind::Internal));
        assert_eq!(
            op.parent_span_id,
            Vec::<u8>::new(),
            "a root: no span of the application"
        );
        assert_eq!(str_attr(&op.attributes, "error.type"), None);
        assert!(!is_error(op));
    }
    let under = |op: &Span| -> Vec<&Span> {
        let mut attempts: Vec<&Span> = spans
            .iter()
            .copied()
            .filter(|s| s.parent_span_id == op.span_id && is_kind(s, SpanKind::Client))
            .collect();
        attempts.sort_by_key(|s| s.start_time_unix_nano);
        attempts
    };
    for reason in calls {
        let (op, attempts) = operations
            .iter()
            .map(|op| (op, under(op)))
            .find(|(_, attempts)| {
                attempts.len() == 2
                    && str_attr(&attempts[1].attributes, "payauth.retry.reason") == Some(reason)
            })
            .unwrap_or_else(|| panic!("no call resent for {reason}"));
        let (first, second) = (attempts[0], attempts[1]);
        for attempt in &attempts {
            assert_eq!(attempt.name, "POST /v1/payments/card", "{reason}");
            assert_eq!(attempt.trace_id, op.trace_id);
            assert_eq!(attempt.parent_span_id, op.span_id);
        }
        assert_eq!(
            int_attr(&first.attributes, "http.request.resend_count"),
            None,
            "{reason}"
        );
        assert_eq!(
            int_attr(&second.attributes, "http.request.resend_count"),
            Some(1),
            "{reason}"
        );
        assert_eq!(
            int_attr(&second.attributes, "http.response.status_code"),
            Some(200),
            "{reason}"
        );
        assert_eq!(str_attr(&second.attributes, "error.type"), None, "{reason}");
        assert!(is_error(first), "{reason}: the first attempt failed");
        match reason {
            "timeout" => {
                assert_eq!(
                    int_attr(&first.attributes, "http.response.status_code"),
                    None
                );
                assert_eq!(str_attr(&first.attributes, "error.type"), Some("timeout"));
            }
            status => {
                let code: i64 = status.parse().expect("a status");
                assert_eq!(
                    int_attr(&first.attributes, "http.response.status_code"),
                    Some(code)
                );
                assert_eq!(str_attr(&first.attributes, "error.type"), Some(status));
            }
        }
        // The renewal's fetch (and its login) sits under the call, between
        // its two requests.
        let fetches: Vec<&Span> = spans
            .iter()
            .copied()
            .filter(|s| s.name == "token fetch" && s.parent_span_id == op.span_id)
            .collect();
        if reason == "401" {
            assert_eq!(fetches.len(), 1, "one renewal");
            assert_eq!(
                str_attr(&fetches[0].attributes, "payauth.token.reason"),
                Some("unauthorized")
            );
            assert!(fetches[0].start_time_unix_nano >= first.end_time_unix_nano);
            assert!(fetches[0].end_time_unix_nano <= second.start_time_unix_nano);
        } else {
            assert!(fetches.is_empty(), "{reason}: no fetch");
        }
    }

    // Metrics: a request point per request sent, an operation point per call.
    let metrics = decode_metrics(&received.metrics.lock().unwrap());
    let m = |name: &str| {
        metrics
            .get(&("exirom".to_owned(), name.to_owned()))
            .unwrap_or_else(|| panic!("exirom {name} exported; got {:?}", metrics.keys()))
    };
    let payment = |a: &[KeyValue]| str_attr(a, "payauth.operation") == Some("create_card_payment");
    let requests = m("http.client.request.duration");
    assert_eq!(
        count_where(requests, payment),
        1 + 3 * 2,
        "one per request sent"
    );
    assert_eq!(
        count_where(requests, |a| payment(a)
            && int_attr(a, "http.response.status_code") == Some(200)),
        4
    );
    for (status, error) in [(Some(429), "429"), (Some(401), "401"), (None, "timeout")] {
        assert_eq!(
            count_where(requests, |a| payment(a)
                && int_attr(a, "http.response.status_code") == status
                && str_attr(a, "error.type") == Some(error)),
            1,
            "{error}"
        );
    }
    let operations = m("payauth.client.operation.duration");
    assert_eq!(operations.unit, "s");
    assert_eq!(count_where(operations, payment), 4, "one per call");
    assert_eq!(
        count_where(operations, |a| payment(a)
            && int_attr(a, "http.response.status_code") == Some(200)
            && str_attr(a, "error.type").is_none()),
        4
    );
    assert_eq!(
        sum_where(m("payauth.http.retries"), |a| str_attr(
            a,
            "payauth.retry.reason"
        ) == Some("429")),
        1
    );
    assert_eq!(
        sum_where(m("payauth.http.retries"), |a| str_attr(
            a,
            "payauth.retry.reason"
        ) == Some("timeout")),
        1
    );
    assert_eq!(sum_where(m("payauth.http.reauthentications"), |_| true), 1);
    assert!(
        !metrics.contains_key(&(
            "exirom".to_owned(),
            "payauth.client.operation.unsent".to_owned()
        )),
        "every call sent its request"
    );
}
