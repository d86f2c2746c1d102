//! One instance of an application behind a load balancer, for the fleet
//! replay test: it verifies a list of inbound callbacks (exirom
//! `X-Checksum` callbacks and pledg notifications) with the SDKs'
//! `verify_shared`, all at once, and prints one JSON result per callback.
//!
//! ```text
//! callback_worker --callbacks FILE --exirom-secret S --pledg-secret K \
//!                 --store env|none --start-at-unix-ms T
//! ```
//!
//! `FILE`: a JSON array of `{"provider": "exirom"|"pledg", "body": <text>,
//! "checksum"?: <X-Checksum>}`. `--store env`: the verifiers pick the
//! shared store up from `AUTH_RUNTIME_REDIS_URL` / `AUTH_RUNTIME_REDIS_KEYS`
//! by themselves (no code); `none`: each keeps its replays in memory.
//! `--start-at-unix-ms`: wait until then (wall clock), so that the fleet's
//! processes verify at the same moment. Output: a JSON array of
//! `"accepted"`, `"replayed"` or another error's name, in the file's order.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use payauth_runtime::Secret;
use serde_json::{Value, json};

fn main() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let mut args = HashMap::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let name = flag.strip_prefix("--").expect("--flag value").to_string();
        args.insert(name, it.next().expect("a value"));
    }
    let arg = |n: &str| args.get(n).cloned().unwrap_or_else(|| panic!("--{n}"));
    let callbacks: Vec<Value> =
        serde_json::from_slice(&std::fs::read(arg("callbacks")).expect("callbacks file"))
            .expect("JSON array");
    let in_memory = match arg("store").as_str() {
        "env" => false,
        "none" => true,
        other => panic!("--store {other}"),
    };
    let start_at = UNIX_EPOCH + Duration::from_millis(arg("start-at-unix-ms").parse().unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let results = runtime.block_on(async move {
        let mut exirom = exirom::CallbackVerifier::new(Secret::new(arg("exirom-secret")));
        let mut pledg = pledg::NotificationVerifier::new(Secret::new(arg("pledg-secret")));
        if in_memory {
            exirom = exirom.replays_in_memory();
            pledg = pledg.replays_in_memory();
        }
        assert_eq!(exirom.is_shared(), !in_memory, "exirom's store");
        assert_eq!(pledg.is_shared(), !in_memory, "pledg's store");
        let (exirom, pledg) = (Arc::new(exirom), Arc::new(pledg));
        if let Ok(wait) = start_at.duration_since(SystemTime::now()) {
            tokio::time::sleep(wait).await;
        }
        let tasks: Vec<_> = callbacks
            .into_iter()
            .map(|cb| {
                let (exirom, pledg) = (exirom.clone(), pledg.clone());
                tokio::spawn(async move {
                    let body = cb["body"].as_str().expect("body").as_bytes().to_vec();
                    let mut headers = reqwest::header::HeaderMap::new();
                    if let Some(sum) = cb["checksum"].as_str() {
                        headers.insert("x-checksum", sum.parse().expect("header"));
                    }
                    let now = SystemTime::now();
                    let outcome = match cb["provider"].as_str() {
                        Some("exirom") => {
                            exirom.verify_shared(&body, &headers, now).await.map(drop)
                        }
                        Some("pledg") => pledg.verify_shared(&body, &headers, now).await.map(drop),
                        other => panic!("provider {other:?}"),
                    };
                    match outcome {
                        Ok(()) => "accepted".to_string(),
                        Err(exirom::CallbackError::Replayed) => "replayed".to_string(),
                        Err(e) => format!("{e:?}"),
                    }
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("task"));
        }
        results
    });
    println!("{}", json!(results));
}
