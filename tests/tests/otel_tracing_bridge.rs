//! The runtime's spans through `tracing-opentelemetry`, the bridge most
//! Rust services use, set up as an application sets it up: a
//! `tracing-subscriber` registry with the bridge's layer (INFO and up),
//! the SDK's tracer provider installed globally too, and the calls made
//! inside the application's own `tracing` span. Each call gives exactly
//! the spans the README draws — the operation's under the application's
//! span, the token fetch and its login under the operation, one request
//! span per attempt — each once, correctly parented: the runtime's own
//! `tracing` span around a fetch (`auth.fetch`) is not a second span of
//! it. Its own binary: it installs the process's subscriber and
//! providers.

use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use payauth_sandbox::{Fault, Provider, Route};
use tracing::Instrument as _;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use workspace_tests::support::Env;

/// The spans as `(name, parent's name)`, sorted; a root's parent is `-`.
fn tree(spans: &[SpanData]) -> Vec<(String, String)> {
    let name_of = |id: SpanId| {
        spans
            .iter()
            .find(|s| s.span_context.span_id() == id)
            .map(|s| s.name.to_string())
    };
    let mut tree: Vec<(String, String)> = spans
        .iter()
        .map(|s| {
            let parent = if s.parent_span_id == SpanId::INVALID {
                "-".to_owned()
            } else {
                name_of(s.parent_span_id).unwrap_or_else(|| "(not exported)".to_owned())
            };
            (s.name.to_string(), parent)
        })
        .collect();
    tree.sort();
    tree
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_tracing_opentelemetry_each_span_once_and_correctly_parented() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    tracing_subscriber::registry()
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("app"))
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO),
        )
        .init();

    let env = Env::start().await;
    let exirom = env.client(Provider::Exirom);

    // A cold call: the token fetched (a login) inside the operation.
    let (_, _, outcome) = exirom
        .operation(&env.sandbox)
        .instrument(tracing::info_span!("checkout"))
        .await;
    assert!(outcome.ok(), "{outcome:?}");
    provider.force_flush().expect("flushed");
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(
        tree(&spans),
        pairs(&[
            ("checkout", "-"),
            ("exirom.create_card_payment", "checkout"),
            ("token fetch", "exirom.create_card_payment"),
            ("POST /v1/auth", "token fetch"),
            ("POST /v1/payments/card", "exirom.create_card_payment"),
        ]),
        "{spans:#?}"
    );
    let trace = spans[0].span_context.trace_id();
    assert!(
        spans.iter().all(|s| s.span_context.trace_id() == trace),
        "one trace"
    );

    // A warm call resent after a 429: the cached token, two requests.
    exporter.reset();
    env.sandbox
        .inject(Provider::Exirom, Route::CardPayment, Fault::status(429));
    let (_, _, outcome) = exirom
        .operation(&env.sandbox)
        .instrument(tracing::info_span!("refund"))
        .await;
    assert!(outcome.ok(), "{outcome:?}");
    assert_eq!(outcome.attempts, 2);
    provider.force_flush().expect("flushed");
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(
        tree(&spans),
        pairs(&[
            ("refund", "-"),
            ("exirom.create_card_payment", "refund"),
            ("POST /v1/payments/card", "exirom.create_card_payment"),
            ("POST /v1/payments/card", "exirom.create_card_payment"),
        ]),
        "{spans:#?}"
    );

    // A fetch on its own (no operation): its span and its login, once.
    exporter.reset();
    env.sandbox.revoke_all(Provider::Exirom);
    let fresh = env.client(Provider::Exirom);
    fresh
        .bearer()
        .instrument(tracing::info_span!("warm_up"))
        .await
        .expect("a token");
    provider.force_flush().expect("flushed");
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(
        tree(&spans),
        pairs(&[
            ("warm_up", "-"),
            ("token fetch", "warm_up"),
            ("POST /v1/auth", "token fetch"),
        ]),
        "{spans:#?}"
    );
}
