//! `payauth sandbox` as a development server: it logs one line per request
//! (with what it decided) and per callback it sends, `--forward-to` sends
//! every callback to the application, and `sandbox trigger` acts on that
//! running sandbox, so the application verifies the callback with the
//! SDK's verifier and fetches the object it was told about from it.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use common::{BIN, json_error, receive_one, run, sandbox, sandbox_with, text};

/// Header lines of a raw HTTP request (its request line skipped) as a map.
fn header_map(raw: &str) -> reqwest::header::HeaderMap {
    let mut map = reqwest::header::HeaderMap::new();
    for line in raw.lines().skip(1) {
        let (k, v) = line.split_once(':').expect("a header line");
        map.append(
            reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()).expect("a name"),
            v.trim().parse().expect("a value"),
        );
    }
    map
}

#[test]
fn a_forwarded_callback_is_verified_by_the_application_which_fetches_the_payment() {
    let (app, received) = receive_one();
    let sb = sandbox_with(&["--forward-to", &app]);
    // No --to: the request names a URL only the forwarding reaches; the
    // sandbox's URL comes from the PAYAUTH_SANDBOX_URL it printed.
    let out = run(&["sandbox", "trigger", "exirom", "payment"], &sb.env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(said.contains("HTTP 200, delivered"), "{said}");

    // The application: the SDK's verifier accepts the callback…
    let (headers, body) = received.join().expect("the application got it");
    assert!(headers.starts_with("POST /callbacks "), "{headers}");
    let secret = payauth_runtime::Secret::new(sb.env["MERCHANT_SECRET"].clone());
    let callback = exirom::CallbackVerifier::new(secret)
        .verify(&body, &header_map(&headers), std::time::SystemTime::now())
        .expect("the SDK accepts the forwarded callback");
    let transaction = callback
        .transaction_id
        .unverified()
        .clone()
        .expect("a transaction id");
    assert!(said.contains(&transaction), "{said}");

    // …and it fetches the payment it was told about from the same sandbox.
    let client = exirom::builder()
        .base_url(sb.env["API_BASE_URL"].clone())
        .credentials(exirom::Credentials::new(
            sb.env["MERCHANT_KEY"].clone(),
            payauth_runtime::Secret::new(sb.env["MERCHANT_SECRET"].clone()),
        ))
        .shared_cache(false)
        .build()
        .expect("a client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let status = runtime
        .block_on(
            client
                .get_card_payment_status()
                .id(transaction.clone())
                .send(),
        )
        .expect("the payment exists in the sandbox that called back")
        .into_inner();
    assert_eq!(
        Some(status.transaction_status.as_str()),
        callback.transaction_status.unverified().as_deref()
    );

    // The sandbox's log: the request with what it decided, the callback.
    let created = sb.line(|l| l.contains("exirom card_payment → 200"));
    assert!(
        created.contains(&format!(
            "POST /exirom/api/v1/payments/card exirom card_payment → 200: created {transaction}"
        )),
        "{created}"
    );
    let sent = sb.line(|l| l.contains("callback exirom"));
    assert!(
        sent.contains(&format!(
            "callback exirom {transaction} APPROVED → {app} (forwarded): HTTP 200, delivered (attempt 1/6)"
        )),
        "{sent}"
    );
    let fetched = sb.line(|l| l.contains("card_payment_status"));
    assert!(
        fetched.contains(&format!(
            "GET /exirom/api/v1/payments/card/status/{transaction}"
        )),
        "{fetched}"
    );
}

#[test]
fn the_log_says_what_the_sandbox_decided() {
    let sb = sandbox();
    let token = run(&["token", "exirom", "--reveal"], &sb.env, None);
    assert_eq!(token.status.code(), Some(0), "{}", text(&token));
    let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
    let out = run(&["sandbox", "revoke", "exirom"], &sb.env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let answer = raw_get(
        &sb.root,
        "/exirom/api/sandbox/protected",
        Some(&format!("Bearer {token}")),
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let line = sb.line(|l| l.contains("exirom protected → 401"));
    assert!(line.ends_with("→ 401: token revoked"), "{line}");
    assert!(!line.contains(&token), "no token in the log: {line}");
    let login = sb.line(|l| l.contains("exirom login → 200"));
    assert!(login.ends_with(": logged in"), "{login}");
    // Time first, in the sandbox's clock.
    let time = line.split_whitespace().next().unwrap_or_default();
    assert!(
        time.len() == 8 && time.chars().filter(|c| *c == ':').count() == 2,
        "{line}"
    );
}

/// A GET over a plain TCP connection: the whole answer as text.
fn raw_get(root: &str, path: &str, authorization: Option<&str>) -> String {
    let addr = root.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("the sandbox listens");
    let auth = authorization.map_or(String::new(), |a| format!("authorization: {a}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\n{auth}connection: close\r\n\r\n"
    )
    .expect("sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    answer
}

#[test]
fn with_json_each_line_is_one_json_event() {
    let mut child = Command::new(BIN)
        .args(["sandbox", "--port", "0", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("payauth sandbox starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let ready: serde_json::Value =
        serde_json::from_str(&lines.next().expect("a line").expect("text")).expect("JSON");
    assert_eq!(ready["event"], "ready", "{ready}");
    let root = ready["root_url"]
        .as_str()
        .expect("the root URL")
        .to_string();
    assert_eq!(ready["variables"]["PAYAUTH_SANDBOX_URL"], root.as_str());
    let answer = raw_get(&root, "/pledg/sandbox/protected", None);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let event: serde_json::Value =
        serde_json::from_str(&lines.next().expect("a line").expect("text")).expect("JSON");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(event["event"], "request", "{event}");
    assert_eq!(event["provider"], "pledg");
    assert_eq!(event["route"], "protected");
    assert_eq!(event["status"], 401);
    assert_eq!(event["decision"], "no bearer token", "{event}");
}

#[test]
fn trigger_says_when_the_sandbox_cannot_call_the_application() {
    let sb = sandbox();
    // axept's webHookUrl must be https; without --to the request names a URL
    // off this machine, and without --forward-to nothing reaches it.
    let out = run(
        &["sandbox", "trigger", "axept", "transaction", "--json"],
        &sb.env,
        None,
    );
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert_eq!(json_error(&out), "callback_not_sent");
    let line = sb.line(|l| l.contains("callback axept"));
    assert!(line.contains("not sent: not on this machine"), "{line}");

    // No sandbox at the URL: transient, as for every control command.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let out = run(
        &[
            "sandbox",
            "trigger",
            "exirom",
            "apm",
            "--sandbox",
            &url,
            "--json",
        ],
        &HashMap::new(),
        None,
    );
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert_eq!(json_error(&out), "sandbox_unreachable");
    // A provider without the event: usage.
    let out = run(&["sandbox", "trigger", "pledg", "payment"], &sb.env, None);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
}
