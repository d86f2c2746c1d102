//! `cargo xtask package-check`: the publishable crates packaged, then
//! compiled from what the packages hold.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cargo::cargo;

/// The publishable crates (`publish` not `false` in their manifest:
/// `codegen::publishable`; xtask, codegen, payauth and the tests are not
/// published) packaged, then compiled from what the packages
/// hold: a file a crate needs but does not ship (its generated code, a
/// README it includes) fails here, not at `cargo publish`.
///
/// `cargo package`'s own verification builds each crate and its whole
/// dependency tree again, in a target directory of its own (159 s of a
/// 603 s run). Here the packages are unpacked into one workspace
/// (`target/package-check`, each crate patched in for its version) and
/// checked — type-checked, not linked — in the shared target directory,
/// where the dependencies' metadata already is.
/// The workspace manifest's `[profile.*]` tables, as TOML. The unpacked
/// packages are checked in the shared target directory: with the same
/// profiles, their dependencies are the ones clippy already checked;
/// without them (another `debug` setting), every dependency was checked
/// again (162 crates, ~70 s on a clean clone).
fn profiles(manifest: &str) -> Result<String> {
    // Validate it as TOML, then copy the tables as written (comments too).
    let _: toml::Table = manifest.parse().context("the workspace manifest")?;
    let mut out = String::new();
    let mut inside = false;
    for line in manifest.lines() {
        let header = line.trim_start();
        if header.starts_with('[') {
            inside = header.starts_with("[profile.") || header.starts_with("[profile]");
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

pub fn package_check() -> Result<()> {
    let root = codegen::workspace_root();
    let publishable = codegen::publishable(&root)?;
    let names: Vec<&str> = publishable.iter().map(|k| k.name.as_str()).collect();
    eprintln!("\n$ cargo package --no-verify ({})", names.join(", "));
    let mut package = vec!["package", "--allow-dirty", "--no-verify"];
    for krate in &names {
        package.extend(["-p", krate]);
    }
    cargo(&package)?;
    let check = root.join("target/package-check");
    let _ = std::fs::remove_dir_all(&check);
    std::fs::create_dir_all(&check)?;
    let mut members = Vec::new();
    let mut patches = Vec::new();
    for krate in &publishable {
        if krate.version.is_empty() {
            bail!("{}: no version in its manifest", krate.name);
        }
        let dir = format!("{}-{}", krate.name, krate.version);
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
        patches.push(format!("{} = {{ path = \"{dir}\" }}", krate.name));
    }
    std::fs::write(
        check.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n\n[patch.crates-io]\n{}\n\n{}",
            members.join(", "),
            patches.join("\n"),
            profiles(&std::fs::read_to_string(root.join("Cargo.toml"))?)?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspaces_profiles_are_carried_over() {
        let manifest = "[workspace]\nmembers = [\"a\"]\n\n[profile.dev]\ndebug = \"line-tables-only\"\n\n[profile.dev.package.\"*\"]\ndebug = false\n";
        let copied: toml::Table = profiles(manifest).unwrap().parse().unwrap();
        assert_eq!(
            copied["profile"]["dev"]["debug"].as_str(),
            Some("line-tables-only")
        );
        assert_eq!(
            copied["profile"]["dev"]["package"]["*"]["debug"].as_bool(),
            Some(false)
        );
        assert!(copied.get("workspace").is_none());
        assert_eq!(profiles("[workspace]\n").unwrap(), "");
    }
}
