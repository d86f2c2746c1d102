//! `cargo xtask` — the workspace's own commands.
//!
//! ```text
//! cargo xtask regen [--check] [PROVIDER…]   spec → sdks/<provider>/src/generated.rs
//! cargo xtask test                          everything CI runs (fmt, clippy, regen --check, tests, conformance)
//! cargo xtask deps                          install what the Redis/Valkey tests need (part of `test`)
//! cargo xtask demo                          the five SDKs against the embedded sandbox
//! cargo xtask soak [--long]                 the soak (issue #13) in a release build
//! cargo xtask bench                         the criterion benchmarks (`overhead`, `token_read`, `principals`)
//! cargo xtask conformance                   schemathesis (API fuzzer) against the sandbox
//! cargo xtask public-api [--check]          api/<crate>.txt: each publishable crate's public API
//! ```

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

mod conformance;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  regen [--check] [PROVIDER...]  regenerate sdks/<provider>/src/generated.rs from specs/
                                 (--check: write nothing, fail if any file is stale)
  test                           fmt check, clippy -D warnings, regen --check, public-api --check, the
                                 tests (cargo nextest, or cargo test without it; doctests), cargo package,
                                 the consumer's tests, conformance; prints where the time went
  package-check                  cargo package the publishable crates, then check them from the
                                 packages (part of `test`)
  deps                           install what the Redis/Valkey tests need (redis-server, redis-cli,
                                 valkey-server, valkey-cli, openssl) when missing; part of `test`
  public-api [--check]           write api/<crate>.txt, the public API of each publishable crate
                                 (--check: write nothing, fail if one differs)
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
        Some("public-api") => public_api(&args[1..]),
        Some("test") => test(),
        Some("package-check") => package_check(),
        Some("deps") => redis::ensure_servers(),
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

/// `api/<crate>.txt`: the public API of each publishable crate, listed
/// from its source (`codegen::public_api`), so a change to it shows in
/// review.
fn public_api(args: &[String]) -> Result<()> {
    let check = args.iter().any(|a| a == "--check");
    let root = codegen::workspace_root();
    let mut stale = Vec::new();
    for (krate, dir) in codegen::public_api::CRATES {
        let wanted = codegen::public_api::listing(&root, krate, dir).map_err(anyhow::Error::msg)?;
        let path = codegen::public_api::listing_path(&root, krate);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != wanted {
            stale.push(path.display().to_string());
            if !check {
                std::fs::create_dir_all(path.parent().unwrap_or(&root))?;
                std::fs::write(&path, wanted)?;
            }
        }
    }
    if check && !stale.is_empty() {
        bail!(
            "the public API changed: {} (run `cargo xtask public-api` and commit the listing)",
            stale.join(", ")
        );
    }
    println!("{} listing(s) updated", if check { 0 } else { stale.len() });
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

/// The crates an application depends on (`publish = true`); xtask,
/// codegen, payauth and the tests are not published.
const PUBLISHABLE: [&str; 7] = [
    "auth-runtime",
    "exirom",
    "institution",
    "pledg",
    "bursagb",
    "axept",
    "sandbox",
];

/// The publishable crates packaged, then compiled from what the packages
/// hold: a file a crate needs but does not ship (its generated code, a
/// README it includes) fails here, not at `cargo publish`.
///
/// `cargo package`'s own verification builds each crate and its whole
/// dependency tree again, in a target directory of its own (159 s of a
/// 603 s run). Here the packages are unpacked into one workspace
/// (`target/package-check`, each crate patched in for its version) and
/// checked — type-checked, not linked — in the shared target directory,
/// where the dependencies' metadata already is.
fn package_check() -> Result<()> {
    eprintln!("\n$ cargo package --no-verify (the publishable crates)");
    let mut package = vec!["package", "--allow-dirty", "--no-verify"];
    for krate in PUBLISHABLE {
        package.extend(["-p", krate]);
    }
    cargo(&package)?;
    let root = codegen::workspace_root();
    let version = |krate: &str| -> Result<String> {
        let manifest = std::fs::read_to_string(root.join(match krate {
            "auth-runtime" => "sdks/runtime/Cargo.toml".to_string(),
            other => format!("sdks/{other}/Cargo.toml"),
        }))?;
        manifest
            .lines()
            .find_map(|l| l.strip_prefix("version = \""))
            .and_then(|v| v.strip_suffix('"'))
            .map(str::to_string)
            .with_context(|| format!("no version in {krate}'s manifest"))
    };
    let check = root.join("target/package-check");
    let _ = std::fs::remove_dir_all(&check);
    std::fs::create_dir_all(&check)?;
    let mut members = Vec::new();
    let mut patches = Vec::new();
    for krate in PUBLISHABLE {
        let dir = format!("{krate}-{}", version(krate)?);
        let archive = root.join(format!("target/package/{dir}.crate"));
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .arg("-C")
            .arg(&check)
            .status()
            .context("could not run tar")?;
        if !status.success() {
            bail!("could not unpack {}", archive.display());
        }
        members.push(format!("\"{dir}\""));
        patches.push(format!("{krate} = {{ path = \"{dir}\" }}"));
    }
    std::fs::write(
        check.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n\n[patch.crates-io]\n{}\n",
            members.join(", "),
            patches.join("\n")
        ),
    )?;
    // The versions the workspace resolved, so nothing new is fetched.
    std::fs::copy(root.join("Cargo.lock"), check.join("Cargo.lock"))?;
    eprintln!("\n$ cargo check (the unpacked packages, as one workspace)");
    cargo(&[
        "check",
        "--manifest-path",
        "target/package-check/Cargo.toml",
        "--workspace",
        "--target-dir",
        "target",
    ])
}

