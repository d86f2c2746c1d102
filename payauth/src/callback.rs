//! `payauth verify-callback`: is this callback genuine?

use std::io::{IsTerminal, Read};
use std::time::SystemTime;

use payauth::providers;
use payauth_runtime::Secret;
use payauth_runtime::descriptor::{Descriptor, Verifier, env_or_file};
use payauth_runtime::provider::signing::CallbackError;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;

use crate::failure::{self, CONFIG, DATA, Failure, NO_INPUT, NOT_GENUINE, OK};
use crate::variables::Variables;

/// The largest body read (the verifiers refuse bigger ones anyway).
const MAX_BODY: u64 = 1024 * 1024;

/// What `verify-callback` reads.
#[derive(Debug)]
pub struct Input<'a> {
    /// A provider whose callbacks are signed (see [`verifying`]).
    pub provider: &'a str,
    pub body: Option<&'a str>,
    pub header_args: &'a [String],
    pub headers_file: Option<&'a str>,
}

/// The providers whose callbacks are signed, with how.
pub fn verifying() -> impl Iterator<Item = (&'static Descriptor, Verifier)> {
    providers::ALL
        .iter()
        .filter_map(|d| Some((*d, d.about.callbacks?.verifier?)))
}

/// Whether the body would be read from a terminal: then `main` prints the
/// command's help instead of waiting.
pub fn would_wait_on_terminal(body: Option<&str>) -> bool {
    matches!(body, None | Some("-")) && std::io::stdin().is_terminal()
}

fn read_body(path: Option<&str>) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    let read = match path {
        None | Some("-") => std::io::stdin().take(MAX_BODY + 1).read_to_end(&mut body),
        Some(p) => std::fs::File::open(p).and_then(|f| f.take(MAX_BODY + 1).read_to_end(&mut body)),
    };
    read.map_err(|e| {
        Failure::new(
            NO_INPUT,
            "unreadable_input",
            format!("cannot read the body ({})", e.kind()),
        )
    })?;
    if body.len() as u64 > MAX_BODY {
        return Err(Failure::new(
            DATA,
            "invalid_input",
            "the body is larger than 1 MiB",
        ));
    }
    Ok(body)
}

/// `Name: value` lines. Blank lines, and the first line of an HTTP dump
/// (`POST /path HTTP/1.1`, `HTTP/1.1 200 OK`), are skipped.
fn parse_headers(lines: impl IntoIterator<Item = String>) -> Result<HeaderMap, Failure> {
    let invalid = |message: String| Failure::new(DATA, "invalid_input", message);
    let mut map = HeaderMap::new();
    for line in lines {
        let line = line.trim_end_matches(['\r', '\n']);
        let request_line = line
            .split_once(' ')
            .is_some_and(|(method, rest)| !method.contains(':') && rest.contains(" HTTP/"));
        if line.trim().is_empty() || line.starts_with("HTTP/") || request_line {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(invalid(format!(
                "not a header line: `{}`",
                line.chars().take(80).collect::<String>()
            )));
        };
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| invalid("a header name is not valid".into()))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| invalid(format!("the value of `{name}` is not a valid header value")))?;
        map.append(name, value);
    }
    Ok(map)
}

fn secret(vars: &Variables, provider: &'static str, names: &[&str]) -> Result<Secret, Failure> {
    let get = |k: &str| vars.get(k);
    for name in names {
        match env_or_file(&get, provider, name) {
            Ok(Some(value)) => return Ok(Secret::new(value)),
            Ok(None) => {}
            Err(e) => return Err(Failure::new(CONFIG, "config", e.to_string())),
        }
    }
    Err(Failure::new(
        CONFIG,
        "config",
        format!(
            "{} is not set: the secret callbacks are signed with",
            names.join(" or ")
        ),
    )
    .hint(format!(
        "set {} (or {}_FILE), in the environment or an --env-file",
        names[0], names[0]
    )))
}

/// The reason's stable name.
fn reason(e: &CallbackError) -> &'static str {
    match e {
        CallbackError::Unsigned => "unsigned",
        CallbackError::BadSignature => "bad_signature",
        CallbackError::Expired => "expired",
        CallbackError::Replayed => "replayed",
        CallbackError::Malformed => "malformed",
        CallbackError::NoSecret => "no_secret",
        _ => "not_genuine",
    }
}

pub fn verify(input: &Input<'_>, vars: &Variables, as_json: bool) -> Result<u8, Failure> {
    let mut lines: Vec<String> = Vec::new();
    if let Some(path) = input.headers_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::new(
                NO_INPUT,
                "unreadable_input",
                format!("cannot read the headers ({})", e.kind()),
            )
        })?;
        lines.extend(text.lines().map(str::to_owned));
    }
    lines.extend(input.header_args.iter().cloned());
    let headers = parse_headers(lines)?;
    let Some((d, verifier)) = verifying().find(|(d, _)| d.name == input.provider) else {
        return Err(Failure::usage(format!(
            "{} sends no signed callbacks",
            input.provider
        )));
    };
    let name = d.name;
    let secret = secret(vars, name, verifier.secret_variables)?;
    let body = read_body(input.body)?;
    match (verifier.verify)(secret, &body, &headers, SystemTime::now()) {
        Ok(event) => {
            if as_json {
                println!(
                    "{}",
                    json!({"provider": name, "valid": true, "event": event})
                );
            } else {
                println!("valid: a genuine {name} callback {event}");
            }
            Ok(OK)
        }
        Err(e) => {
            if as_json {
                let error = Failure::new(NOT_GENUINE, reason(&e), e.to_string()).to_json();
                println!(
                    "{}",
                    json!({"provider": name, "valid": false, "error": error["error"]})
                );
            } else {
                println!("invalid: {e}");
                eprintln!(
                    "payauth: the {name} callback is not genuine ({})",
                    reason(&e)
                );
            }
            Ok(failure::NOT_GENUINE)
        }
    }
}
