//! A canary credential and token never appear in `Debug`, `Display`,
//! errors, captured tracing output (TRACE level, every crate) or
//! OpenTelemetry (every span name, attribute, event, link and status, every
//! metric and its attributes, recorded by the SDK's in-memory exporters
//! installed as the application's global providers), across logins,
//! refreshes, 401 recovery, retries and failures.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use payauth_sandbox::{
    AxeptConfig, BursagbConfig, ExiromConfig, Fault, InstitutionConfig, PledgConfig, Provider,
    Route, SandboxConfig,
};
use workspace_tests::support::{self, Env};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const CANARIES: [&str; 6] = [
    "CANARY-exirom-secret-9b1f",
    "CANARY-institution-password-42aa",
    "CANARY-institution-apikey-77c1",
    "CANARY-pledg-secret-d00d",
    "CANARY-bursagb-password-5e5e",
    "CANARY-axept-key-0f0f",
];

fn canary_config() -> SandboxConfig {
    let mut cfg = SandboxConfig::default();
    cfg.provider_mut::<ExiromConfig>().merchant_secret = CANARIES[0].into();
    cfg.provider_mut::<InstitutionConfig>().password = CANARIES[1].into();
    cfg.provider_mut::<InstitutionConfig>().api_key = CANARIES[2].into();
    cfg.provider_mut::<PledgConfig>().api_secret = CANARIES[3].into();
    cfg.provider_mut::<BursagbConfig>().reseller.password = CANARIES[4].into();
    cfg.provider_mut::<AxeptConfig>().key = CANARIES[5].into();
    // Short lifetimes so refreshes happen within the test.
    cfg.provider_mut::<PledgConfig>().token_lifetime = Duration::from_secs(60);
    cfg.provider_mut::<InstitutionConfig>()
        .access_token_lifetime = Duration::from_secs(60);
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_is_ever_printed() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    // The application's OpenTelemetry: every client below reports to it
    // (`Telemetry::global`, the default with the `otel` feature).
    let spans = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let metrics = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
    let tracer_provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let meter_provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_reader(opentelemetry_sdk::metrics::PeriodicReader::builder(metrics.clone()).build())
        .build();
    opentelemetry::global::set_tracer_provider(tracer_provider.clone());
    opentelemetry::global::set_meter_provider(meter_provider.clone());

    let env = Env::start_with(canary_config()).await;
    let mut printed = Vec::new();
    let mut tokens = Vec::new();
    for p in support::providers() {
        let client = env.client(p);
        printed.push(client.debug());
        // Login, cached calls, a retried 503, a 401 recovery, a refresh.
        assert!(client.call().await.ok(), "{p:?}");
        tokens.push(client.bearer().await.unwrap().secret().expose().to_string());
        env.sandbox.inject(p, Route::Protected, Fault::status(503));
        assert!(client.protected().await.ok());
        env.sandbox.revoke_token(tokens.last().unwrap());
        assert!(client.call().await.ok(), "{p:?}");
        tokens.push(client.bearer().await.unwrap().secret().expose().to_string());
        env.advance(Duration::from_secs(55));
        let _ = client.call().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let token = client.bearer().await.unwrap();
        tokens.push(token.secret().expose().to_string());
        printed.push(format!("{token:?}"));
        printed.push(format!("{:?}", client.metrics()));
        // Failures: persistent 401, a malformed login, wrong credentials.
        env.sandbox
            .inject(p, client.call_route(), Fault::status(401));
        env.sandbox
            .inject(p, client.call_route(), Fault::status(401));
        printed.push(format!("{:?}", client.call().await));
        let fresh = env.client(p);
        // Malformed answers are asked again twice: three make an error.
        for _ in 0..=payauth_runtime::provider::MALFORMED_RETRIES {
            env.sandbox.inject(p, Route::Login, Fault::malformed_body());
        }
        let err = fresh.bearer().await.unwrap_err();
        printed.push(format!("{err:?} / {err}"));
    }
    // Builders, credentials and config errors print no secret either.
    let creds = pledg::Credentials::new("k", payauth_runtime::Secret::new(CANARIES[3]));
    printed.push(format!("{creds:?}"));
    let builder = pledg::builder()
        .credentials(creds.clone())
        .base_url("http://example.com");
    printed.push(format!("{builder:?}"));
    printed.push(format!("{:?}", builder.build().unwrap_err()));
    let wrong = pledg::builder()
        .base_url(env.sandbox.base_url(Provider::Pledg))
        .credentials(pledg::Credentials::new(
            "sbx_pledg_api_key",
            payauth_runtime::Secret::new("CANARY-wrong-secret-1234"),
        ))
        .shared_cache(false)
        .build()
        .unwrap();
    let err = wrong.bearer().await.unwrap_err();
    printed.push(format!("{err:?} / {err}"));

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    tracer_provider.force_flush().unwrap();
    meter_provider.force_flush().unwrap();
    // Everything recorded, as its `Debug` shows every field.
    let telemetry = format!(
        "{:#?}\n{:#?}",
        spans.get_finished_spans().unwrap(),
        metrics.get_finished_metrics().unwrap()
    );
    for recorded in [
        "token fetch",
        "url.full",
        "http.request.resend_count",
        "payauth.token.wait",
        "http.client.request.duration",
        "payauth.client.operation.duration",
        "payauth.retry.reason",
        "url.template",
        "payauth.http.reauthentications",
        "payauth.http.retries",
        "payauth.token.fetch.duration",
    ] {
        assert!(
            telemetry.contains(recorded),
            "telemetry recorded no `{recorded}`"
        );
    }
    assert!(
        log.len() > 1000,
        "tracing captured too little to mean anything: {log}"
    );
    assert!(log.contains("re-authenticating"), "401 recovery is traced");
    assert!(log.contains("retrying"), "retries are traced");
    let printed = printed.join("\n");
    // Three tokens per provider: first, after the 401, after the refresh.
    assert_eq!(tokens.len(), 3 * support::providers().count());
    assert!(!tokens.is_empty());
    let mut secrets: Vec<&str> = CANARIES.to_vec();
    secrets.push("CANARY-wrong-secret-1234");
    for secret in secrets
        .iter()
        .copied()
        .chain(tokens.iter().map(String::as_str))
    {
        assert!(!log.contains(secret), "tracing output leaks `{secret}`");
        assert!(!telemetry.contains(secret), "telemetry leaks `{secret}`");
        assert!(
            !printed.contains(secret),
            "Debug/Display leaks `{secret}`:\n{printed}"
        );
    }
}
