//! `cargo xtask test`: everything CI runs, phase by phase, with where the
//! time went.

use anyhow::{Context, Result};

use crate::cargo::{cargo, nextest_available};
use crate::codegen_commands::{public_api, regen};
use crate::package_check::package_check;
use crate::{conformance, docs, layers, redis_servers, scaffold_check};

/// Where `cargo xtask test`'s time goes: each phase's wall time, printed
/// as it ends and summed up at the end.
struct Phases {
    started: std::time::Instant,
    done: Vec<(&'static str, std::time::Duration)>,
}

impl Phases {
    fn new() -> Phases {
        Phases {
            started: std::time::Instant::now(),
            done: Vec::new(),
        }
    }

    fn run(&mut self, name: &'static str, phase: impl FnOnce() -> Result<()>) -> Result<()> {
        let start = std::time::Instant::now();
        let result = phase();
        let took = start.elapsed();
        eprintln!("[xtask test] {name}: {:.0} s", took.as_secs_f64());
        self.done.push((name, took));
        result
    }

    fn summary(&self) {
        eprintln!("\n[xtask test] where the time went:");
        for (name, took) in &self.done {
            eprintln!("  {:>6.0} s  {name}", took.as_secs_f64());
        }
        eprintln!("  {:>6.0} s  in all", self.started.elapsed().as_secs_f64());
    }
}

pub fn test() -> Result<()> {
    let mut phases = Phases::new();
    let result = test_phases(&mut phases);
    phases.summary();
    result
}

fn test_phases(phases: &mut Phases) -> Result<()> {
    // The fuzzer's venv (a download and an install: network, little CPU)
    // is made while the workspace compiles; the conformance phase then
    // finds it ready, or makes it itself if this failed.
    let venv = std::thread::spawn(conformance::prepare);
    phases.run("fmt --check", || {
        cargo(&["fmt", "--all", "--", "--check"])
            .context("formatting differs: run `cargo fmt --all`")
    })?;
    phases.run("layers (import circles, declared layer order)", || {
        eprintln!("\n$ cargo xtask layers");
        layers::run()
    })?;
    phases.run("clippy", || {
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ])?;
        // The runtime as most applications build it: without `otel` or
        // `redis` (their stand-ins are code too).
        cargo(&["clippy", "-p", "payauth-runtime", "--", "-D", "warnings"])
    })?;
    phases.run("regen --check, public-api --check", || {
        eprintln!("\n$ cargo xtask regen --check");
        regen(true, &[])?;
        eprintln!("\n$ cargo xtask public-api --check");
        public_api(true)
    })?;
    phases.run(
        "docs (as docs.rs builds them: warnings and missing docs denied)",
        docs::check,
    )?;
    phases.run("Redis servers installed", redis_servers::ensure_servers)?;
    phases.run("tests (build and run)", || {
        if nextest_available() {
            // Every test its own process, two at a time across all the
            // test binaries: the long ones (Redis clusters, the fleet, the
            // soak) overlap instead of running one binary after another.
            eprintln!("\n$ cargo nextest run --workspace --all-features");
            cargo(&[
                "nextest",
                "run",
                "--workspace",
                "--all-features",
                "--no-fail-fast",
            ])?;
            eprintln!("\n$ cargo test --doc (nextest runs no doctests)");
            cargo(&["test", "--workspace", "--all-features", "--doc"])
        } else {
            cargo(&["test", "--workspace", "--all-features"])
        }
    })?;
    phases.run(
        "cargo package (the publishable crates), checked from the packages",
        package_check,
    )?;
    phases.run("consumer tests", || {
        eprintln!(
            "\n$ cargo test --manifest-path consumer/Cargo.toml (an application outside the workspace)"
        );
        cargo(&[
            "test",
            "--manifest-path",
            "consumer/Cargo.toml",
            "--target-dir",
            "target",
            "--locked",
        ])
    })?;
    phases.run(
        "a provider scaffolded in a scratch copy (new-provider, regen, its end-to-end test)",
        scaffold_check::scaffold_check,
    )?;
    if let Ok(Err(e)) = venv.join() {
        eprintln!("\nthe fuzzer's venv could not be made in the background ({e:#}): trying again");
    }
    phases.run("conformance (schemathesis)", || {
        eprintln!("\n$ cargo xtask conformance");
        conformance::run(cargo)
    })?;
    eprintln!("\nall checks passed");
    Ok(())
}
