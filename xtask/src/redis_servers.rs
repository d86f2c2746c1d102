//! The Redis-backed token store's tests need real servers: `redis-server`
//! and `redis-cli` (a cluster is created with it), `valkey-server` and
//! `valkey-cli` (the same tests against Valkey 8), and `openssl` (a test
//! CA). Missing ones are installed from Debian's packages; Valkey comes
//! from `<codename>-backports` where the release's own suite lacks it
//! (bookworm), from the main suite where it has it (trixie and later).

use std::process::Command;

use anyhow::{Context, Result, bail};

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
