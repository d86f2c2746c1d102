//! `cargo xtask layers`: no import circle between the files of any
//! workspace crate, and no import up a crate's declared layers.
//!
//! Each crate's `src/**/*.rs` is read from its roots through its `mod`
//! declarations (`module_tree`; `generated.rs` and `#[cfg(test)]` code
//! left out); every `use` and every path that starts at `crate`, `self`,
//! `super` or a child module (`references`) is resolved to the file that
//! defines what it names, through re-exports (`resolve`); the file → file
//! graph's strongly connected components of two files or more are the
//! circles (`file_graph`), and a crate with a `layers.toml` gets its
//! imports checked against it (`layer_order`). A `mod x;` alone is no
//! import; `pub use x::Y` and `use super::Y` are.
//!
//! Hand-rolled over `syn` (which the workspace builds anyway): the tools
//! that exist do a part of it and each would be one more binary to install
//! and pin — cargo-modules' `dependencies --acyclic` (rust-analyzer-based,
//! one crate per run, no declared order), cargo-cycles and rust_arkitect
//! (module-level cycles or per-module allow-lists, not an ordered layer
//! file), arch_test_core (AGPL-3.0, last released in 2021 on a
//! rust-analyzer syntax tree that predates edition 2024). None reports a
//! circle as files with the names that tie them, which is what someone
//! removing it needs.

mod file_graph;
mod layer_order;
mod module_tree;
mod references;
mod report;
mod resolve;
mod syntax;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};

use report::{check_crate, verdict};

/// Import circles that exist today and are being taken apart (the
/// runtime's layers, the sandbox's providers as plug-ins); each entry is
/// one circle's files, relative to the workspace root. The check fails on
/// a circle not listed here, and on an entry whose circle no longer exists
/// exactly as listed: the list only shrinks. Empty it when the last one is
/// gone.
pub const ALLOWED_CIRCLES: &[&[&str]] = &[];

/// Read every workspace crate, check it, print what was found, and fail
/// on anything not allowed.
pub fn run() -> Result<()> {
    let started = Instant::now();
    let root = codegen::workspace_root();
    let members = codegen::members(&root)?;
    let mut reports = Vec::new();
    for member in &members {
        let dir = root.join(&member.dir);
        let sources = read_sources(&dir)?;
        let layers = std::fs::read_to_string(dir.join(layer_order::FILE)).ok();
        reports.push(check_crate(
            &member.name,
            &member.dir,
            &sources,
            &member.roots,
            layers.as_deref(),
        ));
    }
    let outcome = verdict(&reports, ALLOWED_CIRCLES);
    let took = started.elapsed();
    let files: usize = reports.iter().map(|r| r.files).sum();
    let imports: usize = reports.iter().map(|r| r.imports).sum();
    match outcome {
        Ok(text) => {
            print!("{text}");
            println!(
                "layers: {} crates, {files} files, {imports} imports between files: no circle or upward import beyond the allowed ({:.2} s)",
                reports.len(),
                took.as_secs_f64()
            );
            Ok(())
        }
        Err(text) => bail!("{text}"),
    }
}

/// Print every import between the files of the crate named `krate`
/// (`cargo xtask layers --imports payauth-runtime`), for whoever writes its
/// `layers.toml` or takes a circle apart.
pub fn print_imports(krate: &str) -> Result<()> {
    let root = codegen::workspace_root();
    let members = codegen::members(&root)?;
    let Some(member) = members.iter().find(|m| m.name == krate) else {
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        bail!(
            "no workspace crate `{krate}` (there are: {})",
            names.join(", ")
        );
    };
    let sources = read_sources(&root.join(&member.dir))?;
    let tree = module_tree::ModuleTree::build(&sources, &member.roots);
    for ((from, to), names) in file_graph::imports(&tree) {
        let names: Vec<String> = names.into_iter().collect();
        println!(
            "{} → {} ({})",
            from.display(),
            to.display(),
            names.join(", ")
        );
    }
    Ok(())
}

/// Every `.rs` file under `dir/src`, by its path relative to `dir`.
fn read_sources(dir: &Path) -> Result<module_tree::Sources> {
    let mut sources = module_tree::Sources::new();
    let mut pending = vec![dir.join("src")];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative: PathBuf = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
                sources.insert(relative, std::fs::read_to_string(&path)?);
            }
        }
    }
    Ok(sources)
}

#[cfg(test)]
mod fixture_tests;
