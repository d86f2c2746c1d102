//! `cargo xtask regen` and `cargo xtask public-api`: the files the
//! workspace generates from its own sources, written or checked.

use anyhow::{Result, bail};

/// Regenerate `sdks/<provider>/src/generated.rs` (and the README's list
/// of assumptions) from the specs; with `check`, write nothing and fail
/// when a file is stale. An empty `providers` means all.
pub fn regen(check: bool, providers: &[String]) -> Result<()> {
    let mode = if check {
        codegen::Mode::Check
    } else {
        codegen::Mode::Write
    };
    let report = codegen::regen(&codegen::workspace_root(), providers, mode)?;
    if check && !report.stale.is_empty() {
        bail!("{report}");
    }
    println!("{report}");
    Ok(())
}

/// `api/<crate>.txt`: the public API of each publishable crate (`publish`
/// not `false` in its manifest), listed
/// from its source (`codegen::public_api`), so a change to it shows in
/// review.
pub fn public_api(check: bool) -> Result<()> {
    let root = codegen::workspace_root();
    let mut stale = Vec::new();
    for krate in codegen::publishable(&root)? {
        let wanted = codegen::public_api::listing(&root, &krate.name, &krate.lib, &krate.dir)
            .map_err(anyhow::Error::msg)?;
        let path = codegen::public_api::listing_path(&root, &krate.name);
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
