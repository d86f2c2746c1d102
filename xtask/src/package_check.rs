//! `cargo xtask package-check`: the publishable crates packaged, then
//! compiled from what the packages hold.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cargo::cargo;

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
pub fn package_check() -> Result<()> {
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
