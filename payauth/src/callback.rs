//! `payauth verify-callback`: is this callback genuine?

use std::io::Read;
use std::time::SystemTime;

use auth_runtime::Secret;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;

use crate::choices::CallbackProvider;
use crate::failure::{EXIT_CREDENTIALS, Failure};

/// The largest body read (the verifiers refuse bigger ones anyway).
const MAX_BODY: u64 = 1024 * 1024;

fn read_body(path: Option<&str>) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    let read = match path {
        None | Some("-") => std::io::stdin().take(MAX_BODY + 1).read_to_end(&mut body),
        Some(p) => std::fs::File::open(p).and_then(|f| f.take(MAX_BODY + 1).read_to_end(&mut body)),
    };
    read.map_err(|e| Failure::new(1, format!("cannot read the body: {e}")))?;
    Ok(body)
}

/// `Name: value` lines. Blank lines, and the first line of an HTTP dump
/// (`POST /path HTTP/1.1`, `HTTP/1.1 200 OK`), are skipped.
fn parse_headers(lines: impl IntoIterator<Item = String>) -> Result<HeaderMap, Failure> {
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
            return Err(Failure::new(
                1,
                format!(
                    "not a header line: `{}`",
                    line.chars().take(80).collect::<String>()
                ),
            ));
        };
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| Failure::new(1, "a header name is not valid"))?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| {
            Failure::new(
                1,
                format!("the value of `{name}` is not a valid header value"),
            )
        })?;
        map.append(name, value);
    }
    Ok(map)
}

fn secret(names: &[&str]) -> Result<Secret, Failure> {
    names
        .iter()
        .find_map(|n| auth_runtime::provider::optional_env(&|k| std::env::var(k).ok(), n))
        .map(Secret::new)
        .ok_or_else(|| {
            Failure::new(
                EXIT_CREDENTIALS,
                format!(
                    "{} is not set: the secret callbacks are signed with",
                    names.join(" or ")
                ),
            )
        })
}

pub fn verify(
    provider: CallbackProvider,
    body: Option<&str>,
    header_args: &[String],
    headers_file: Option<&str>,
    as_json: bool,
) -> Result<(), Failure> {
    let mut lines: Vec<String> = Vec::new();
    if let Some(path) = headers_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::new(1, format!("cannot read the headers: {e}")))?;
        lines.extend(text.lines().map(str::to_owned));
    }
    lines.extend(header_args.iter().cloned());
    let headers = parse_headers(lines)?;
    let body = read_body(body)?;
    let now = SystemTime::now();
    let (name, verdict) = match provider {
        CallbackProvider::Exirom => {
            let verifier = exirom::CallbackVerifier::new(secret(&[
                "EXIROM_CHECKSUM_SECRET",
                "MERCHANT_SECRET",
            ])?);
            (
                "exirom",
                verifier.verify(&body, &headers, now).map(|c| {
                    json!({
                        "requestId": c.request_id,
                        "transactionId (unsigned)": c.transaction_id.unverified(),
                        "transactionStatus (unsigned)": c.transaction_status.unverified(),
                        "amount": c.amount,
                        "currency": c.currency,
                    })
                }),
            )
        }
        CallbackProvider::Pledg => {
            let verifier = pledg::NotificationVerifier::new(secret(&["PLEDG_SECRET_KEY"])?);
            (
                "pledg",
                verifier
                    .verify(&body, &headers, now)
                    .map(|n| json!({ "id": n.id, "reference": n.reference, "status": n.status })),
            )
        }
    };
    match verdict {
        Ok(event) => {
            if as_json {
                println!(
                    "{}",
                    json!({"provider": name, "valid": true, "event": event})
                );
            } else {
                println!("valid: a genuine {name} callback {event}");
            }
            Ok(())
        }
        Err(e) => {
            if as_json {
                println!(
                    "{}",
                    json!({"provider": name, "valid": false, "reason": e.to_string(), "kind": format!("{e:?}")})
                );
            } else {
                println!("invalid: {e}");
            }
            Err(Failure::new(
                1,
                format!("the {name} callback is not genuine ({e:?})"),
            ))
        }
    }
}
