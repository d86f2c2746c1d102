//! A client built before the application installs its OpenTelemetry
//! providers (made in `main` before telemetry setup, or in a `LazyLock`)
//! reports to them: `Telemetry::global`, the default, follows the global
//! providers as they are when the client calls — read on its first call,
//! and again on a call a second (on its clock) after the last reading.
//! Its own binary: it installs the process's global providers.

use std::time::Duration;

use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use payauth_sandbox::Provider;
use workspace_tests::support::Env;

/// Points of histogram `name` under `scope`, in the last export.
fn points(metrics: &InMemoryMetricExporter, scope: &str, name: &str) -> u64 {
    let exported = metrics.get_finished_metrics().expect("metrics");
    let Some(last) = exported.last() else {
        return 0;
    };
    last.scope_metrics()
        .filter(|s| s.scope().name() == scope)
        .flat_map(|s| s.metrics())
        .filter(|m| m.name() == name)
        .map(|m| match m.data() {
            AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                h.data_points().map(|p| p.count()).sum::<u64>()
            }
            _ => 0,
        })
        .sum()
}

fn named<'a>(spans: &'a [SpanData], scope: &str, name: &str) -> Vec<&'a SpanData> {
    spans
        .iter()
        .filter(|s| s.instrumentation_scope.name() == scope && s.name == name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_built_before_the_providers_reports_to_them() {
    let env = Env::start().await;
    // Built before any provider is installed (`Telemetry::global`, the
    // default with the `otel` feature).
    let never_called = env.client(Provider::Exirom);
    let called_before = env.client(Provider::Institution);
    // One calls before the providers exist: nothing to record, and
    // nothing breaks.
    assert!(called_before.call().await.ok());

    // The application sets up its telemetry.
    let spans = InMemorySpanExporter::default();
    let metrics = InMemoryMetricExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    opentelemetry::global::set_tracer_provider(tracer_provider.clone());
    opentelemetry::global::set_meter_provider(meter_provider.clone());

    // The client that never called: its first call reports.
    let (_, _, outcome) = never_called.operation(&env.sandbox).await;
    assert!(outcome.ok(), "{outcome:?}");
    // The one that called before: once its clock has moved a second.
    env.advance(Duration::from_secs(1));
    assert!(called_before.call().await.ok());

    tracer_provider.force_flush().expect("spans flushed");
    meter_provider.force_flush().expect("metrics flushed");
    let spans = spans.get_finished_spans().expect("spans");
    // Exirom: the operation, its token fetch with the login, its request.
    let operation = named(&spans, "exirom", "exirom.create_card_payment");
    assert_eq!(operation.len(), 1, "{spans:#?}");
    assert_eq!(operation[0].span_kind, SpanKind::Internal);
    let fetch = named(&spans, "exirom", "token fetch");
    assert_eq!(fetch.len(), 1);
    assert_eq!(fetch[0].parent_span_id, operation[0].span_context.span_id());
    let login = named(&spans, "exirom", "POST /v1/auth");
    assert_eq!(login.len(), 1);
    assert_eq!(login[0].parent_span_id, fetch[0].span_context.span_id());
    let request = named(&spans, "exirom", "POST /v1/payments/card");
    assert_eq!(request.len(), 1);
    assert_eq!(
        request[0].parent_span_id,
        operation[0].span_context.span_id()
    );
    // Institution: its call after the second.
    let operation = named(&spans, "institution", "institution.create_customer");
    assert_eq!(operation.len(), 1, "{spans:#?}");
    let request = named(&spans, "institution", "POST /v2/customer/create");
    assert_eq!(request.len(), 1);
    assert_eq!(
        request[0].parent_span_id,
        operation[0].span_context.span_id()
    );

    // And the metrics.
    assert_eq!(
        points(&metrics, "exirom", "http.client.request.duration"),
        2,
        "the login and the payment"
    );
    assert_eq!(
        points(&metrics, "exirom", "payauth.client.operation.duration"),
        2
    );
    assert_eq!(
        points(&metrics, "exirom", "payauth.token.fetch.duration"),
        1
    );
    assert_eq!(
        points(&metrics, "institution", "http.client.request.duration"),
        1,
        "the call after the second; none from before the providers"
    );
}
