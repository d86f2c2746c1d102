//! What the SDKs reported to OpenTelemetry, read back from an SDK meter
//! provider with an in-memory exporter: the metrics summary at the end of
//! `cargo xtask demo`, one row per provider crate (instrumentation scope).

use std::collections::BTreeMap;

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use payauth_runtime::Telemetry;

/// An application's OpenTelemetry, kept in memory.
#[derive(Debug)]
pub struct InMemoryTelemetry {
    metrics: InMemoryMetricExporter,
    meter_provider: SdkMeterProvider,
    tracer_provider: SdkTracerProvider,
}

/// One provider crate's figures.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Requests sent, retries included (`http.client.request.duration` points).
    pub requests: u64,
    /// Their total duration, in seconds.
    pub request_seconds: f64,
    /// Token fetches that logged in, refreshed, or did neither (a
    /// background refresh that found the token renewed).
    pub fetch_logins: u64,
    pub fetch_refreshes: u64,
    pub fetch_other: u64,
    pub hits: u64,
    pub waits: u64,
    pub proactive: u64,
    pub reauthentications: u64,
    pub retries: u64,
    /// Fetches through the shared store, by result.
    pub store_hits: u64,
    pub store_misses: u64,
    pub store_outages: u64,
}

impl Default for InMemoryTelemetry {
    fn default() -> Self {
        let metrics = InMemoryMetricExporter::default();
        InMemoryTelemetry {
            meter_provider: SdkMeterProvider::builder()
                .with_reader(PeriodicReader::builder(metrics.clone()).build())
                .build(),
            tracer_provider: SdkTracerProvider::builder().build(),
            metrics,
        }
    }
}

fn has<'a>(mut attributes: impl Iterator<Item = &'a KeyValue>, key: &str, value: &str) -> bool {
    attributes.any(|kv| kv.key.as_str() == key && kv.value.as_str() == value)
}

impl InMemoryTelemetry {
    /// What a client reports here with.
    pub fn telemetry(&self) -> Telemetry {
        Telemetry::with_providers(self.tracer_provider.clone(), self.meter_provider.clone())
    }

    /// The figures so far, by provider crate.
    pub fn summary(&self) -> BTreeMap<String, Summary> {
        let _ = self.meter_provider.force_flush();
        let mut out: BTreeMap<String, Summary> = BTreeMap::new();
        let exported = self.metrics.get_finished_metrics().unwrap_or_default();
        let Some(last) = exported.last() else {
            return out;
        };
        for scope in last.scope_metrics() {
            let s = out.entry(scope.scope().name().to_string()).or_default();
            for metric in scope.metrics() {
                match (metric.name(), metric.data()) {
                    (
                        "http.client.request.duration",
                        AggregatedMetrics::F64(MetricData::Histogram(h)),
                    ) => {
                        for p in h.data_points() {
                            s.requests += p.count();
                            s.request_seconds += p.sum();
                        }
                    }
                    (
                        "payauth.token.fetch.duration",
                        AggregatedMetrics::F64(MetricData::Histogram(h)),
                    ) => {
                        for p in h.data_points() {
                            let source = "payauth.token.source";
                            if has(p.attributes(), source, "login") {
                                s.fetch_logins += p.count();
                            } else if has(p.attributes(), source, "refresh") {
                                s.fetch_refreshes += p.count();
                            } else {
                                s.fetch_other += p.count();
                            }
                        }
                    }
                    ("payauth.store.lookups", AggregatedMetrics::U64(MetricData::Sum(sum))) => {
                        for p in sum.data_points() {
                            let result = "payauth.store.result";
                            if has(p.attributes(), result, "hit") {
                                s.store_hits += p.value();
                            } else if has(p.attributes(), result, "miss") {
                                s.store_misses += p.value();
                            } else if has(p.attributes(), result, "outage") {
                                s.store_outages += p.value();
                            }
                        }
                    }
                    (name, AggregatedMetrics::U64(MetricData::Sum(sum))) => {
                        let total: u64 = sum.data_points().map(|p| p.value()).sum();
                        match name {
                            "payauth.token.cache.hits" => s.hits += total,
                            "payauth.token.cache.waits" => s.waits += total,
                            "payauth.token.proactive_refreshes" => s.proactive += total,
                            "payauth.http.reauthentications" => s.reauthentications += total,
                            "payauth.http.retries" => s.retries += total,
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }
}
