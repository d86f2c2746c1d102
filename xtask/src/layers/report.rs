//! One crate checked, and the verdict over all of them with the allowed
//! circles taken out, as text a person can act on.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::file_graph::{self, FileGraph};
use super::layer_order::{self, LayerProblems, Layers};
use super::module_tree::{ModuleTree, Sources};

/// What the check found in one crate; paths are relative to the
/// workspace root.
#[derive(Debug)]
pub struct CrateReport {
    pub name: String,
    /// Files read (`generated.rs` counted, not read).
    pub files: usize,
    /// Distinct file → file imports.
    pub imports: usize,
    pub circles: Vec<Circle>,
    /// `None` when the crate declares no layers.
    pub layers: Option<LayerProblems>,
    /// Files that do not parse, a `layers.toml` that does not read.
    pub errors: Vec<String>,
}

/// Files that import each other in a circle, and what ties them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Circle {
    pub files: BTreeSet<PathBuf>,
    /// `(from, to, names)` for every import inside the circle.
    pub ties: Vec<(PathBuf, PathBuf, BTreeSet<String>)>,
}

/// Check one crate: `dir` (relative to the workspace root) holds
/// `sources` (relative to `dir`), `roots` its lib/bin root files,
/// `layers` the text of its `layers.toml` if it has one.
pub fn check_crate(
    name: &str,
    dir: &Path,
    sources: &Sources,
    roots: &[PathBuf],
    layers: Option<&str>,
) -> CrateReport {
    let tree = ModuleTree::build(sources, roots);
    let graph = file_graph::imports(&tree);
    let mut errors: Vec<String> = tree
        .unparsable
        .iter()
        .map(|(file, message)| {
            format!(
                "{}: not Rust syn can read: {message}",
                dir.join(file).display()
            )
        })
        .collect();
    let layers = layers.and_then(|text| match Layers::parse(text) {
        Ok(layers) => Some(layer_order::check(&layers, &tree, &graph)),
        Err(e) => {
            errors.push(format!("{}: {e}", dir.join(layer_order::FILE).display()));
            None
        }
    });
    let files: BTreeSet<&PathBuf> = tree.modules.iter().map(|m| &m.file).collect();
    CrateReport {
        name: name.to_string(),
        files: files.len(),
        imports: graph.len(),
        circles: circles(&graph, dir),
        layers: layers.map(|l| in_workspace(l, dir)),
        errors,
    }
}

fn circles(graph: &FileGraph, dir: &Path) -> Vec<Circle> {
    file_graph::circles(graph)
        .into_iter()
        .map(|files| Circle {
            ties: graph
                .iter()
                .filter(|((from, to), _)| files.contains(from) && files.contains(to))
                .map(|((from, to), names)| (dir.join(from), dir.join(to), names.clone()))
                .collect(),
            files: files.iter().map(|f| dir.join(f)).collect(),
        })
        .collect()
}

fn in_workspace(mut problems: LayerProblems, dir: &Path) -> LayerProblems {
    for up in &mut problems.upward {
        up.from = dir.join(&up.from);
        up.to = dir.join(&up.to);
    }
    for file in &mut problems.unplaced {
        *file = dir.join(&*file);
    }
    problems
}

/// The verdict over `reports`: `Ok` with what to print, or `Err` with
/// every problem. `allowed` circles (file sets) pass, but each must still
/// exist exactly.
pub fn verdict(reports: &[CrateReport], allowed: &[&[&str]]) -> Result<String, String> {
    let allowed: Vec<BTreeSet<PathBuf>> = allowed
        .iter()
        .map(|files| files.iter().map(PathBuf::from).collect())
        .collect();
    let mut ok = String::new();
    let mut bad = String::new();
    for report in reports {
        let name = &report.name;
        for error in &report.errors {
            let _ = writeln!(bad, "{name}: {error}");
        }
        for circle in &report.circles {
            let listed = allowed.contains(&circle.files);
            let out = if listed { &mut ok } else { &mut bad };
            let _ = writeln!(
                out,
                "{name}: import circle of {} files{}:",
                circle.files.len(),
                if listed {
                    " (allowed while it is being taken apart)"
                } else {
                    ""
                }
            );
            for (from, to, names) in &circle.ties {
                let _ = writeln!(
                    out,
                    "    {} → {} ({})",
                    from.display(),
                    to.display(),
                    join(names)
                );
            }
        }
        let Some(layers) = &report.layers else {
            continue;
        };
        for up in &layers.upward {
            let to_layer = up
                .to_layer
                .map_or("the crate root".to_string(), |l| format!("layer {l}"));
            let _ = writeln!(
                bad,
                "{name}: upward import: {} (layer {}) → {} ({to_layer}): {}",
                up.from.display(),
                up.from_layer,
                up.to.display(),
                join(&up.names)
            );
        }
        for file in &layers.unplaced {
            let _ = writeln!(
                bad,
                "{name}: {} is in no layer of its crate's {}: add its module to one",
                file.display(),
                layer_order::FILE
            );
        }
        for entry in &layers.unknown {
            let _ = writeln!(
                bad,
                "{name}: {} names `{entry}`, which is no module of the crate",
                layer_order::FILE
            );
        }
    }
    let found: Vec<&BTreeSet<PathBuf>> = reports
        .iter()
        .flat_map(|r| r.circles.iter().map(|c| &c.files))
        .collect();
    for gone in allowed.iter().filter(|a| !found.contains(a)) {
        let files: Vec<String> = gone.iter().map(|f| f.display().to_string()).collect();
        let _ = writeln!(
            bad,
            "an allowed import circle no longer exists as listed; take it out of ALLOWED_CIRCLES (xtask/src/layers/mod.rs): {}",
            files.join(", ")
        );
    }
    if bad.is_empty() { Ok(ok) } else { Err(bad) }
}

fn join(names: &BTreeSet<String>) -> String {
    names.iter().cloned().collect::<Vec<_>>().join(", ")
}
