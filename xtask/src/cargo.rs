//! Running cargo from the workspace root, the way every command does.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// `cargo <args>` in the workspace root, echoed first; fails when it does.
pub fn cargo(args: &[&str]) -> Result<()> {
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

/// Whether `cargo nextest` is installed (it is on the project's machines;
/// without it, `cargo test` runs the same tests one binary at a time).
pub fn nextest_available() -> bool {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["nextest", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
