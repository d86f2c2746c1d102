//! Peak memory of one call whose provider answers far more than the cap:
//! `cargo run -p workspace-tests --example hostile_memory [--release]`.
//!
//! Prints the growth of the process's peak resident set (Linux `VmHWM`,
//! reset between cases through `/proc/self/clear_refs`) for each case. The
//! server generates its bytes while writing, so the figure is the client's.

use std::time::{Duration, Instant};

use payauth_runtime::RetryPolicy;
use workspace_tests::hostile::{Hostile, Reply};

const MIB: u64 = 1024 * 1024;

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn reset_peak() {
    // "5" resets the peak RSS to the current RSS (Linux ≥ 4.0).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn case(name: &str, api: Reply, policy: RetryPolicy) {
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtIn0.c2ln";
    let h = Hostile::start(move |_, path| match path {
        "/v1/auth" => Reply::json(200, format!(r#""{token}""#)),
        _ => api.clone(),
    })
    .await;
    let client = exirom::builder()
        .base_url(h.base_url())
        .credentials(exirom::Credentials::new("mk", "ms"))
        .retry_policy(policy.max_retries(0))
        .timeout(Duration::from_secs(120))
        .shared_cache(false)
        .build()
        .expect("client");
    client.bearer().await.expect("login");
    reset_peak();
    let rss_before = status_kib("VmRSS:");
    let started = Instant::now();
    let outcome = client
        .send(client.request(reqwest::Method::GET, "/v1/data"))
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.kind());
    let peak = status_kib("VmHWM:");
    println!(
        "{name:<48} outcome {outcome:?}  peak RSS growth {:>7.1} MiB  ({:.1} s)",
        peak.saturating_sub(rss_before) as f64 / 1024.0,
        started.elapsed().as_secs_f64()
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let huge = |chunked| Reply::Generated {
        status: 200,
        len: 256 * MIB,
        chunked,
        fill: b'a',
    };
    let cap = RetryPolicy::default();
    case(
        "256 MiB chunked, default 16 MiB cap",
        huge(true),
        cap.clone(),
    )
    .await;
    case(
        "256 MiB with Content-Length, default cap",
        huge(false),
        cap.clone(),
    )
    .await;
    case(
        "256 MiB chunked, cap raised to 512 MiB (reference)",
        huge(true),
        cap.max_response_bytes(512 * MIB),
    )
    .await;
}
