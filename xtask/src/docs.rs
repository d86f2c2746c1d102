//! `cargo xtask docs`: the publishable crates' documentation built as
//! docs.rs builds it (`--cfg docsrs`, every feature), failing on any
//! rustdoc warning — a broken intra-doc link, a bare URL, an invalid code
//! block — and on a public item without docs.

use std::path::Path;
use std::process::{Command, ExitStatus};

use anyhow::{Context, Result, bail};

/// Set (to the real rustdoc) when cargo runs this binary as its rustdoc:
/// see [`as_rustdoc`].
const REAL_RUSTDOC: &str = "XTASK_REAL_RUSTDOC";

/// The flags of the build: docs.rs's `--cfg docsrs`, every warning an
/// error, and `missing_docs` denied whatever a crate's own level.
pub const RUSTDOCFLAGS: &str = "--cfg docsrs -D warnings -D missing_docs";

/// `cargo doc --no-deps --all-features` of every publishable crate with
/// [`RUSTDOCFLAGS`], in the shared `target/`.
///
/// docs.rs builds with a nightly rustdoc, where the crates' roots turn on
/// `feature(doc_cfg)` (`#![cfg_attr(docsrs, feature(doc_cfg))]`) so that
/// a feature-gated item says which feature it needs. The workspace's
/// stable rustdoc accepts that gate with `RUSTC_BOOTSTRAP=1`; it is given
/// to rustdoc alone (this binary is cargo's `RUSTDOC` and adds it, see
/// [`as_rustdoc`]), never to cargo: build scripts of dependencies watch
/// `RUSTC_BOOTSTRAP` (proc-macro2's among them), and setting it for the
/// whole build would compile the tree again, then again at the next
/// ordinary build. So the dependencies' metadata is the one clippy and
/// the tests already built.
pub fn check() -> Result<()> {
    let root = codegen::workspace_root();
    let publishable = codegen::publishable(&root)?;
    let names: Vec<&str> = publishable.iter().map(|k| k.name.as_str()).collect();
    let me = std::env::current_exe().context("where is this xtask binary?")?;
    let status = doc(&root, &names, Some(&me), None)?;
    if !status.success() {
        bail!(
            "the documentation has warnings or undocumented public items ({status}): \
             every public item says what it is for, and links resolve"
        );
    }
    Ok(())
}

/// `cargo doc --no-deps --all-features -p …` of `packages` in the
/// workspace at `root` with [`RUSTDOCFLAGS`]; rustdoc through `wrapper`
/// (this binary, see [`as_rustdoc`]) when given, and artifacts in
/// `target_dir` when given.
fn doc(
    root: &Path,
    packages: &[&str],
    wrapper: Option<&Path>,
    target_dir: Option<&Path>,
) -> Result<ExitStatus> {
    let mut args = vec!["doc", "--no-deps", "--all-features"];
    for krate in packages {
        args.extend(["-p", krate]);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let rustdoc = std::env::var("RUSTDOC").unwrap_or_else(|_| "rustdoc".to_string());
    eprintln!(
        "\n$ RUSTDOCFLAGS=\"{RUSTDOCFLAGS}\" cargo {} (rustdoc with RUSTC_BOOTSTRAP=1)",
        args.join(" ")
    );
    let mut command = Command::new(&cargo);
    command
        .args(&args)
        .env("RUSTDOCFLAGS", RUSTDOCFLAGS)
        .current_dir(root);
    if let Some(wrapper) = wrapper {
        command.env("RUSTDOC", wrapper).env(REAL_RUSTDOC, rustdoc);
    }
    if let Some(dir) = target_dir {
        command.env("CARGO_TARGET_DIR", dir);
    }
    command
        .status()
        .with_context(|| format!("could not run `cargo {}`", args.join(" ")))
}

/// When cargo runs this binary as its rustdoc (from [`check`]): run the
/// real rustdoc with the same arguments and `RUSTC_BOOTSTRAP=1`, and exit
/// as it does. `None` in any other run.
pub fn as_rustdoc() -> Option<std::process::ExitCode> {
    let real = std::env::var_os(REAL_RUSTDOC)?;
    let status = Command::new(real)
        .args(std::env::args_os().skip(1))
        .env_remove(REAL_RUSTDOC)
        .env("RUSTC_BOOTSTRAP", "1")
        .status();
    Some(match status {
        Ok(s) if s.success() => std::process::ExitCode::SUCCESS,
        Ok(s) => std::process::ExitCode::from(u8::try_from(s.code().unwrap_or(1)).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: could not run rustdoc: {e}");
            std::process::ExitCode::FAILURE
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-file crate in a scratch directory, documented with the
    /// check's flags: whether the build passes.
    fn documents_cleanly(lib: &str) -> bool {
        let dir = std::env::temp_dir().join(format!(
            "xtask-docs-{}-{:x}",
            std::process::id(),
            lib.bytes()
                .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        ));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"docs_fixture\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[workspace]\n",
        )
        .unwrap();
        std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
        let status = doc(&dir, &["docs_fixture"], None, Some(&dir.join("target"))).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        status.success()
    }

    #[test]
    fn a_missing_doc_or_a_broken_link_fails_and_clean_docs_pass() {
        assert!(documents_cleanly(
            "//! A crate.\n\n/// Adds one to [`u32`] values.\npub fn add_one(x: u32) -> u32 { x + 1 }\n"
        ));
        assert!(!documents_cleanly(
            "//! A crate.\n\npub fn undocumented() {}\n"
        ));
        assert!(!documents_cleanly(
            "//! A crate.\n\n/// See [`Nowhere`].\npub fn linked() {}\n"
        ));
        assert!(!documents_cleanly(
            "//! A crate, see https://example.com bare.\n\n/// Documented.\npub fn f() {}\n"
        ));
    }
}
