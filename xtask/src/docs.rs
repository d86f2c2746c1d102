//! `cargo xtask docs`: the publishable crates' documentation built as
//! docs.rs builds it (`--cfg docsrs`, every feature), failing on any
//! rustdoc warning — a broken intra-doc link, a bare URL, an invalid code
//! block — and on a public item without docs.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Where the docs.rs-style build keeps its artifacts. Not the shared
/// `target/`: the build sets `RUSTC_BOOTSTRAP`, which build scripts of
/// dependencies watch (proc-macro2's among them): in the shared directory
/// every later build would compile the whole tree again, and so would
/// this one after it.
const TARGET_DIR: &str = "target/docsrs";

/// The flags of the build: docs.rs's `--cfg docsrs`, every warning an
/// error, and `missing_docs` denied whatever a crate's own level.
pub const RUSTDOCFLAGS: &str = "--cfg docsrs -D warnings -D missing_docs";

/// `cargo doc --no-deps --all-features` of every publishable crate with
/// [`RUSTDOCFLAGS`].
///
/// docs.rs builds with a nightly rustdoc, where the crates' roots turn on
/// `feature(doc_cfg)` (`#![cfg_attr(docsrs, feature(doc_cfg))]`) so that
/// a feature-gated item says which feature it needs. The workspace's
/// stable toolchain runs the same build with `RUSTC_BOOTSTRAP=1`, which
/// lets it accept that feature gate; any other build leaves `docsrs`
/// unset and never sees the gate.
pub fn check() -> Result<()> {
    let root = codegen::workspace_root();
    let publishable = codegen::publishable(&root)?;
    let mut args = vec![
        "doc",
        "--no-deps",
        "--all-features",
        "--target-dir",
        TARGET_DIR,
    ];
    for krate in &publishable {
        args.extend(["-p", krate.name.as_str()]);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    eprintln!(
        "\n$ RUSTC_BOOTSTRAP=1 RUSTDOCFLAGS=\"{RUSTDOCFLAGS}\" cargo {}",
        args.join(" ")
    );
    let status = Command::new(&cargo)
        .args(&args)
        .env("RUSTDOCFLAGS", RUSTDOCFLAGS)
        .env("RUSTC_BOOTSTRAP", "1")
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
