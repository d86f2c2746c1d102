//! The command line: clap's definitions; the providers each argument
//! takes, and the help that names them (`help.rs`), come from the
//! descriptors.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Args, CommandFactory, Parser, Subcommand};
use payauth::providers;

use crate::{callback, help, trigger};

#[derive(Parser, Debug)]
#[command(
    name = "payauth",
    version,
    about = "Check payment-provider credentials, print a token, verify callbacks, run and drive the sandbox",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// One JSON object on stdout, errors included: {"error": {"kind", "message", "hint"}}.
    #[arg(long, global = true)]
    pub json: bool,
    /// More logs on stderr: -v the runtime's retries and 401 recoveries, -vv
    /// its logins and refreshes, -vvv everything. RUST_LOG, when set, decides
    /// instead. Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Read variables from this file (dotenv format) too; its values win
    /// over the environment's.
    #[arg(long, value_name = "PATH", global = true)]
    pub env_file: Option<PathBuf>,
}

fn provider_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(providers::names())
}

/// The providers whose callbacks `verify-callback` checks.
fn verifying_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(callback::verifying().map(|(d, _)| d.name))
}

/// The providers `sandbox trigger` makes call back.
fn triggering_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(trigger::triggering().map(|(d, _)| d.name))
}

/// Every provider's callback events, each with what it creates (`p: …`).
fn event_parser() -> PossibleValuesParser {
    let mut events: Vec<(&'static str, String)> = Vec::new();
    for (d, provider_events) in trigger::triggering() {
        for e in provider_events {
            let about = format!("{}: {}", d.name, e.about);
            match events.iter_mut().find(|(name, _)| *name == e.name) {
                Some((_, help)) => *help = format!("{help}; {about}"),
                None => events.push((e.name, about)),
            }
        }
    }
    PossibleValuesParser::new(
        events
            .into_iter()
            .map(|(name, help)| PossibleValue::new(name).help(help)),
    )
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check credentials: the environment, the login, the token's timing.
    ///
    /// Logs in once and prints the environment (base URL, sandbox or
    /// production host), the mechanism, the token's lifetime and expiry, the
    /// refresh time the runtime would choose and the clock skew; run the
    /// provider's read-only probe call where it has one (API keys are
    /// checked with it). Never prints a secret.
    #[command(after_help = help::check())]
    Check {
        /// The provider (or --all).
        #[arg(value_parser = provider_parser(), required_unless_present = "all")]
        provider: Option<String>,
        /// Every provider whose variables are set: a table, and the highest exit code.
        #[arg(long, conflicts_with_all = ["provider", "base_url"])]
        all: bool,
        /// Talk to this base URL instead of the variable's (or the default host).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
    /// Print a current bearer token (with --reveal).
    ///
    /// Prints it on stdout. Refuses without --reveal (exit 64): the token grants API access to anyone who reads it.
    #[command(after_help = help::token())]
    Token {
        #[arg(value_parser = provider_parser())]
        provider: String,
        /// Yes, print the live token.
        #[arg(long)]
        reveal: bool,
        /// Print `Authorization: Bearer …`, for `curl -H @-` (the token stays off curl's command line).
        #[arg(long)]
        header: bool,
        /// Talk to this base URL instead of the variable's (or the default host).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
    /// Is a callback genuine?
    ///
    /// Valid (exit 0) or not (exit 1, with the reason), by the provider's
    /// signature and the secret its variables hold (below). Without --body
    /// on a terminal, prints this help.
    #[command(after_help = help::verify_callback())]
    VerifyCallback {
        #[arg(value_parser = verifying_parser())]
        provider: String,
        /// The raw body: a file, or `-` for stdin (also when omitted and stdin is not a terminal).
        #[arg(long, value_name = "FILE")]
        body: Option<String>,
        /// A header, `Name: value` (repeatable).
        #[arg(short = 'H', long = "header", value_name = "HEADER")]
        header: Vec<String>,
        /// A file of `Name: value` header lines (an HTTP dump's request line is skipped).
        #[arg(long, value_name = "FILE")]
        headers: Option<String>,
    },
    /// Run the emulator of every provider, or drive a running one.
    ///
    /// Serves the emulator and prints the variables that point an SDK (or
    /// curl) at it, then one line per request it answers (method, path,
    /// provider, status, what it decided) and per callback it sends, until
    /// Ctrl-C (exit 130). With --json, one JSON object per line.
    ///
    /// When a payment or transaction changes state the sandbox calls the
    /// application back, signed as the provider signs it, at the URL the
    /// request named when it is on this machine; --forward-to sends every
    /// callback to one URL instead (any URL a request named, https or not,
    /// here or not). An answer other than 2xx is retried (1 s, 2 s, 4 s, 8 s,
    /// 16 s), then given up.
    #[command(after_help = help::sandbox())]
    Sandbox {
        /// The port (0: any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Send every callback here, whatever URL the request named.
        #[arg(long, value_name = "URL")]
        forward_to: Option<String>,
        #[command(subcommand)]
        action: Option<SandboxAction>,
    },
    /// Print a shell completion script.
    #[command(after_help = "Examples:
  payauth completions bash > ~/.local/share/bash-completion/completions/payauth
  payauth completions zsh > ~/.zfunc/_payauth")]
    Completions { shell: clap_complete::Shell },
}

/// Where a running sandbox's control API is.
#[derive(Args, Debug, Clone)]
pub struct SandboxUrl {
    /// The running sandbox (`payauth sandbox` prints its root URL).
    #[arg(
        long = "sandbox",
        value_name = "URL",
        env = "PAYAUTH_SANDBOX_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
}

#[derive(Subcommand, Debug)]
pub enum SandboxAction {
    /// Make a running sandbox call the application back.
    ///
    /// Creates the event's object in the running sandbox (each provider's
    /// events are listed under EVENT), naming --to as its callback URL; the
    /// sandbox sends the provider's signed callback there (or to its
    /// --forward-to URL), and the application can fetch the object from the
    /// same sandbox. Prints how the first attempt went.
    #[command(after_help = help::trigger())]
    Trigger {
        #[arg(value_parser = triggering_parser())]
        provider: String,
        #[arg(value_parser = event_parser())]
        event: String,
        /// The callback URL the request names (default: an https URL that only
        /// the sandbox's --forward-to reaches).
        #[arg(long, value_name = "URL")]
        to: Option<String>,
        #[arg(long, help = help::status())]
        status: Option<String>,
        #[command(flatten)]
        sandbox: SandboxUrl,
    },
    /// Move a running sandbox's clock forward (tokens expire by it).
    #[command(after_help = "Example:
  payauth sandbox clock advance 10m")]
    Clock {
        #[command(subcommand)]
        action: ClockAction,
    },
    /// Queue HTTP errors on a route of a running sandbox.
    ///
    /// The next requests there get them, one each.
    #[command(after_help = help::fault())]
    Fault {
        #[arg(value_parser = provider_parser())]
        provider: String,
        /// The HTTP status to answer with.
        #[arg(value_parser = clap::value_parser!(u16).range(100..=599))]
        status: u16,
        /// How many requests get it.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        times: u32,
        /// The route: `login` (the token endpoint), `protected`, or an
        /// operation's (e.g. `card_payment`, `customer_create`).
        #[arg(long, default_value = "login")]
        route: String,
        #[command(flatten)]
        sandbox: SandboxUrl,
    },
    /// Revoke every token a running sandbox issued for the provider.
    ///
    /// The next call gets a 401 and the SDK logs in again.
    #[command(after_help = help::revoke())]
    Revoke {
        #[arg(value_parser = provider_parser())]
        provider: String,
        #[command(flatten)]
        sandbox: SandboxUrl,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClockAction {
    /// Forward by a duration: `90s`, `10m`, `2h`, `1day`.
    Advance {
        #[arg(value_parser = humantime::parse_duration)]
        by: std::time::Duration,
        #[command(flatten)]
        sandbox: SandboxUrl,
    },
}

/// The command, with its help (the help that names providers is built from
/// their descriptors).
pub fn command() -> clap::Command {
    Cli::command().after_help(help::top())
}
