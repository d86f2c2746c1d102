//! Replay protection across a fleet: processes behind one load balancer
//! receive the same callbacks (exirom `X-Checksum` callbacks and pledg
//! notifications) at the same moment. With the shared store (Redis, set
//! up from the environment alone) exactly one process accepts each; a
//! process started later refuses them all; with Redis gone, none is
//! accepted unchecked. Without the store (the in-memory default) every
//! process accepts every callback: what the README says that default does
//! not promise.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use payauth_runtime::Secret;
use payauth_runtime::provider::signing::hmac_checksum;
use serde_json::{Value, json};
use workspace_tests::fleet::one_at_a_time;
use workspace_tests::redis_server::RedisServer;

const EXIROM_SECRET: &str = "exirom-checksum-secret";
const PLEDG_SECRET: &str = "pledg-merchant-secret-key";
/// Callbacks of each provider.
const EACH: usize = 20;
/// Time for every worker to start before they verify together.
const START_ALLOWANCE: Duration = Duration::from_millis(800);

/// `EACH` exirom callbacks and `EACH` pledg notifications, genuine.
fn callbacks() -> Vec<Value> {
    let secret = Secret::new(EXIROM_SECRET);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut out = Vec::new();
    for i in 0..EACH {
        let request_id = format!("req-fleet-{i}");
        // The amount as a JSON number, written with two decimals.
        let body = format!(
            r#"{{"accountId":"acc_001","requestId":"{request_id}","transactionId":"txn_{i}","transactionStatus":"APPROVED","amount":10.50,"currency":"EUR"}}"#
        );
        let checksum = hmac_checksum(&secret, &["acc_001", "10.50", "EUR", &request_id]);
        out.push(json!({"provider": "exirom", "body": body, "checksum": checksum}));
        let jwt = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &json!({"id": format!("pl_{i}"), "status": "completed", "iat": now, "exp": now + 3600}),
            &jsonwebtoken::EncodingKey::from_secret(PLEDG_SECRET.as_bytes()),
        )
        .unwrap();
        out.push(json!({"provider": "pledg", "body": json!({"signature": jwt}).to_string()}));
    }
    out
}

/// `processes` workers verifying `file`'s callbacks together; each one's
/// results in the file's order.
async fn fleet(
    processes: usize,
    file: &std::path::Path,
    store: &str,
    env: &[(String, String)],
) -> Vec<Vec<String>> {
    let start_at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + START_ALLOWANCE;
    let mut children = Vec::new();
    for _ in 0..processes {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_callback_worker"));
        cmd.arg("--callbacks")
            .arg(file)
            .args(["--exirom-secret", EXIROM_SECRET])
            .args(["--pledg-secret", PLEDG_SECRET])
            .args(["--store", store])
            .args(["--start-at-unix-ms", &start_at.as_millis().to_string()])
            .env_remove("AUTH_RUNTIME_REDIS_URL")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        children.push(cmd.spawn().expect("spawn callback_worker"));
    }
    let mut results = Vec::new();
    for child in children {
        let out = child.wait_with_output().await.expect("callback_worker");
        assert!(
            out.status.success(),
            "callback_worker failed: {}",
            out.status
        );
        results.push(serde_json::from_slice(&out.stdout).expect("JSON results"));
    }
    results
}

/// How many processes answered `outcome` to callback `i`.
fn count(results: &[Vec<String>], i: usize, outcome: &str) -> usize {
    results.iter().filter(|r| r[i] == outcome).count()
}

#[tokio::test]
async fn with_a_shared_store_exactly_one_process_of_a_fleet_accepts_each_callback() {
    let _one = one_at_a_time().await;
    let mut redis = RedisServer::start();
    let file = std::env::temp_dir().join(format!(
        "callbacks-fleet-{}-{}.json",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let all = callbacks();
    std::fs::write(&file, serde_json::to_vec(&all).unwrap()).unwrap();
    let keys = (
        "AUTH_RUNTIME_REDIS_KEYS".to_string(),
        format!("k1:{}", STANDARD.encode([42u8; 32])),
    );
    let env = vec![
        ("AUTH_RUNTIME_REDIS_URL".to_string(), redis.url()),
        keys.clone(),
    ];

    // Two instances, the same callbacks at the same moment.
    let results = fleet(2, &file, "env", &env).await;
    for i in 0..all.len() {
        assert_eq!(
            (
                count(&results, i, "accepted"),
                count(&results, i, "replayed")
            ),
            (1, 1),
            "callback {i} ({}): {:?}",
            all[i]["provider"],
            results.iter().map(|r| &r[i]).collect::<Vec<_>>()
        );
    }
    // Remembered in Redis, under keys that do not show the callbacks,
    // with a time to live (30 days by default).
    let stored = redis.cli(&["KEYS", "auth-runtime:v1:seen:*"]);
    let stored: Vec<&str> = stored.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(stored.len(), all.len(), "{stored:?}");
    assert_eq!(
        stored
            .iter()
            .filter(|k| k.starts_with("auth-runtime:v1:seen:exirom:"))
            .count(),
        EACH
    );
    let ttl: u64 = redis.cli(&["PTTL", stored[0]]).trim().parse().unwrap();
    assert!(
        ttl > 29 * 24 * 3600 * 1000 && ttl <= 30 * 24 * 3600 * 1000,
        "{ttl}"
    );
    for cb in &all {
        if let Some(sum) = cb["checksum"].as_str() {
            assert!(!stored.iter().any(|k| k.contains(sum)));
        }
    }
    // An instance started later (a restart, a new one): every callback
    // is a replay.
    let later = fleet(1, &file, "env", &env).await;
    assert!(later[0].iter().all(|r| r == "replayed"), "{later:?}");

    // Redis gone: nothing is accepted unchecked.
    redis.kill();
    let down = fleet(1, &file, "env", &env).await;
    assert!(
        down[0].iter().all(|r| r == "ReplayCheckUnavailable"),
        "{down:?}"
    );

    // The in-memory default: each instance accepts every callback once.
    let alone = fleet(2, &file, "none", &[keys]).await;
    for r in &alone {
        assert!(r.iter().all(|r| r == "accepted"), "{alone:?}");
    }
    let _ = std::fs::remove_file(&file);
}
