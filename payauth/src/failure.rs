//! Exit codes and failures: what the process reports, in text or JSON.
//!
//! The codes follow BSD's `sysexits.h` where it has one, so that no two
//! failure modes share a code and usage errors have their own.

use payauth_runtime::descriptor::{Deployment, Descriptor};
use payauth_runtime::{Error, ErrorKind};
use serde_json::json;

/// Success.
pub const OK: u8 = 0;
/// A callback that is not genuine (`verify-callback`).
pub const NOT_GENUINE: u8 = 1;
/// The command line is wrong (`EX_USAGE`).
pub const USAGE: u8 = 64;
/// An input (body, headers) is not in the expected format (`EX_DATAERR`).
pub const DATA: u8 = 65;
/// An input file cannot be read (`EX_NOINPUT`).
pub const NO_INPUT: u8 = 66;
/// The provider answered something unusable: not its documented shape, or
/// a refusal of the request as sent (`EX_UNAVAILABLE`).
pub const PROVIDER: u8 = 69;
/// A bug in payauth (`EX_SOFTWARE`).
pub const INTERNAL: u8 = 70;
/// Transient: network, 5xx, timeout — try again later (`EX_TEMPFAIL`).
pub const TRANSIENT: u8 = 75;
/// The provider refused the credentials (`EX_NOPERM`).
pub const CREDENTIALS: u8 = 77;
/// Configuration missing, invalid, or not checkable (`EX_CONFIG`).
pub const CONFIG: u8 = 78;
/// Interrupted by Ctrl-C (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// The table `--help` and the README print.
pub const TABLE: &str = "\
Exit codes:
   0  success
   1  the callback is not genuine (verify-callback)
  64  usage: a wrong command line (also `token` without --reveal)
  65  an input is not in the expected format (a header line, a body too large)
  66  an input file cannot be read (--body, --headers)
  69  the provider answered something unusable (not its documented shape, 404, 409)
  70  a bug in payauth
  75  transient: network, 5xx, timeout, an unreachable sandbox — try again later
  77  the provider refused the credentials (wrong, revoked, or lacking a permission)
  78  configuration missing, invalid, or not checkable
 130  interrupted (Ctrl-C)
check --all exits with the highest code of the providers it checked.";

/// A failure as the process reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u8,
    /// Stable, snake_case: `invalid_credentials`, `usage`, `transient`, …
    pub kind: &'static str,
    pub message: String,
    /// What to do, in variable names and flags.
    pub hint: Option<String>,
}

impl Failure {
    pub fn new(code: u8, kind: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            code,
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(USAGE, "usage", message)
    }

    pub fn interrupted() -> Failure {
        Failure::new(INTERRUPTED, "interrupted", "interrupted")
    }

    /// `{"error": {"kind", "message", "hint"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({"error": {"kind": self.kind, "message": self.message, "hint": self.hint}})
    }

    /// On stdout as JSON, or on stderr as text. An interruption prints
    /// nothing in text (the shell shows `^C`).
    pub fn report(&self, as_json: bool) {
        if as_json {
            println!("{}", self.to_json());
        } else if self.code != INTERRUPTED {
            eprintln!("payauth: {}", self.message);
            if let Some(hint) = &self.hint {
                eprintln!("  hint: {hint}");
            }
        }
    }
}

/// The exit code a runtime error means.
pub fn code_of(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidCredentials
        | ErrorKind::Unauthorized
        | ErrorKind::Forbidden
        | ErrorKind::RefreshTokenExpired => CREDENTIALS,
        ErrorKind::Config | ErrorKind::Signing => CONFIG,
        ErrorKind::Transient => TRANSIENT,
        ErrorKind::BadRequest
        | ErrorKind::NotFound
        | ErrorKind::Conflict
        | ErrorKind::MalformedResponse
        | ErrorKind::TooLarge => PROVIDER,
        _ => INTERNAL,
    }
}

/// Where a client talked to, for messages.
#[derive(Debug, Clone)]
pub struct Target {
    pub base_url: String,
    pub deployment: Deployment,
}

/// `d`'s variables as a list, e.g. `MERCHANT_KEY, MERCHANT_SECRET`.
pub fn variable_list(d: &Descriptor, required_only: bool) -> String {
    d.about
        .variables
        .iter()
        .filter(|v| v.required || !required_only)
        .map(|v| v.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a deployment's counterpart is: a hint for credentials refused by
/// the other environment's host.
fn other_environment(d: &Descriptor, target: &Target) -> Option<String> {
    let (other, url) = match target.deployment {
        Deployment::Sandbox => ("production", d.production_url?),
        Deployment::Production => ("sandbox", d.sandbox_url?),
        _ => return None,
    };
    Some(format!(
        "; for {other} credentials set {}={url} or pass --base-url",
        d.base_url_env
    ))
}

/// A runtime error of provider `d` as a failure, with a hint in variable
/// names and flags.
pub fn from_error(d: &Descriptor, e: &Error, target: Option<&Target>) -> Failure {
    let code = code_of(e.kind());
    let message = if e.provider() == d.name {
        e.to_string()
    } else {
        format!("{}: {e}", d.name)
    };
    let at = |t: &Target| format!("{} ({})", t.base_url, t.deployment.as_str());
    let hint = match (code, target) {
        (CREDENTIALS, Some(t)) if e.kind() == ErrorKind::Forbidden => format!(
            "the credentials were accepted by {} but lack a permission or scope",
            at(t)
        ),
        (CREDENTIALS, Some(t)) => format!(
            "check {}: they were sent to {}{}",
            variable_list(d, true),
            at(t),
            other_environment(d, t).unwrap_or_default()
        ),
        (CONFIG, _) => format!(
            "{}'s variables: {}, {} (each may be given as <VAR>_FILE, or in --env-file); `payauth --help` lists them",
            d.name,
            d.base_url_env,
            variable_list(d, false)
        ),
        (TRANSIENT, Some(t)) => match e.retry_after() {
            Some(wait) => format!(
                "{} did not answer usably; it asks to wait {} s",
                at(t),
                wait.as_secs()
            ),
            None => format!("{} did not answer usably; try again later", at(t)),
        },
        (PROVIDER, Some(t)) => format!(
            "is {} {}'s API? set {} or pass --base-url",
            t.base_url, d.name, d.base_url_env
        ),
        _ => return Failure::new(code, e.kind().as_str(), message),
    };
    Failure::new(code, e.kind().as_str(), message).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No two failure modes share a code, and usage has its own.
    #[test]
    fn codes_are_distinct() {
        let mut codes = [
            OK,
            NOT_GENUINE,
            USAGE,
            DATA,
            NO_INPUT,
            PROVIDER,
            INTERNAL,
            TRANSIENT,
            CREDENTIALS,
            CONFIG,
            INTERRUPTED,
        ];
        codes.sort_unstable();
        let before = codes.len();
        let mut unique = codes.to_vec();
        unique.dedup();
        assert_eq!(unique.len(), before);
        for code in codes {
            assert!(
                TABLE.contains(&format!("{code:>4}  ")),
                "{code} is documented"
            );
        }
    }
}
