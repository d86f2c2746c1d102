//! `payauth sandbox [--forward-to URL]`: the emulator of every provider as a development
//! server — the variables that point an SDK at it, then one line per request it answers
//! and per callback it sends, as the sandbox reports them (`Sandbox::subscribe`).

use std::io::Write;

use payauth::{providers, sandbox_env};
use payauth_sandbox::{CallbackSettings, Sandbox, SandboxConfig, SandboxEvent};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::failure::{Failure, TRANSIENT};
use crate::trigger;

/// The variable `payauth sandbox clock|fault|revoke|trigger` read the sandbox's URL from.
pub const SANDBOX_URL_VARIABLE: &str = "PAYAUTH_SANDBOX_URL";

/// `'value'` for a POSIX shell.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// Every variable that points the SDKs' `from_env()` and payauth's sandbox commands at `sb`.
fn variables(sb: &Sandbox) -> Vec<(&'static str, String)> {
    let mut all: Vec<(&'static str, String)> = providers::ALL
        .iter()
        .flat_map(|d| sandbox_env::variables(sb, d))
        .collect();
    all.push((SANDBOX_URL_VARIABLE, sb.root_url()));
    all
}

/// One line on stdout, flushed (a closed stdout is not our failure: the sandbox serves on).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Serve until Ctrl-C (`main` exits with code 130), printing what the sandbox does.
pub async fn serve(port: u16, forward_to: Option<String>, as_json: bool) -> Result<u8, Failure> {
    let mut cfg = SandboxConfig::default();
    cfg.bind.set_port(port);
    if let Some(url) = &forward_to {
        cfg.callbacks = CallbackSettings::default().forward_to(url.clone());
    }
    let sb = Sandbox::start_with(cfg).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidInput {
            return Failure::usage(format!(
                "--forward-to `{}`: {e}",
                forward_to.as_deref().unwrap_or_default()
            ))
            .hint("an http(s) URL, e.g. --forward-to http://127.0.0.1:3000/callbacks");
        }
        Failure::new(
            TRANSIENT,
            "sandbox_unavailable",
            format!("cannot start the sandbox on port {port}: {e}"),
        )
        .hint("pass another --port (0: any free port)")
    })?;
    // Subscribed before "ready": nothing the application does after it is missed.
    let mut events = sb.subscribe();
    let vars = variables(&sb);
    if as_json {
        let variables: serde_json::Map<String, Value> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        say(&json!({
            "event": "ready",
            "root_url": sb.root_url(),
            "forward_to": forward_to,
            "variables": variables,
        })
        .to_string());
    } else {
        banner(&sb, &vars, forward_to.as_deref());
    }
    loop {
        match events.recv().await {
            Ok(event) => say(&line(&event, as_json)),
            Err(RecvError::Lagged(missed)) => {
                let note = format!("{missed} events not shown (the terminal fell behind)");
                say(&if as_json {
                    json!({"event": "lagged", "missed": missed}).to_string()
                } else {
                    format!("# {note}")
                });
            }
            Err(RecvError::Closed) => break,
        }
    }
    sb.shutdown().await;
    Err(Failure::interrupted())
}

fn banner(sb: &Sandbox, vars: &[(&'static str, String)], forward_to: Option<&str>) {
    say(&format!(
        "# payauth sandbox: {} providers at {} (sandbox credentials, not real ones)",
        providers::ALL.len(),
        sb.root_url()
    ));
    say("# eval these lines in a shell, then run e.g. `payauth check --all`:");
    for (k, v) in vars {
        say(&format!("export {k}={}", quoted(v)));
    }
    say(&match forward_to {
        Some(url) => format!("# callbacks: every one forwarded to {url}"),
        None => "# callbacks: to the URL each request names, when it is on this machine \
                 (--forward-to URL: every one to one URL)"
            .to_owned(),
    });
    let trigger = trigger::example().unwrap_or_else(|| "<provider> <event>".to_owned());
    say(&format!(
        "# drive it from another shell: payauth sandbox trigger {trigger} | clock advance 10m | fault … | revoke …"
    ));
    say("# ready; one line per request and per callback below; Ctrl-C stops it");
}

/// `12:00:03 POST /exirom/api/v1/payments/card exirom card_payment → 200: created txn_100001`
/// (sandbox time), or the event as one JSON object.
fn line(event: &SandboxEvent, as_json: bool) -> String {
    if as_json {
        return serde_json::to_string(event).unwrap_or_default();
    }
    let at = match event {
        SandboxEvent::Request(r) => r.at,
        SandboxEvent::Callback(c) => c.at,
        _ => chrono::Utc::now(),
    };
    format!("{} {event}", at.format("%H:%M:%S"))
}
