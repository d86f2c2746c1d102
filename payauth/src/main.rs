//! `payauth`: the operators' tool for the payment-provider SDKs.
//!
//! ```text
//! payauth check <provider> [--json]          log in once: mechanism, lifetime, refresh time, clock skew
//! payauth token <provider> --reveal          a bearer token on stdout (for curl), a warning on stderr
//! payauth verify-callback <exirom|pledg>     is this callback genuine? (body: --body FILE or stdin)
//! payauth sandbox [--port N]                 the emulator of all five providers, and the env lines for it
//! payauth sandbox trigger <provider> <event> --to URL   deliver a correctly signed callback
//! ```
//!
//! Credentials come from each provider's own environment variables (the
//! crates' `from_env`). Exit codes: 0 success, 1 a callback is not genuine
//! or something else failed, 2 wrong credentials or configuration,
//! 3 a transient failure (try again later).

use std::process::ExitCode;

use clap::builder::PossibleValuesParser;
use clap::{Parser, Subcommand, ValueEnum};

use payauth::providers;

mod callback;
mod check;
mod sandbox_cmd;

/// Exit code: wrong credentials or configuration.
const EXIT_CREDENTIALS: u8 = 2;
/// Exit code: a transient failure.
const EXIT_TRANSIENT: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "payauth",
    version,
    about = "Check payment-provider credentials, print a token, verify callbacks, run the sandbox",
    after_help = "Exit codes: 0 ok; 1 not genuine / other failure; 2 wrong credentials or configuration; 3 transient failure."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Log in once and print the mechanism, the token's lifetime and
    /// expiry, the refresh time the runtime would choose and the clock skew
    /// against the token's `iat`. Never prints a secret.
    Check {
        #[arg(value_parser = PossibleValuesParser::new(providers::names()))]
        provider: String,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Print a current bearer token on stdout, for use with curl. Refuses
    /// without `--reveal`.
    Token {
        #[arg(value_parser = PossibleValuesParser::new(providers::names()))]
        provider: String,
        /// Yes, print the live token.
        #[arg(long)]
        reveal: bool,
    },
    /// Is a callback genuine? Valid (exit 0) or invalid with the reason
    /// (exit 1). exirom: `X-Checksum` with `EXIROM_CHECKSUM_SECRET` or
    /// `MERCHANT_SECRET`; pledg: the notification's signature with
    /// `PLEDG_SECRET_KEY`.
    VerifyCallback {
        provider: CallbackProvider,
        /// The raw body: a file, or `-` / omitted for stdin.
        #[arg(long)]
        body: Option<String>,
        /// A header, `Name: value` (repeatable).
        #[arg(short = 'H', long = "header")]
        header: Vec<String>,
        /// A file of `Name: value` header lines.
        #[arg(long)]
        headers: Option<String>,
        /// One JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Serve the emulator of all five providers and print the environment
    /// lines that point an SDK (or curl) at it; or, with `trigger`, deliver
    /// a signed callback to an application.
    Sandbox {
        /// The port (0: any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        #[command(subcommand)]
        action: Option<SandboxAction>,
    },
}

#[derive(Subcommand, Debug)]
enum SandboxAction {
    /// Deliver a correctly signed callback, as the provider would: exirom
    /// `payment` (a payment status callback with `X-Checksum`), pledg
    /// `notification` (a signed notification). Signed with the sandbox's
    /// secrets, the ones `payauth sandbox` prints.
    Trigger {
        provider: CallbackProvider,
        event: Event,
        /// The application's endpoint.
        #[arg(long)]
        to: String,
        /// The status the pledg notification carries.
        #[arg(long, default_value = "completed")]
        status: String,
    },
}

/// The providers that send signed callbacks.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackProvider {
    Exirom,
    Pledg,
}

/// What `sandbox trigger` delivers.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// exirom: a payment status callback.
    Payment,
    /// pledg: a purchase notification.
    Notification,
}

/// A failure as the process reports it: a message for stderr and the
/// exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code,
        }
    }

    /// The exit code a runtime error means.
    pub fn from_error(what: &str, e: &auth_runtime::Error) -> Failure {
        use auth_runtime::ErrorKind as K;
        let code = match e.kind() {
            K::InvalidCredentials | K::Forbidden | K::Unauthorized | K::Config | K::BadRequest => {
                EXIT_CREDENTIALS
            }
            K::Transient => EXIT_TRANSIENT,
            _ => 1,
        };
        // The runtime's message names the provider already.
        if e.provider() == what {
            Failure::new(code, e.to_string())
        } else {
            Failure::new(code, format!("{what}: {e}"))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("payauth: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Check { provider, json } => check::check(&provider, json).await,
            Command::Token { provider, reveal } => check::token(&provider, reveal).await,
            Command::VerifyCallback {
                provider,
                body,
                header,
                headers,
                json,
            } => callback::verify(provider, body.as_deref(), &header, headers.as_deref(), json),
            Command::Sandbox { port, action: None } => sandbox_cmd::serve(port).await,
            Command::Sandbox {
                action:
                    Some(SandboxAction::Trigger {
                        provider,
                        event,
                        to,
                        status,
                    }),
                ..
            } => sandbox_cmd::trigger(provider, event, &to, &status).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("payauth: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
