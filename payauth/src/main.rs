//! `payauth`: the operators' tool for the payment-provider SDKs.
//!
//! ```text
//! payauth check <provider> | --all     the environment used, the login, the token's timing, a probe call
//! payauth token <provider> --reveal    a bearer token on stdout (--header: for `curl -H @-`)
//! payauth verify-callback <provider>   is this callback genuine?
//! payauth sandbox [--port N] [--forward-to URL]   the emulator of every provider, its log
//! payauth sandbox clock|fault|revoke   drive a running sandbox
//! payauth sandbox trigger …            make a running sandbox call the application back
//! payauth completions <shell>
//! ```
//!
//! Every command takes `--json`, `-v`, `--env-file`; the exit codes are in
//! `failure.rs` (and `--help`).

use std::process::ExitCode;

use clap::FromArgMatches;

mod callback;
mod check;
mod cli;
mod control;
mod failure;
mod help;
mod logging;
mod sandbox_cmd;
mod timefmt;
mod trigger;
mod variables;

use cli::{ClockAction, Command, SandboxAction};
use failure::Failure;
use variables::Variables;

/// Parse the command line; clap's usage errors exit 64 (as JSON with
/// `--json`), its help and version 0.
fn parse() -> Result<cli::Cli, ExitCode> {
    let wants_json = std::env::args_os().any(|a| a == "--json");
    let matches = cli::command()
        .try_get_matches()
        .and_then(|m| cli::Cli::from_arg_matches(&m));
    match matches {
        Ok(cli) => Ok(cli),
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            if wants_json {
                let message = e.kind().as_str().unwrap_or("invalid usage").to_string();
                let rendered = e.render().to_string();
                let first = rendered.lines().next().unwrap_or_default();
                let message = first
                    .strip_prefix("error: ")
                    .unwrap_or(&message)
                    .to_string();
                Failure::usage(message)
                    .hint("see `payauth --help`")
                    .report(true);
            } else {
                let _ = e.print();
            }
            Err(ExitCode::from(failure::USAGE))
        }
    }
}

async fn run(cli: cli::Cli, vars: Variables) -> Result<u8, Failure> {
    let json = cli.global.json;
    match cli.command {
        Command::Check { all: true, .. } => check::check_all(&vars, json).await,
        Command::Check {
            provider, base_url, ..
        } => {
            let provider = provider.ok_or_else(|| Failure::usage("name a provider, or --all"))?;
            check::check(&provider, &vars, base_url.as_deref(), json).await
        }
        Command::Token {
            provider,
            reveal,
            header,
            base_url,
        } => {
            let out = check::TokenOutput {
                reveal,
                header,
                json,
            };
            check::token(&provider, &vars, base_url.as_deref(), out).await
        }
        Command::VerifyCallback {
            provider,
            body,
            header,
            headers,
        } => {
            let input = callback::Input {
                provider: &provider,
                body: body.as_deref(),
                header_args: &header,
                headers_file: headers.as_deref(),
            };
            callback::verify(&input, &vars, json)
        }
        Command::Sandbox {
            port,
            forward_to,
            action: None,
        } => sandbox_cmd::serve(port, forward_to, json).await,
        Command::Sandbox {
            action: Some(action),
            ..
        } => match action {
            SandboxAction::Trigger {
                provider,
                event,
                to,
                status,
                sandbox,
            } => {
                let what = trigger::Trigger {
                    provider: &provider,
                    event: &event,
                    to: to.as_deref(),
                    status: status.as_deref(),
                };
                trigger::trigger(&sandbox.url, &what, json).await
            }
            SandboxAction::Clock {
                action: ClockAction::Advance { by, sandbox },
            } => control::clock_advance(&sandbox.url, by, json).await,
            SandboxAction::Fault {
                provider,
                status,
                times,
                route,
                sandbox,
            } => control::fault(&sandbox.url, &provider, status, times, &route, json).await,
            SandboxAction::Revoke { provider, sandbox } => {
                control::revoke(&sandbox.url, &provider, json).await
            }
        },
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut cli::command(),
                "payauth",
                &mut std::io::stdout(),
            );
            Ok(failure::OK)
        }
    }
}

/// Resolves on Ctrl-C (SIGINT). Registered when called, not when first
/// polled.
fn interrupt() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::interrupt()) {
            Ok(mut sigint) => Box::pin(async move {
                sigint.recv().await;
            }),
            Err(_) => Box::pin(std::future::pending()),
        }
    }
    #[cfg(not(unix))]
    {
        Box::pin(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let json = cli.global.json;
    // No body given and stdin a terminal: the command's help, not a wait.
    if let Command::VerifyCallback { body, .. } = &cli.command
        && callback::would_wait_on_terminal(body.as_deref())
    {
        if let Err(help) =
            cli::command().try_get_matches_from(["payauth", "verify-callback", "--help"])
        {
            let _ = help.print();
        }
        eprintln!("\npayauth: no body: pass --body FILE, or pipe it in");
        return ExitCode::from(failure::USAGE);
    }
    logging::init(cli.global.verbose);
    let vars = match Variables::load(cli.global.env_file.as_deref()) {
        Ok(vars) => vars,
        Err(f) => {
            f.report(json);
            return ExitCode::from(f.code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            Failure::new(
                failure::INTERNAL,
                "internal",
                format!("cannot start the async runtime: {e}"),
            )
            .report(json);
            return ExitCode::from(failure::INTERNAL);
        }
    };
    let result = runtime.block_on(async move {
        // Listening before anything runs: a Ctrl-C right after the
        // sandbox says "ready" is not lost.
        let interrupt = interrupt();
        tokio::select! {
            result = run(cli, vars) => result,
            () = interrupt => Err(Failure::interrupted()),
        }
    });
    // Whatever still runs (a login, the sandbox's tasks) is not waited for.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            f.report(json);
            ExitCode::from(f.code)
        }
    }
}