/// Whether `cargo nextest` is installed (it is on the project's machines;
/// without it, `cargo test` runs the same tests one binary at a time).
fn nextest_available() -> bool {
    std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["nextest", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Where `cargo xtask test`'s time goes: each phase's wall time, printed
/// as it ends and summed up at the end (issue #25's profile).
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

fn test() -> Result<()> {
    let mut phases = Phases::new();
    let result = test_phases(&mut phases);
    phases.summary();
    result
}

fn test_phases(phases: &mut Phases) -> Result<()> {
    phases.run("fmt --check", || {
        cargo(&["fmt", "--all", "--", "--check"])
            .context("formatting differs: run `cargo fmt --all`")
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
        cargo(&["clippy", "-p", "auth-runtime", "--", "-D", "warnings"])
    })?;
    phases.run("regen --check, public-api --check", || {
        eprintln!("\n$ cargo xtask regen --check");
        regen(&["--check".to_string()])?;
        eprintln!("\n$ cargo xtask public-api --check");
        public_api(&["--check".to_string()])
    })?;
    phases.run("Redis servers installed", redis::ensure_servers)?;
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
        "cargo package (7 crates), checked from the packages",
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
    phases.run("conformance (schemathesis)", || {
        eprintln!("\n$ cargo xtask conformance");
        conformance::run(cargo)
    })?;
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
    //! The Redis-backed token store's tests need real servers: `redis-server`
    //! and `redis-cli` (a cluster is created with it), `valkey-server` and
    //! `valkey-cli` (the same tests against Valkey 8), and `openssl` (a test
    //! CA). Missing ones are installed from Debian's packages; Valkey comes
    //! from `<codename>-backports` where the release's own suite lacks it
    //! (bookworm), from the main suite where it has it (trixie and later).
    use anyhow::{Context, Result, bail};
    use std::process::Command;

    /// `(binary, its version argument, Debian package)`, all in the main suite.
    const NEEDED: &[(&str, &str, &str)] = &[
        ("redis-server", "--version", "redis-server"),
        ("redis-cli", "--version", "redis-tools"),
        ("openssl", "version", "openssl"),
    ];
    /// The same for Valkey. Never `valkey-redis-compat`: it replaces
    /// `redis-server` and `redis-tools`.
    const VALKEY: &[(&str, &str, &str)] = &[
        ("valkey-server", "--version", "valkey-server"),
        ("valkey-cli", "--version", "valkey-tools"),
    ];
    const DEBIAN_MIRROR: &str = "http://deb.debian.org/debian";
    const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

    fn present(binary: &str, version: &str) -> bool {
        Command::new(binary)
            .arg(version)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    fn missing(needed: &[(&str, &str, &'static str)]) -> Vec<&'static str> {
        let mut packages: Vec<&'static str> = needed
            .iter()
            .filter(|(binary, version, _)| !present(binary, version))
            .map(|(_, _, package)| *package)
            .collect();
        packages.dedup();
        packages
    }

    /// `(ID, VERSION_CODENAME)` of /etc/os-release (`debian`, `bookworm`).
    fn os_release() -> (String, String) {
        let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').to_string())
                .unwrap_or_default()
        };
        (field("ID"), field("VERSION_CODENAME"))
    }

    /// The suites apt knows `package` from (`bookworm-backports`,
    /// `trixie`…), from `apt-cache madison`.
    fn suites_of(package: &str) -> Vec<String> {
        let out = Command::new("apt-cache")
            .args(["madison", package])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        madison_suites(&out)
    }

    /// The suites in `apt-cache madison` output: ` valkey-server |
    /// 8.0.1+dfsg1-1~bpo12+1 | http://deb.debian.org/debian
    /// bookworm-backports/main amd64 Packages` → `bookworm-backports`.
    fn madison_suites(out: &str) -> Vec<String> {
        out.lines()
            .filter_map(|l| l.split('|').nth(2))
            .filter_map(|origin| origin.split_whitespace().nth(1))
            .filter_map(|suite| suite.split('/').next())
            .map(str::to_string)
            .collect()
    }

    /// Whether one of `suites` is a release's own (not a backports one).
    fn in_main(suites: &[String]) -> bool {
        suites.iter().any(|s| !s.ends_with("-backports"))
    }

    /// Whether an apt source already names `suite`.
    fn source_names(suite: &str) -> bool {
        let mut files = vec![std::path::PathBuf::from("/etc/apt/sources.list")];
        if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
            files.extend(
                dir.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "list" || e == "sources")),
            );
        }
        files.iter().any(|f| {
            std::fs::read_to_string(f).is_ok_and(|t| {
                t.lines()
                    .filter(|l| !l.trim_start().starts_with('#'))
                    .any(|l| l.split_whitespace().any(|w| w == suite))
            })
        })
    }

    /// Our sources file for `<codename>-backports` (Debian only).
    fn backports_file(codename: &str) -> String {
        format!("/etc/apt/sources.list.d/auth-sdks-{codename}-backports.list")
    }

    fn backports_line(codename: &str) -> String {
        let signed = if std::path::Path::new(DEBIAN_KEYRING).exists() {
            format!("[signed-by={DEBIAN_KEYRING}] ")
        } else {
            String::new()
        };
        format!("deb {signed}{DEBIAN_MIRROR} {codename}-backports main\n")
    }

    fn apt_get(args: &[&str]) -> Result<String> {
        eprintln!("$ apt-get {}", args.join(" "));
        let out = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .context("could not run apt-get")?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            bail!(
                "`apt-get {}` failed ({}):\n{stdout}{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(stdout)
    }

    /// The commands that install `plain` (main suite) and `valkey`, for a
    /// person to run.
    fn instructions(plain: &[&str], valkey: &[&str]) -> String {
        let mut lines = Vec::new();
        if !plain.is_empty() || !valkey.is_empty() {
            lines.push("sudo apt-get update".to_string());
        }
        if !plain.is_empty() {
            lines.push(format!("sudo apt-get install -y {}", plain.join(" ")));
        }
        if !valkey.is_empty() {
            let (id, codename) = os_release();
            if id == "debian" && !codename.is_empty() {
                lines.push(format!(
                    "echo '{}' | sudo tee {}   # unless Valkey is in {codename}'s own suite",
                    backports_line(&codename).trim_end(),
                    backports_file(&codename)
                ));
                lines.push(format!(
                    "sudo apt-get update && sudo apt-get install -y -t {codename}-backports {}",
                    valkey.join(" ")
                ));
            } else {
                lines.push(format!("sudo apt-get install -y {}", valkey.join(" ")));
            }
        }
        lines.join("\n    ")
    }

    /// Install Valkey: from the release's own suites when they have it,
    /// else from `<codename>-backports` (adding that source on Debian). A
    /// dry run first: nothing is installed if it would remove a package
    /// (`redis-server`, `redis-tools`…).
    fn install_valkey(packages: &[&str]) -> Result<()> {
        let (id, codename) = os_release();
        let backports = format!("{codename}-backports");
        let mut suites = suites_of(packages[0]);
        let target = if in_main(&suites) {
            None
        } else {
            if !suites.contains(&backports) {
                if id != "debian" || codename.is_empty() {
                    bail!(
                        "no apt source offers {packages:?} on {id} {codename}; install Valkey 8 yourself"
                    );
                }
                if !source_names(&backports) {
                    let file = backports_file(&codename);
                    eprintln!("adding {file}: {}", backports_line(&codename).trim_end());
                    std::fs::write(&file, backports_line(&codename))
                        .with_context(|| format!("could not write {file}"))?;
                }
                apt_get(&["update", "-qq"])?;
                suites = suites_of(packages[0]);
                if !suites.contains(&backports) {
                    bail!("{backports} does not offer {packages:?} (apt knows it from {suites:?})");
                }
            }
            Some(backports)
        };
        let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
        if let Some(suite) = &target {
            args.extend(["-t", suite.as_str()]);
        }
        args.extend(packages);
        let mut dry_run = args.clone();
        dry_run.insert(1, "-s");
        let removals: Vec<String> = apt_get(&dry_run)?
            .lines()
            .filter(|l| l.starts_with("Remv "))
            .map(str::to_string)
            .collect();
        if !removals.is_empty() {
            bail!("installing {packages:?} would remove packages; not doing it:\n{removals:#?}");
        }
        apt_get(&args)?;
        Ok(())
    }

    /// Install what is missing when we have the rights (root and apt-get);
    /// otherwise stop with the exact commands to run.
    pub fn ensure_servers() -> Result<()> {
        let plain = missing(NEEDED);
        let valkey = missing(VALKEY);
        if plain.is_empty() && valkey.is_empty() {
            return Ok(());
        }
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let has_apt = Command::new("apt-get").arg("--version").output().is_ok();
        if root && has_apt {
            eprintln!(
                "\nthe Redis tests need {:?}; installing them",
                [plain.as_slice(), valkey.as_slice()].concat()
            );
            let installed = apt_get(&["update", "-qq"])
                .and_then(|_| {
                    if plain.is_empty() {
                        return Ok(String::new());
                    }
                    let mut args = vec!["install", "-y", "-qq"];
                    args.extend(&plain);
                    apt_get(&args)
                })
                .and_then(|_| {
                    if valkey.is_empty() {
                        return Ok(());
                    }
                    install_valkey(&valkey)
                });
            match installed {
                Ok(()) if missing(NEEDED).is_empty() && missing(VALKEY).is_empty() => {
                    return Ok(());
                }
                Ok(()) => eprintln!("apt-get succeeded but some binaries are still missing"),
                Err(e) => eprintln!("{e:#}"),
            }
        }
        bail!(
            "the tests need {:?} and they are not installed; install them with:\n    {}",
            [plain.as_slice(), valkey.as_slice()].concat(),
            instructions(&plain, &valkey)
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn valkey_comes_from_backports_on_bookworm_and_from_main_on_trixie() {
            let bookworm = " valkey-server | 8.0.1+dfsg1-1~bpo12+1 | http://deb.debian.org/debian bookworm-backports/main amd64 Packages\n";
            let trixie = " valkey-server | 8.1.1+dfsg1-3 | http://deb.debian.org/debian trixie/main amd64 Packages\n \
                valkey-server | 8.1.4+dfsg1-1~bpo13+1 | http://deb.debian.org/debian trixie-backports/main amd64 Packages\n";
            assert_eq!(madison_suites(bookworm), ["bookworm-backports"]);
            assert!(!in_main(&madison_suites(bookworm)));
            assert_eq!(madison_suites(trixie), ["trixie", "trixie-backports"]);
            assert!(in_main(&madison_suites(trixie)));
            assert!(madison_suites("").is_empty());
            assert_eq!(
                backports_file("bookworm"),
                "/etc/apt/sources.list.d/auth-sdks-bookworm-backports.list"
            );
        }
    }
}
