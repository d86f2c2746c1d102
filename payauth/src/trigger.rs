//! `payauth sandbox trigger`: a running sandbox calls the application back. The object is
//! created in that sandbox through the provider's SDK (with the sandbox's current
//! credentials, read from its control plane), so the application can fetch what the
//! callback told it about; the sandbox itself signs, sends, retries and reports the
//! callback, and this command prints how its first attempt went.

use std::time::{Duration, Instant};

use payauth::providers;
use payauth_runtime::descriptor::{
    CallbackEvent, ClientOptions, Descriptor, TriggerRequest, Triggered, Values,
};
use serde_json::{Value, json};

use crate::control;
use crate::failure::{self, CONFIG, Failure, INTERNAL, OK, PROVIDER, TRANSIENT};

/// The callback URL a request names without --to: `.invalid` (RFC 2606) never resolves, so
/// only the sandbox's --forward-to reaches an application with it.
pub const NO_URL: &str = "https://payauth.invalid/callbacks";

/// Longest wait for the sandbox's first attempt (it waits at most 10 s for an answer).
const FIRST_ATTEMPT: Duration = Duration::from_secs(15);

/// What to trigger.
#[derive(Debug, Clone, Copy)]
pub struct Trigger<'a> {
    /// A provider with callback events (see [`triggering`]).
    pub provider: &'a str,
    /// One of its events.
    pub event: &'a str,
    pub to: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// The providers a sandbox can be made to call back, with their events.
pub fn triggering() -> impl Iterator<Item = (&'static Descriptor, &'static [CallbackEvent])> {
    providers::ALL
        .iter()
        .filter_map(|d| Some((*d, d.about.callbacks?.events)))
        .filter(|(_, events)| !events.is_empty())
}

/// `<provider> <event>`, the first provider's first event: for examples.
pub fn example() -> Option<String> {
    let (d, events) = triggering().next()?;
    Some(format!("{} {}", d.name, events.first()?.name))
}

