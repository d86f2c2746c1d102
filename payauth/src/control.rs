//! `payauth sandbox clock advance | fault | revoke`: a running sandbox's
//! control API (`/__sandbox/…`, see the sandbox crate's `control.rs`).

use std::time::Duration;

use serde_json::{Value, json};

use crate::failure::{self, Failure, OK, PROVIDER, TRANSIENT, USAGE};

/// The sandbox's answers are small (its list of recent callbacks, the largest, stays
/// under 200 KiB); anything bigger is not one.
const MAX_ANSWER: usize = 1024 * 1024;

fn unreachable(url: &str, why: &str) -> Failure {
    Failure::new(
        TRANSIENT,
        "sandbox_unreachable",
        format!("no sandbox answered at {url} ({why})"),
    )
    .hint(
        "start one with `payauth sandbox --port 8080`, or pass --sandbox URL (PAYAUTH_SANDBOX_URL)",
    )
}

/// `POST {root}/__sandbox/{path}` with `body`: the sandbox's JSON answer.
pub(crate) async fn post(root: &str, path: &str, body: Value) -> Result<Value, Failure> {
    call(root, path, Some(body)).await
}

/// `GET {root}/__sandbox/{path}`: the sandbox's JSON answer.
pub(crate) async fn get(root: &str, path: &str) -> Result<Value, Failure> {
    call(root, path, None).await
}

/// `{root}/__sandbox/{path}`, a POST of `body` or a GET: the sandbox's JSON answer.
async fn call(root: &str, path: &str, body: Option<Value>) -> Result<Value, Failure> {
    let root = root.trim_end_matches('/');
    let parsed = reqwest::Url::parse(root)
        .map_err(|_| Failure::usage(format!("--sandbox `{root}` is not a URL")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Failure::usage(format!(
            "--sandbox `{root}` is not an http URL"
        )));
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|_| Failure::new(failure::INTERNAL, "internal", "no HTTP client"))?;
    let url = format!("{root}/__sandbox/{path}");
    let request = match &body {
        Some(body) => http.post(&url).json(body),
        None => http.get(&url),
    };
    let response = request
        .send()
        .await
        .map_err(|e| unreachable(root, &e.without_url().to_string()))?;
    let status = response.status();
    let too_much = || {
        Failure::new(
            PROVIDER,
            "not_a_sandbox",
            format!("{root} answered too much for a sandbox"),
        )
    };
    // Read under the cap, not whole and then measured.
    let mut response = response;
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| unreachable(root, &e.without_url().to_string()))?
    {
        if bytes.len() + chunk.len() > MAX_ANSWER {
            return Err(too_much());
        }
        bytes.extend_from_slice(&chunk);
    }
    let answer: Value = serde_json::from_slice(&bytes).map_err(|_| {
        Failure::new(
            PROVIDER,
            "not_a_sandbox",
            format!(
                "{root} answered HTTP {} without the sandbox's JSON",
                status.as_u16()
            ),
        )
        .hint("is --sandbox the root URL `payauth sandbox` printed?")
    })?;
    if status.is_success() {
        return Ok(answer);
    }
    let said = answer
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("no reason given")
        .chars()
        .take(400)
        .collect::<String>();
    let code = if status.is_server_error() {
        TRANSIENT
    } else {
        USAGE
    };
    Err(Failure::new(
        code,
        "rejected_by_sandbox",
        format!("the sandbox refused it (HTTP {}): {said}", status.as_u16()),
    ))
}

fn print(as_json: bool, answer: &Value, text: String) {
    if as_json {
        println!("{answer}");
    } else {
        println!("{text}");
    }
}

pub async fn clock_advance(root: &str, by: Duration, as_json: bool) -> Result<u8, Failure> {
    let answer = post(
        root,
        "clock/advance",
        json!({"ms": u64::try_from(by.as_millis()).unwrap_or(u64::MAX)}),
    )
    .await?;
    let now = answer.get("now").and_then(Value::as_str).unwrap_or("?");
    let offset = answer.get("offset_ms").and_then(Value::as_i64).unwrap_or(0);
    print(
        as_json,
        &answer,
        format!(
            "sandbox clock advanced by {}: now {now} ({} s ahead of real time)",
            humantime::format_duration(by),
            offset / 1000
        ),
    );
    Ok(OK)
}

pub async fn fault(
    root: &str,
    provider: &str,
    status: u16,
    times: u32,
    route: &str,
    as_json: bool,
) -> Result<u8, Failure> {
    let mut last = Value::Null;
    for _ in 0..times {
        last = post(
            root,
            &format!("fault/{provider}/{route}"),
            json!({"status": status}),
        )
        .await?;
    }
    let answer = json!({"provider": provider, "route": route, "status": status, "times": times, "queued": last.get("queued")});
    print(
        as_json,
        &answer,
        format!(
            "queued HTTP {status} on {provider} {route} for the next {times} request{}",
            if times == 1 { "" } else { "s" }
        ),
    );
    Ok(OK)
}

pub async fn revoke(root: &str, provider: &str, as_json: bool) -> Result<u8, Failure> {
    let answer = post(root, &format!("revoke_all/{provider}"), json!({})).await?;
    print(
        as_json,
        &answer,
        format!(
            "revoked every {provider} token the sandbox issued: the next call gets a 401, and the SDK logs in again"
        ),
    );
    Ok(OK)
}
