//! `cargo xtask docs`: the publishable crates' documentation built as
//! docs.rs builds it (`--cfg docsrs`, every feature), failing on any
//! rustdoc warning — a broken intra-doc link, a bare URL, an invalid code
//! block — and on a public item without docs.

use std::process::Command;

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
    let mut args = vec!["doc", "--no-deps", "--all-features"];
    for krate in &publishable {
        args.extend(["-p", krate.name.as_str()]);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let me = std::env::current_exe().context("where is this xtask binary?")?;
    let rustdoc = std::env::var("RUSTDOC").unwrap_or_else(|_| "rustdoc".to_string());
    eprintln!(
        "\n$ RUSTDOCFLAGS=\"{RUSTDOCFLAGS}\" cargo {} (rustdoc with RUSTC_BOOTSTRAP=1)",
        args.join(" ")
    );
    let status = Command::new(&cargo)
        .args(&args)
        .env("RUSTDOCFLAGS", RUSTDOCFLAGS)
        .env("RUSTDOC", &me)
        .env(REAL_RUSTDOC, rustdoc)
        .current_dir(&root)
        .status()
        .with_context(|| format!("could not run `cargo {}`", args.join(" ")))?;
    if !status.success() {
        bail!(
            "the documentation has warnings or undocumented public items ({status}): \
             every public item says what it is for, and links resolve"
        );
    }
    Ok(())
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