/// `a, b or c`.
fn or_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Every provider's events, for a hint: `p: a, b or c; q: d`.
fn every_event() -> String {
    triggering()
        .map(|(d, events)| {
            let names: Vec<&str> = events.iter().map(|e| e.name).collect();
            format!("{}: {}", d.name, or_list(&names))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The running sandbox at `root`, seen through its control plane.
struct Remote<'a> {
    root: &'a str,
}

impl Remote<'_> {
    fn base_url(&self, d: &Descriptor) -> Result<String, Failure> {
        let provider: payauth_sandbox::Provider = d
            .name
            .parse()
            .map_err(|_| Failure::new(INTERNAL, "internal", "a provider the sandbox lacks"))?;
        Ok(format!(
            "{}{}",
            self.root.trim_end_matches('/'),
            provider.base_path()
        ))
    }

    /// The values a client of `d` is built from: the scalar fields of the provider's
    /// current credentials, those of the signing material its descriptor names, and
    /// `base_url`.
    async fn values(&self, d: &Descriptor) -> Result<Values, Failure> {
        let mut values = Values::new();
        let credentials = control::get(self.root, &format!("credentials/{}", d.name)).await?;
        for (k, v) in credentials.as_object().into_iter().flatten() {
            if !v.is_object() && !v.is_array() && !v.is_null() {
                values.insert(k.clone(), text(v));
            }
        }
        let signing = d.about.callbacks.map_or(&[][..], |c| c.sandbox_signing);
        if !signing.is_empty() {
            let all = control::get(self.root, "signing").await?;
            for (field, name) in signing {
                let value = all
                    .get(field)
                    .and_then(Value::as_str)
                    .ok_or_else(|| not_a_sandbox(self.root))?;
                values.insert((*name).to_owned(), value.to_owned());
            }
        }
        values.insert("base_url".to_owned(), self.base_url(d)?);
        // A sandbox fills every required variable it has a field for.
        let missing = d
            .variables()
            .filter(|v| v.required)
            .filter_map(|v| v.sandbox_field)
            .any(|field| !values.contains_key(field));
        if missing {
            return Err(not_a_sandbox(self.root));
        }
        Ok(values)
    }
}

fn not_a_sandbox(root: &str) -> Failure {
    Failure::new(
        PROVIDER,
        "not_a_sandbox",
        format!("{root} does not answer as `payauth sandbox` does"),
    )
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// A unique-enough key for this run: requests must not replay an earlier one.
fn run_id() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

pub async fn trigger(root: &str, t: &Trigger<'_>, as_json: bool) -> Result<u8, Failure> {
    let Some(d) = providers::find(t.provider) else {
        return Err(
            Failure::usage(format!("{} has no callback events", t.provider)).hint(every_event()),
        );
    };
    let Some(event) = d.callback_event(t.event) else {
        return Err(
            Failure::usage(format!("{} has no {} event", d.name, t.event)).hint(every_event()),
        );
    };
    let settle_to = match (event.status_fixed_reason, t.status) {
        (Some(reason), Some(_)) => {
            return Err(Failure::usage(format!("{} {reason}, not --status", d.name)));
        }
        (_, Some(status)) => Some(status),
        (_, None) => event.default_status,
    };
    let remote = Remote { root };
    let values = remote.values(d).await?;
    let url = t.to.unwrap_or(NO_URL);
    let request = TriggerRequest {
        event,
        callback_url: url,
        values: &values,
        nonce: run_id(),
    };
    let Triggered {
        object,
        mut status,
    } = d
        .trigger(request, ClientOptions::default().shared_cache(false))
        .await
        .map_err(|e| {
            let f = failure::from_error(d, &e, None);
            match event.https_only {
                Some(field) if url.starts_with("http://") => f.hint(format!(
                    "{}'s {field} must be https: run the sandbox with --forward-to URL and leave out --to",
                    d.name
                )),
                _ => f,
            }
        })?;
    if let Some(to) = settle_to {
        control::post(
            root,
            &format!("settle/{}/{object}", d.name),
            json!({"status": to}),
        )
        .await?;
        status = to.to_owned();
    }
    let callback = first_attempt(root, d.name, &object, &status).await?;
    report(d.name, event.name, &object, &status, &callback, as_json)
}

/// The sandbox's latest event about the callback of `object` reporting `status`.
async fn first_attempt(
    root: &str,
    provider: &str,
    object: &str,
    status: &str,
) -> Result<Value, Failure> {
    let started = Instant::now();
    loop {
        let all = control::get(root, "callbacks").await?;
        let found = all.as_array().and_then(|all| {
            all.iter().rev().find(|c| {
                c["provider"] == provider && c["object"] == object && c["status"] == status
            })
        });
        if let Some(found) = found {
            return Ok(found.clone());
        }
        if started.elapsed() > FIRST_ATTEMPT {
            return Err(Failure::new(
                TRANSIENT,
                "no_callback",
                format!("the sandbox reported no callback for {object} in time"),
            )
            .hint("is the sandbox `payauth sandbox` (it reports its callbacks)?"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn report(
    provider: &str,
    event: &str,
    object: &str,
    status: &str,
    callback: &Value,
    as_json: bool,
) -> Result<u8, Failure> {
    let outcome = &callback["outcome"];
    let kind = outcome["kind"].as_str().unwrap_or_default();
    let url = callback["url"].as_str().unwrap_or_default();
    let answer = match &outcome["answer"] {
        Value::Object(a) if a.contains_key("status") => format!("HTTP {}", a["status"]),
        Value::Object(a) => text(a.get("unreachable").unwrap_or(&Value::Null)),
        _ => String::new(),
    };
    let said = match kind {
        "delivered" => format!("HTTP {}, delivered", outcome["status"]),
        "will_retry" => format!(
            "{answer}; the sandbox tries again in {}",
            seconds(outcome["retry_in_ms"].as_u64().unwrap_or_default())
        ),
        "gave_up" => format!("{answer}; the sandbox gave up"),
        "not_sent" => format!("not sent: {}", text(&outcome["reason"])),
        _ => "an outcome this payauth does not know".to_owned(),
    };
    // With --json stdout holds one object: the report, or (from `main`) the error.
    if as_json && kind == "delivered" {
        println!(
            "{}",
            json!({"provider": provider, "event": event, "object": object,
                   "status": status, "callback": callback})
        );
    } else if !as_json {
        println!(
            "{provider} {event} {object} ({status}) in the sandbox; its callback → {url}: {said}"
        );
    }
    match kind {
        "delivered" => Ok(OK),
        "not_sent" => Err(Failure::new(
            CONFIG,
            "callback_not_sent",
            format!(
                "the sandbox did not send the callback: {}",
                text(&outcome["reason"])
            ),
        )
        .hint("pass --to with a URL on this machine, or run the sandbox with --forward-to URL")),
        _ if answer.starts_with("HTTP") => Err(Failure::new(
            PROVIDER,
            "callback_refused",
            format!("the application at {url} answered {answer}"),
        )
        .hint("the application refused the callback: see its log")),
        _ => Err(Failure::new(
            TRANSIENT,
            "callback_unreachable",
            format!("the application at {url} did not answer: {answer}"),
        )
        .hint("is the application listening? The sandbox keeps trying for a while")),
    }
}

/// `2 s`, `1.5 s`.
fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}
