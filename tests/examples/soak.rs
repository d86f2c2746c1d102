//! `cargo xtask soak [--long]`: the soak outside the test
//! suite, in a release build, with its report table. Exit status 1 when a
//! bound is broken.
//!
//! ```text
//! cargo xtask soak                  # the suite's short version (≥ 20,000 calls)
//! cargo xtask soak --long           # ≥ 1,000,000 calls
//! cargo xtask soak --calls N --seconds S --callers C --seed X
//! ```
//! `RUST_LOG=payauth_runtime=info` shows the runtime's fetches, 401s and retries.

use std::process::ExitCode;
use std::time::Duration;

use workspace_tests::soak::{self, SoakConfig};

fn parse<T: std::str::FromStr>(flag: &str, value: Option<&String>) -> Result<T, String> {
    value
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{flag} needs a number"))
}

fn config(args: &[String]) -> Result<SoakConfig, String> {
    let mut cfg = if args.iter().any(|a| a == "--long") {
        SoakConfig::long()
    } else {
        SoakConfig::short()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--long" => {}
            "--calls" => cfg.min_calls = parse(a, it.next())?,
            "--seconds" => cfg.min_duration = Duration::from_secs(parse(a, it.next())?),
            "--callers" => cfg.callers = parse(a, it.next())?,
            "--seed" => cfg.seed = parse(a, it.next())?,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(cfg)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let report = runtime.block_on(soak::run(cfg));
    println!("{report}");
    let violations = report.violations();
    if violations.is_empty() {
        println!("all bounds hold");
        ExitCode::SUCCESS
    } else {
        println!("broken bounds:\n  {}", violations.join("\n  "));
        ExitCode::FAILURE
    }
}
