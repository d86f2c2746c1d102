//! `cargo xtask` — the workspace's own commands.
//!
//! ```text
//! cargo xtask regen [--check] [PROVIDER…]   spec → sdks/<provider>/src/generated.rs
//! cargo xtask new-provider NAME             a new OAuth2 client-credentials provider, scaffolded
//! cargo xtask scaffold-check                new-provider in a scratch copy, its end-to-end test
//! cargo xtask test                          everything CI runs (fmt, clippy, regen --check, tests, conformance)
//! cargo xtask deps                          install what the Redis/Valkey tests need (part of `test`)
//! cargo xtask demo                          every SDK against the embedded sandbox
//! cargo xtask soak [--long]                 the soak in a release build
//! cargo xtask bench                         the criterion benchmarks (`overhead`, `token_read`, `principals`)
//! cargo xtask conformance                   schemathesis (API fuzzer) against the sandbox
//! cargo xtask public-api [--check]          api/<crate>.txt: each publishable crate's public API
//! cargo xtask layers                        no import circle, no import up a declared layer order
//! cargo xtask docs                          the publishable crates' docs as docs.rs builds them, warnings denied
//! ```
//!
//! Each command lives in its own file; this one is the command line.

use std::process::ExitCode;

use anyhow::{Result, bail};

mod cargo;
mod codegen_commands;
mod conformance;
mod conformance_plan;
mod demo_soak_bench;
mod docs;
mod layers;
mod new_provider;
mod package_check;
mod redis_servers;
mod scaffold_check;
mod test_phases;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  regen [--check] [PROVIDER...]  regenerate sdks/<provider>/src/generated.rs from specs/
                                 (--check: write nothing, fail if any file is stale)
  new-provider NAME              scaffold a provider from xtask/templates/: specs/NAME.yaml (OAuth2 client
                                 credentials, form body, opaque token; one bearer GET), the crate sdks/NAME/
                                 (profile, descriptor, end-to-end test), the sandbox's plug-in, and one line
                                 in each list that names the providers; then run `cargo xtask regen`
  scaffold-check                 new-provider demo_oauth in a scratch copy of the workspace, regen, and its
                                 end-to-end test against the sandbox (part of `test`)
  test                           fmt check, clippy -D warnings, regen --check, public-api --check, the
                                 docs (warnings denied), the tests (cargo nextest, or cargo test without
                                 it; doctests), cargo package, the consumer's tests, a provider scaffolded
                                 in a scratch copy and its end-to-end test, conformance; prints where the
                                 time went
  layers [--imports CRATE]       no import circle between the files of any workspace crate, no
                                 import up a crate's declared layers (its layers.toml); part of `test`
                                 (--imports: print every import between the crate's files)
  docs                           cargo doc of the publishable crates as docs.rs builds them (--cfg docsrs,
                                 all features): a rustdoc warning (broken link, bare URL, invalid code
                                 block) or an undocumented public item fails it; part of `test`
  package-check                  cargo package the publishable crates, then check them from the
                                 packages (part of `test`)
  deps                           install what the Redis/Valkey tests need (redis-server, redis-cli,
                                 valkey-server, valkey-cli, openssl) when missing; part of `test`
  public-api [--check]           write api/<crate>.txt, the public API of each publishable crate
                                 (--check: write nothing, fail if one differs)
  demo                           run every SDK against the embedded sandbox and print what happened
  soak [--long] [--calls N] [--seconds S] [--callers C] [--seed X]
                                 every SDK under 5 % faults with 2 s tokens (release build);
                                 --long: >= 1,000,000 calls. Prints the table, fails on a broken bound
  bench [ARGS...]                cargo bench for the `overhead`, `token_read` and `principals` benchmarks
  conformance [--plan]           fuzz the sandbox with schemathesis (pinned, in target/conformance-venv)
                                 against every spec: 0 server errors, 0 spec violations,
                                 0 forbidden requests accepted, or it fails
                                 (--plan: print what it reads from the specs, and stop)
";

fn main() -> ExitCode {
    if let Some(code) = docs::as_rustdoc() {
        return code;
    }
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
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("regen") => {
            let check = flag(rest, "--check")?;
            let providers: Vec<String> = rest
                .iter()
                .filter(|a| !a.starts_with('-'))
                .cloned()
                .collect();
            codegen_commands::regen(check, &providers)
        }
        Some("new-provider") => match rest {
            [name] if !name.starts_with('-') => {
                new_provider::new_provider(&codegen::workspace_root(), name)
            }
            _ => bail!("usage: cargo xtask new-provider NAME"),
        },
        Some("scaffold-check") => scaffold_check::scaffold_check(),
        Some("public-api") => codegen_commands::public_api(flag(rest, "--check")?),
        Some("layers") => match rest {
            [] => layers::run(),
            [flag, krate] if flag == "--imports" => layers::print_imports(krate),
            _ => bail!("usage: cargo xtask layers [--imports CRATE]"),
        },
        Some("test") => test_phases::test(),
        Some("package-check") => package_check::package_check(),
        Some("docs") => docs::check(),
        Some("deps") => redis_servers::ensure_servers(),
        Some("demo") => demo_soak_bench::demo(rest),
        Some("soak") => demo_soak_bench::soak(rest),
        Some("bench") => demo_soak_bench::bench(rest),
        Some("conformance") => match rest {
            [] => conformance::run(cargo::cargo),
            [flag] if flag == "--plan" => {
                let plans = conformance_plan::plans(&codegen::workspace_root())?;
                println!("{}", serde_json::to_string_pretty(&plans)?);
                Ok(())
            }
            _ => bail!("usage: cargo xtask conformance [--plan]"),
        },
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

/// Whether `args` hold `name`, the one flag the command knows; any other
/// flag is an error.
fn flag(args: &[String], name: &str) -> Result<bool> {
    if let Some(other) = args.iter().find(|a| a.starts_with('-') && *a != name) {
        bail!("unknown flag `{other}`\n\n{USAGE}");
    }
    Ok(args.iter().any(|a| a == name))
}
