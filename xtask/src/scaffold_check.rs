//! `cargo xtask test`'s scaffold phase: a throwaway provider made with
//! `new-provider` in a scratch copy of the workspace, regenerated, and its
//! end-to-end test run against the sandbox — with no other file edited.
//!
//! The copy lives in `<target>/new-provider-scratch/` and shares the
//! target directory (`CARGO_TARGET_DIR`), so dependencies are never built
//! twice. A file whose content did not change since the last run keeps
//! its time (`times.tsv`): cargo then rebuilds nothing that did not
//! change, and a warm run takes seconds.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::new_provider::new_provider;

/// The throwaway provider's name.
pub const PROVIDER: &str = "demo_oauth";

/// Never copied: build output and history (a worktree's `.git` is a file).
const SKIPPED: &[&str] = &["target", ".git"];

pub fn scaffold_check() -> Result<()> {
    let root = codegen::workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target = std::path::absolute(&target).unwrap_or(target);
    let scratch = target.join("new-provider-scratch");
    let workspace = scratch.join("workspace");
    let started = Instant::now();
    mirror(&root, &workspace).context("copying the workspace")?;
    eprintln!(
        "\n$ cargo xtask new-provider {PROVIDER}   (in {})",
        workspace.display()
    );
    new_provider(&workspace, PROVIDER)?;
    eprintln!("\n$ cargo xtask regen");
    let report = codegen::regen(&workspace, &[], codegen::Mode::Write)?;
    println!("{report}");
    only_the_provider_changed(&root, &workspace)?;
    keep_unchanged_times(&workspace, &scratch.join("times.tsv"))?;
    let prepared = started.elapsed();
    let package = format!("payauth-{PROVIDER}");
    let args = ["test", "-p", package.as_str(), "--test", "sandbox"];
    eprintln!(
        "\n$ cargo {}   (CARGO_TARGET_DIR={})",
        args.join(" "),
        target.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args(args)
        .args(own_artifacts(&workspace)?)
        .current_dir(&workspace)
        .env("CARGO_TARGET_DIR", &target)
        .stdout(std::process::Stdio::inherit())
        .output()
        .context("could not run cargo")?;
    let compiler = String::from_utf8_lossy(&output.stderr);
    eprint!("{compiler}");
    if !output.status.success() {
        bail!(
            "the scaffolded provider's end-to-end test failed ({})",
            output.status
        );
    }
    let warned = warned_crates(&compiler);
    if !warned.is_empty() {
        bail!(
            "the scaffold compiles with warnings in {}: a new provider starts as clean as \
             the others (its templates are in xtask/templates/)",
            warned.join(", ")
        );
    }
    eprintln!(
        "[xtask test] scaffold: copy, new-provider and regen {:.1} s; build and test {:.1} s",
        prepared.as_secs_f64(),
        (started.elapsed() - prepared).as_secs_f64()
    );
    Ok(())
}

/// The crates cargo's summary lines say warned (`` warning: `NAME` (lib)
/// generated 4 warnings ``).
fn warned_crates(compiler_output: &str) -> Vec<String> {
    compiler_output
        .lines()
        .filter_map(|l| l.strip_prefix("warning: `"))
        .filter(|l| l.contains(" generated "))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect()
}

/// Cargo names a workspace crate's artifacts by its path relative to the
/// workspace root, so the copy's crates would overwrite the workspace's
/// own in the shared target directory (and the workspace could then link
/// a copy built with the scratch's paths in it). A profile setting that
/// changes nothing — the default number of codegen units, said
/// explicitly — gives each of the copy's crates artifacts of its own; the
/// dependencies stay shared.
fn own_artifacts(workspace: &Path) -> Result<Vec<String>> {
    Ok(codegen::members(workspace)?
        .iter()
        .flat_map(|m| {
            [
                "--config".to_string(),
                format!("profile.dev.package.{}.codegen-units=256", m.name),
            ]
        })
        .collect())
}

/// Every file under `dir` (the skipped folders aside), relative to it.
fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if SKIPPED.iter().any(|s| entry.file_name() == *s) {
                continue;
            }
            if kind.is_dir() {
                walk(root, &path, out)?;
            } else if kind.is_file() {
                out.push(path.strip_prefix(root)?.to_path_buf());
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    if dir.is_dir() {
        walk(dir, dir, &mut out)?;
    }
    out.sort();
    Ok(out)
}

/// Make `to` a copy of `from`: missing or different files copied with
/// their modification time, files and folders `from` lacks removed, equal
/// files left alone.
fn mirror(from: &Path, to: &Path) -> Result<()> {
    let wanted = files(from)?;
    for stale in files(to)? {
        if wanted.binary_search(&stale).is_err() {
            std::fs::remove_file(to.join(&stale))?;
        }
    }
    remove_extra_folders(from, to)?;
    for file in &wanted {
        let (src, dst) = (from.join(file), to.join(file));
        let content = std::fs::read(&src).with_context(|| src.display().to_string())?;
        if std::fs::read(&dst).is_ok_and(|c| c == content) {
            continue;
        }
        if let Some(dir) = dst.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&dst, &content).with_context(|| dst.display().to_string())?;
        let modified = std::fs::metadata(&src)?.modified()?;
        std::fs::File::options()
            .write(true)
            .open(&dst)?
            .set_modified(modified)?;
    }
    Ok(())
}

