//! `cargo xtask` — the workspace's own commands.
//!
//! ```text
//! cargo xtask regen [--check] [PROVIDER…]   spec → sdks/<provider>/src/generated.rs
//! cargo xtask test                          everything CI runs (fmt, clippy, regen --check, tests, conformance)
//! cargo xtask demo                          the five SDKs against the embedded sandbox
//! cargo xtask soak [--long]                 the soak (issue #13) in a release build
//! cargo xtask bench                         the criterion benchmarks (`overhead`, `token_read`, `principals`)
//! cargo xtask conformance                   schemathesis (API fuzzer) against the sandbox
//! ```

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

mod conformance;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  regen [--check] [PROVIDER...]  regenerate sdks/<provider>/src/generated.rs from specs/
                                 (--check: write nothing, fail if any file is stale)
  test                           fmt check, clippy -D warnings, regen --check, cargo test --workspace,
                                 conformance
  demo                           run the five SDKs against the embedded sandbox and print what happened
  soak [--long] [--calls N] [--seconds S] [--callers C] [--seed X]
                                 the five SDKs under 5 % faults with 2 s tokens (release build);
                                 --long: >= 1,000,000 calls. Prints the table, fails on a broken bound
  bench [ARGS...]                cargo bench for the `overhead`, `token_read` and `principals` benchmarks
  conformance                    fuzz the sandbox with schemathesis (pinned, in target/conformance-venv)
                                 against every spec: 0 server errors, 0 spec violations,
                                 0 forbidden requests accepted, or it fails
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("regen") => regen(&args[1..]),
        Some("test") => test(),
        Some("demo") => demo(&args[1..]),
        Some("soak") => soak(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("conformance") => conformance::run(cargo),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

fn regen(args: &[String]) -> Result<()> {
    let check = args.iter().any(|a| a == "--check");
    if let Some(flag) = args.iter().find(|a| a.starts_with('-') && *a != "--check") {
        bail!("unknown flag `{flag}`\n\n{USAGE}");
    }
    let providers: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect();
    let mode = if check {
        codegen::Mode::Check
    } else {
        codegen::Mode::Write
    };
    let report = codegen::regen(&codegen::workspace_root(), &providers, mode)?;
    if check && !report.stale.is_empty() {
        bail!("{report}");
    }
    println!("{report}");
    Ok(())
}

fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    eprintln!("\n$ cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(codegen::workspace_root())
        .status()
        .with_context(|| format!("could not run `cargo {}`", args.join(" ")))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn test() -> Result<()> {
    cargo(&["fmt", "--all", "--", "--check"])
        .context("formatting differs: run `cargo fmt --all`")?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ])?;
    eprintln!("\n$ cargo xtask regen --check");
    regen(&["--check".to_string()])?;
    redis::ensure_redis_server()?;
    cargo(&["test", "--workspace", "--all-features"])?;
    eprintln!("\n$ cargo xtask conformance");
    conformance::run(cargo)?;
    eprintln!("\nall checks passed");
    Ok(())
}

fn demo(args: &[String]) -> Result<()> {
    let mut cmd = vec![
        "run",
        "--quiet",
        "-p",
        "workspace-tests",
        "--example",
        "demo",
        "--",
    ];
    cmd.extend(args.iter().map(String::as_str));
    cargo(&cmd)
}

fn soak(args: &[String]) -> Result<()> {
    let mut cmd = vec![
        "run",
        "--quiet",
        "--release",
        "-p",
        "workspace-tests",
        "--example",
        "soak",
        "--",
    ];
    cmd.extend(args.iter().map(String::as_str));
    cargo(&cmd)
}

fn bench(args: &[String]) -> Result<()> {
    let mut cmd = vec![
        "bench",
        "-p",
        "workspace-tests",
        "--bench",
        "overhead",
        "-p",
        "auth-runtime",
        "--bench",
        "token_read",
        "--bench",
        "principals",
    ];
    if !args.is_empty() {
        cmd.push("--");
        cmd.extend(args.iter().map(String::as_str));
    }
    cargo(&cmd)
}

mod redis {
    //! The Redis-backed token store's tests need a real `redis-server`,
    //! `redis-cli` (a cluster is created with it) and `openssl` (a test CA).
    use anyhow::{Result, bail};
    use std::process::Command;

    /// `(binary, its version argument, Debian package)`.
    const NEEDED: &[(&str, &str, &str)] = &[
        ("redis-server", "--version", "redis-server"),
        ("redis-cli", "--version", "redis-tools"),
        ("openssl", "version", "openssl"),
    ];

    fn present(binary: &str, version: &str) -> bool {
        Command::new(binary)
            .arg(version)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    fn missing() -> Vec<&'static str> {
        NEEDED
            .iter()
            .filter(|(binary, version, _)| !present(binary, version))
            .map(|(_, _, package)| *package)
            .collect()
    }

    /// Install what is missing from Debian's packages when we have the
    /// rights; otherwise stop with the exact command to run.
    pub fn ensure_redis_server() -> Result<()> {
        let packages = missing();
        if packages.is_empty() {
            return Ok(());
        }
        let install = format!("apt-get install -y {}", packages.join(" "));
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let has_apt = Command::new("apt-get").arg("--version").output().is_ok();
        if root && has_apt {
            eprintln!("\nthe Redis tests need {packages:?}; installing: {install}");
            let update = Command::new("apt-get").args(["update", "-qq"]).status()?;
            let installed = Command::new("apt-get")
                .args(["install", "-y", "-qq"])
                .args(&packages)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()?;
            if update.success() && installed.success() && missing().is_empty() {
                return Ok(());
            }
        }
        bail!(
            "the tests need {packages:?} and they are not installed; install them with:\n    sudo {install}"
        )
    }
}
