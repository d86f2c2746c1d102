//! `payauth` run as a user runs it, against `payauth sandbox` (started by
//! this test, stopped by its pid): check, token, verify-callback, trigger;
//! the exit codes, `--json` parsed, and no secret in any output without
//! `--reveal`.

mod common;

use std::collections::HashMap;
use std::net::TcpListener;

use common::{json_error, no_secret, receive_one, run, sandbox, text};
use payauth::providers;

#[test]
fn check_succeeds_for_every_provider_and_prints_no_secret() {
    let sb = sandbox();
    for p in providers::names() {
        let out = run(&["check", p, "--json"], &sb.env, None);
        assert_eq!(out.status.code(), Some(0), "{p}: {}", text(&out));
        no_secret(&text(&out), &sb.env);
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("one JSON object");
        assert_eq!(report["provider"], p);
        let lifetime = report["lifetime_secs"].as_u64().expect("lifetime");
        let refresh_in = report["refresh_in_secs"].as_u64().expect("refresh in");
        // Lifetimes are counted from receipt against whole-second expiry
        // times: a 600 s token can read 599 s, less on a loaded machine.
        assert!(lifetime >= 590 && refresh_in < lifetime, "{report}");
        assert!(
            report["refresh_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert!(
            report["expires_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert!(
            report["clock_skew_secs"]
                .as_i64()
                .is_some_and(|s| s.abs() <= 5),
            "{report}"
        );
        // The refresh token's lifetime: institution only (2 days).
        let rt = report["refresh_token_lifetime_secs"].as_u64();
        if p == "institution" {
            assert!(
                rt.is_some_and(|s| (172_700..=172_800).contains(&s)),
                "{report}"
            );
        } else {
            assert_eq!(rt, None, "{report}");
        }

        let out = run(&["check", p], &sb.env, None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let printed = text(&out);
        assert!(printed.contains("credentials work"), "{printed}");
        assert!(printed.contains("refresh at"), "{printed}");
        no_secret(&printed, &sb.env);
    }
}

#[test]
fn wrong_credentials_exit_77_missing_ones_78_and_transient_failures_75() {
    let sb = sandbox();
    // Each provider's first required secret, made wrong.
    for (p, var) in providers::ALL.iter().map(|d| {
        let secret = d.about.variables.iter().find(|v| v.required && v.secret);
        (d.name, secret.expect("a required secret").name)
    }) {
        let mut env = sb.env.clone();
        env.insert(var.into(), "CANARY-wrong-credential-0451".into());
        let out = run(&["check", p], &env, None);
        let printed = text(&out);
        assert_eq!(out.status.code(), Some(77), "{p}: {printed}");
        assert!(printed.contains("InvalidCredentials"), "{printed}");
        assert!(printed.contains(var), "names the variable: {printed}");
        assert!(
            !printed.contains("CANARY-wrong-credential-0451"),
            "{printed}"
        );
        no_secret(&printed, &sb.env);
    }
    // A missing variable: configuration, exit 78.
    let mut env = sb.env.clone();
    env.remove("AXEPT_KEY");
    let out = run(&["check", "axept"], &env, None);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("AXEPT_KEY"), "{}", text(&out));

    // Nothing listens: transient, exit 75.
    let closed = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut env = sb.env.clone();
    env.insert(
        "PLEDG_BASE_URL".into(),
        format!("http://127.0.0.1:{port}/pledg"),
    );
    let out = run(&["check", "pledg", "--json"], &env, None);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(text(&out).contains("Transient"), "{}", text(&out));
    assert_eq!(json_error(&out), "transient");
}

#[test]
fn token_needs_reveal() {
    let sb = sandbox();
    let out = run(&["token", "pledg"], &sb.env, None);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(out.stdout.is_empty());
    assert!(text(&out).contains("--reveal"));

    let out = run(&["token", "bursagb", "--reveal"], &sb.env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let token = String::from_utf8(out.stdout.clone()).expect("utf-8");
    let token = token.trim();
    assert_eq!(token.split('.').count(), 3, "a JWT on stdout: {token}");
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(
        warning.contains("warning: this is a live bursagb bearer token"),
        "{warning}"
    );
    assert!(!warning.contains(token), "the warning does not repeat it");
}

#[test]
fn triggered_callbacks_verify_in_the_cli_and_the_sdk() {
    let sb = sandbox();
    let dir = std::env::temp_dir().join(format!("payauth-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (p, event) in [("exirom", "payment"), ("pledg", "notification")] {
        let (url, received) = receive_one();
        let out = run(
            &["sandbox", "trigger", p, event, "--to", &url],
            &sb.env,
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(text(&out).contains("HTTP 200"), "{}", text(&out));
        let (headers, body) = received.join().expect("received");
        let headers_file = dir.join(format!("{p}.headers"));
        std::fs::write(&headers_file, &headers).expect("written");
        let headers_path = headers_file.to_str().expect("utf-8 path");

        // Genuine: the body on stdin, the headers from a file.
        let out = run(
            &["verify-callback", p, "--headers", headers_path, "--json"],
            &sb.env,
            Some(&body),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(verdict["valid"], true, "{verdict}");

        // The SDK's own verifier accepts it too.
        let mut map = reqwest::header::HeaderMap::new();
        for line in headers.lines().skip(1) {
            let (k, v) = line.split_once(':').expect("header line");
            map.append(
                reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()).expect("name"),
                v.trim().parse().expect("value"),
            );
        }
        let now = std::time::SystemTime::now();
        match p {
            "exirom" => {
                let secret = payauth_runtime::Secret::new(sb.env["MERCHANT_SECRET"].clone());
                exirom::CallbackVerifier::new(secret)
                    .verify(&body, &map, now)
                    .expect("the SDK accepts the triggered callback");
            }
            _ => {
                let secret = payauth_runtime::Secret::new(sb.env["PLEDG_SECRET_KEY"].clone());
                pledg::NotificationVerifier::new(secret)
                    .verify(&body, &map, now)
                    .expect("the SDK accepts the triggered notification");
            }
        }

        // Tampered: one byte of the body changed.
        let mut tampered = body.clone();
        let at = tampered.len() / 2;
        tampered[at] = if tampered[at] == b'1' { b'2' } else { b'1' };
        let body_file = dir.join(format!("{p}.body"));
        std::fs::write(&body_file, &tampered).expect("written");
        let out = run(
            &[
                "verify-callback",
                p,
                "--body",
                body_file.to_str().expect("utf-8"),
                "--headers",
                headers_path,
            ],
            &sb.env,
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).starts_with("invalid:"), "{}", text(&out));

        // Without the secret: configuration, exit 78.
        let out = run(&["verify-callback", p], &HashMap::new(), Some(&body));
        assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    }
    // exirom unsigned: the header missing.
    let out = run(
        &[
            "verify-callback",
            "exirom",
            "-H",
            "content-type: application/json",
        ],
        &sb.env,
        Some(br#"{"accountId":"a","amount":"1","currency":"EUR","requestId":"r"}"#),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