/// Folders under `to` that `from` does not have, removed (the skipped
/// ones aside).
fn remove_extra_folders(from: &Path, to: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(to) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if !entry.file_type()?.is_dir() || SKIPPED.iter().any(|s| name == *s) {
            continue;
        }
        if from.join(&name).is_dir() {
            remove_extra_folders(&from.join(&name), &entry.path())?;
        } else {
            std::fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// The files `new-provider` and `regen` may write: the provider's own, and
/// one registration each in the lists that name every provider.
fn may_change(file: &Path) -> bool {
    let f = file.to_string_lossy().replace('\\', "/");
    f == format!("specs/{PROVIDER}.yaml")
        || f.starts_with(&format!("sdks/{PROVIDER}/"))
        || f == format!("sdks/sandbox/src/providers/{PROVIDER}.rs")
        || [
            "sdks/sandbox/src/providers/mod.rs",
            "payauth/Cargo.toml",
            "payauth/src/providers.rs",
            "ARCHITECTURE.md",
        ]
        .contains(&f.as_str())
}

/// No file outside [`may_change`] differs between the workspace and the
/// scaffolded copy.
fn only_the_provider_changed(root: &Path, copy: &Path) -> Result<()> {
    let mut changed = Vec::new();
    for file in files(copy)? {
        let original = std::fs::read(root.join(&file)).ok();
        if original.as_deref() != Some(std::fs::read(copy.join(&file))?.as_slice()) {
            changed.push(file);
        }
    }
    let unexpected: Vec<_> = changed.iter().filter(|f| !may_change(f)).collect();
    if !unexpected.is_empty() {
        bail!(
            "new-provider or regen changed files outside the provider's own and its registrations: {unexpected:?}"
        );
    }
    eprintln!(
        "changed or added: {}",
        changed
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// Files whose content is what it was after the last run get that run's
/// modification time back (the scaffold rewrote them); the times are kept
/// in `record` for the next run.
fn keep_unchanged_times(dir: &Path, record: &Path) -> Result<()> {
    let last: BTreeMap<String, (u64, u128)> = std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let (path, hash, nanos) = (cols.next()?, cols.next()?, cols.next()?);
            Some((path.to_string(), (hash.parse().ok()?, nanos.parse().ok()?)))
        })
        .collect();
    let mut now = String::new();
    for file in files(dir)? {
        let path = dir.join(&file);
        let mut hasher = DefaultHasher::new();
        std::fs::read(&path)?.hash(&mut hasher);
        let hash = hasher.finish();
        let key = file.to_string_lossy().into_owned();
        let mut modified = std::fs::metadata(&path)?.modified()?;
        if let Some(&(was, nanos)) = last.get(&key)
            && was == hash
        {
            let then = UNIX_EPOCH + std::time::Duration::from_nanos(nanos.try_into().unwrap_or(0));
            if then != modified {
                std::fs::File::options()
                    .write(true)
                    .open(&path)?
                    .set_modified(then)?;
                modified = then;
            }
        }
        let nanos = modified
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        now.push_str(&format!("{key}\t{hash}\t{nanos}\n"));
    }
    std::fs::write(record, now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_read_from_cargos_summary_lines() {
        let out = "   Compiling payauth-sandbox v0.1.0\nwarning: missing documentation for a struct field\n  --> x.rs:1:1\nwarning: `payauth-demo_oauth` (lib) generated 4 warnings\nwarning: `payauth-sandbox` (lib) generated 1 warning\n    Finished `test` profile\n";
        assert_eq!(
            warned_crates(out),
            ["payauth-demo_oauth", "payauth-sandbox"]
        );
        assert!(warned_crates("    Finished `test` profile\n").is_empty());
    }

    #[test]
    fn only_the_providers_files_and_its_registrations_may_change() {
        for ok in [
            "specs/demo_oauth.yaml",
            "sdks/demo_oauth/src/generated.rs",
            "sdks/sandbox/src/providers/demo_oauth.rs",
            "sdks/sandbox/src/providers/mod.rs",
            "payauth/src/providers.rs",
            "ARCHITECTURE.md",
        ] {
            assert!(may_change(Path::new(ok)), "{ok}");
        }
        for not in [
            "README.md",
            "Cargo.toml",
            "sdks/runtime/src/lib.rs",
            "sdks/sandbox/src/providers/pledg.rs",
            "specs/pledg.yaml",
            "tests/src/support.rs",
        ] {
            assert!(!may_change(Path::new(not)), "{not}");
        }
    }

    #[test]
    fn a_mirror_copies_changes_removes_extras_and_keeps_equal_files() {
        let base = std::env::temp_dir().join(format!("xtask-mirror-{}", std::process::id()));
        let (from, to) = (base.join("from"), base.join("to"));
        for d in [&from.join("a"), &from.join("target"), &to.join("a")] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(from.join("a/same.txt"), "same").unwrap();
        std::fs::write(from.join("a/new.txt"), "new").unwrap();
        std::fs::write(from.join("target/built"), "skipped").unwrap();
        std::fs::write(to.join("a/same.txt"), "same").unwrap();
        std::fs::write(to.join("a/extra.txt"), "extra").unwrap();
        std::fs::create_dir_all(to.join("gone/deeper")).unwrap();
        std::fs::write(to.join("gone/deeper/file.txt"), "gone").unwrap();
        let old = UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options()
            .write(true)
            .open(to.join("a/same.txt"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        mirror(&from, &to).unwrap();
        assert!(
            !to.join("gone").exists(),
            "a folder `from` lacks is removed"
        );
        assert_eq!(
            files(&to).unwrap(),
            [Path::new("a/new.txt"), Path::new("a/same.txt")]
        );
        let same = std::fs::metadata(to.join("a/same.txt")).unwrap();
        assert_eq!(same.modified().unwrap(), old, "an equal file is left alone");
        // A rewritten file with the recorded content gets its time back.
        let record = base.join("times.tsv");
        keep_unchanged_times(&to, &record).unwrap();
        std::fs::write(to.join("a/same.txt"), "same").unwrap();
        keep_unchanged_times(&to, &record).unwrap();
        let same = std::fs::metadata(to.join("a/same.txt")).unwrap();
        assert_eq!(same.modified().unwrap(), old);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
