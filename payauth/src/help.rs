//! The help that names providers, built from their descriptors: every
//! provider's variables, the commands' examples, how callbacks are signed
//! and the statuses a triggered object may be moved to.

use payauth::providers;
use payauth_runtime::descriptor::Descriptor;

use crate::{callback, failure, trigger};

/// The application's callback URL in the examples.
const APP_URL: &str = "http://127.0.0.1:3000/callbacks";

/// The first provider, and the second (the first again when there is one only).
fn first_two() -> (&'static Descriptor, &'static Descriptor) {
    let first = providers::ALL[0];
    (first, providers::ALL.get(1).copied().unwrap_or(first))
}

/// The first provider with a documented host `url` gives, and that host.
fn with_host(url: fn(&Descriptor) -> Option<&'static str>) -> (&'static str, &'static str) {
    providers::ALL
        .iter()
        .find_map(|d| Some((d.name, url(d)?)))
        .unwrap_or((providers::ALL[0].name, "https://…"))
}

/// A token for curl, in the examples.
fn curl() -> String {
    let (name, url) = with_host(|d| d.sandbox_url);
    format!("payauth token {name} --reveal --header | curl -H @- {url}/…")
}

/// payauth's own help: every provider's variables, the exit codes, examples.
pub fn top() -> String {
    format!(
        "{}\n{}\nExamples:\n  payauth check --all --env-file .env\n  {}\n  payauth sandbox --port 8080",
        variables(),
        failure::TABLE,
        curl()
    )
}

/// `check`'s examples.
pub fn check() -> String {
    let (first, second) = first_two();
    let (name, url) = with_host(|d| d.production_url);
    examples(&[
        format!("payauth check {}", first.name),
        format!("payauth check {} --json", second.name),
        format!("payauth check {name} --base-url {url} --env-file prod.env"),
        "payauth check --all".to_owned(),
    ])
}

/// `token`'s examples.
pub fn token() -> String {
    let (first, _) = first_two();
    examples(&[
        curl(),
        format!("payauth token {} --reveal --json", first.name),
    ])
}

/// `sandbox`'s examples.
pub fn sandbox() -> String {
    let (first, second) = first_two();
    let mut lines = vec![
        format!("payauth sandbox --port 8080 --forward-to {APP_URL}"),
        "eval \"$(payauth sandbox --port 8080 | grep ^export)\"   (in another terminal: it runs until Ctrl-C)".to_owned(),
    ];
    if let Some(example) = trigger::example() {
        lines.push(format!("payauth sandbox trigger {example}"));
    }
    lines.extend([
        "payauth sandbox clock advance 10m".to_owned(),
        format!("payauth sandbox fault {} 503 --times 2", second.name),
        format!("payauth sandbox revoke {}", first.name),
    ]);
    examples(&lines)
}

/// `sandbox fault`'s examples.
pub fn fault() -> String {
    let (first, second) = first_two();
    examples(&[
        format!("payauth sandbox fault {} 503 --times 2", second.name),
        format!("payauth sandbox fault {} 429 --route protected", first.name),
    ])
}

/// `sandbox revoke`'s example.
pub fn revoke() -> String {
    format!("Example:\n  payauth sandbox revoke {}", first_two().0.name)
}

/// `Examples:` and one line each.
fn examples(lines: &[String]) -> String {
    let mut text = String::from("Examples:");
    for line in lines {
        text.push_str("\n  ");
        text.push_str(line);
    }
    text
}

/// Every provider's variables, for `--help`.
fn variables() -> String {
    let mut text = String::from(
        "Providers and their variables (* required; secret: never printed; each may also be given as <VAR>_FILE, a file holding the value):\n",
    );
    for d in providers::ALL {
        text.push_str(&format!("  {}: {}\n", d.name, d.about.mechanism));
        for v in d.variables() {
            text.push_str(&format!(
                "    {}{:<26} {:<7}{}\n",
                if v.required { "*" } else { " " },
                v.name,
                if v.secret { "secret" } else { "" },
                v.about,
            ));
        }
    }
    text
}

/// How each provider signs its callbacks, then `verify-callback`'s examples.
pub fn verify_callback() -> String {
    let mut text = String::from("Signatures:");
    let mut names = Vec::new();
    for (d, verifier) in callback::verifying() {
        text.push_str(&format!(
            "\n  {}: {} with {}",
            d.name,
            verifier.signature,
            verifier.secret_variables.join(" or ")
        ));
        names.push(d.name);
    }
    let first = names.first().copied().unwrap_or("<provider>");
    let last = names.last().copied().unwrap_or("<provider>");
    text.push_str("\n\n");
    text.push_str(&examples(&[
        format!("payauth verify-callback {first} --body body.json --headers headers.txt"),
        format!("curl … | payauth verify-callback {last} --json"),
    ]));
    text
}

/// `sandbox trigger`'s examples, one per event: each provider's first with
/// --to, the others with a status too; an event that takes only https URLs
/// says to forward.
pub fn trigger() -> String {
    let mut lines = Vec::new();
    for (d, events) in trigger::triggering() {
        for (i, e) in events.iter().enumerate() {
            let mut line = format!("payauth sandbox trigger {} {}", d.name, e.name);
            if i > 0
                && e.status_fixed_reason.is_none()
                && let Some(status) = e.statuses.get((i - 1) % e.statuses.len().max(1))
            {
                line.push_str(&format!(" --status {status}"));
            }
            match e.https_only {
                Some(field) => line.push_str(&format!(
                    "   ({}'s {field} must be https: use --forward-to)",
                    d.name
                )),
                None => line.push_str(&format!(" --to {APP_URL}")),
            }
            lines.push(line);
        }
    }
    examples(&lines)
}

/// `sandbox trigger --status`: the statuses each provider's objects may be
/// moved to.
pub fn status() -> String {
    let mut parts = Vec::new();
    for (d, events) in trigger::triggering() {
        let mut statuses: Vec<&str> = Vec::new();
        let mut default = None;
        for e in events {
            for status in e.statuses {
                if !statuses.contains(status) {
                    statuses.push(status);
                }
            }
            default = default.or(e.default_status);
        }
        if statuses.is_empty() {
            continue;
        }
        let listed: Vec<String> = statuses.iter().map(|s| format!("`{s}`")).collect();
        let mut part = format!("{} {}", d.name, listed.join(", "));
        match default {
            Some(status) if statuses.contains(&status) => {
                part.push_str(&format!(" (the default for {})", d.name));
            }
            Some(status) => part.push_str(&format!(" (`{status}`: the default for {})", d.name)),
            None => {}
        }
        parts.push(part);
    }
    let mut help = "Then move the object to this status (a second callback)".to_owned();
    if !parts.is_empty() {
        help.push_str(", e.g. ");
        help.push_str(&parts.join("; "));
    }
    help
}
