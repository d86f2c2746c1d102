//! `payauth sandbox clock advance | fault | revoke` drive a running
//! `payauth sandbox` through its control API.

mod common;

use std::collections::HashMap;

use common::{json_error, run, sandbox, text};

#[test]
fn clock_advance_moves_the_sandbox_clock() {
    let sb = sandbox();
    let out = run(
        &[
            "sandbox",
            "clock",
            "advance",
            "10m",
            "--sandbox",
            &sb.root,
            "--json",
        ],
        &sb.env,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let clock: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        clock["offset_ms"].as_i64().is_some_and(|ms| ms >= 600_000),
        "{clock}"
    );
    // The variable names the sandbox too.
    let mut env = sb.env.clone();
    env.insert("PAYAUTH_SANDBOX_URL".into(), sb.root.clone());
    let out = run(&["sandbox", "clock", "advance", "1h"], &env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("4200 s ahead"), "{}", text(&out));
}

#[test]
fn faults_are_queued_and_retried_through() {
    let sb = sandbox();
    let out = run(
        &[
            "sandbox",
            "fault",
            "pledg",
            "503",
            "--times",
            "2",
            "--sandbox",
            &sb.root,
        ],
        &sb.env,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Two 503s on the token endpoint: the runtime retries through them.
    let out = run(&["check", "pledg", "-v"], &sb.env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(text(&out).matches("retrying").count(), 2, "{}", text(&out));
    // Three: more than the retries allowed, a transient failure.
    let out = run(
        &[
            "sandbox",
            "fault",
            "pledg",
            "503",
            "--times",
            "3",
            "--sandbox",
            &sb.root,
        ],
        &sb.env,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(&["check", "pledg", "--json"], &sb.env, None);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert_eq!(json_error(&out), "transient");
    // A route the provider does not have: the sandbox says so, exit 64.
    let out = run(
        &[
            "sandbox",
            "fault",
            "pledg",
            "503",
            "--route",
            "orders_create",
            "--sandbox",
            &sb.root,
            "--json",
        ],
        &sb.env,
        None,
    );
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert_eq!(json_error(&out), "rejected_by_sandbox");
}

#[test]
fn revoke_makes_issued_tokens_fail() {
    let sb = sandbox();
    let out = run(&["token", "institution", "--reveal"], &sb.env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let token = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string();
    let protected = format!("{}/sandbox/protected", sb.env["INSTITUTION_BASE_URL"]);
    assert_eq!(get(&protected, &token), 200);
    let out = run(
        &["sandbox", "revoke", "institution", "--sandbox", &sb.root],
        &sb.env,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(get(&protected, &token), 401);
}

#[test]
fn an_unreachable_sandbox_is_transient() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let out = run(
        &["sandbox", "revoke", "pledg", "--sandbox", &url, "--json"],
        &HashMap::new(),
        None,
    );
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert_eq!(json_error(&out), "sandbox_unreachable");
}

/// `GET url` with a bearer token: the status.
fn get(url: &str, token: &str) -> u16 {
    let (url, token) = (url.to_string(), token.to_string());
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async move {
                reqwest::Client::builder()
                    .no_proxy()
                    .build()
                    .expect("client")
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
    })
    .join()
    .expect("joined")
}
