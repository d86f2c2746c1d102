//! A crate's declared layers (`layers.toml` beside its `Cargo.toml`) and
//! the imports that go up them.
//!
//! ```toml
//! # bottom to top; a module may import from its own layer or any below
//! layers = [
//!     ["time", "secret", "error"],
//!     ["token"],
//!     ["call"],
//!     ["builder"],
//! ]
//! ```
//!
//! An entry is a module path (`token`, `lint::linter`) and places that
//! module and every module under it; the longest entry that matches
//! decides. The crate root (`lib.rs`, `main.rs`) is above every layer.
//! When a crate declares layers, every module must be placed: a new file
//! is put in its layer by whoever adds it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Deserialize;

use super::file_graph::FileGraph;
use super::module_tree::ModuleTree;

/// The file a crate declares its layers in.
pub const FILE: &str = "layers.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Declared {
    layers: Vec<Vec<String>>,
}

/// The layers, bottom first; each a list of module paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layers(pub Vec<Vec<Vec<String>>>);

impl Layers {
    /// Parse `layers.toml`'s text.
    pub fn parse(text: &str) -> Result<Layers, String> {
        let declared: Declared = toml::from_str(text).map_err(|e| e.to_string())?;
        Ok(Layers(
            declared
                .layers
                .into_iter()
                .map(|layer| {
                    layer
                        .into_iter()
                        .map(|entry| entry.split("::").map(str::to_string).collect())
                        .collect()
                })
                .collect(),
        ))
    }

    /// The layer of a module path: `Some(usize::MAX)` for a crate root,
    /// `None` when no entry places it.
    fn layer_of(&self, path: &[String]) -> Option<usize> {
        if path.is_empty() {
            return Some(usize::MAX);
        }
        self.0
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| layer.iter().map(move |entry| (i, entry)))
            .filter(|(_, entry)| path.starts_with(entry))
            .max_by_key(|(_, entry)| entry.len())
            .map(|(i, _)| i)
    }
}

/// What the layer check found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LayerProblems {
    /// Imports from a layer to one above it.
    pub upward: Vec<Upward>,
    /// Files of modules no entry places.
    pub unplaced: Vec<PathBuf>,
    /// Entries that name no module of the crate.
    pub unknown: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upward {
    pub from: PathBuf,
    pub from_layer: usize,
    pub to: PathBuf,
    /// `None` for the crate root.
    pub to_layer: Option<usize>,
    pub names: BTreeSet<String>,
}

/// Check `graph` (the imports of `tree`) against `layers`.
pub fn check(layers: &Layers, tree: &ModuleTree, graph: &FileGraph) -> LayerProblems {
    let mut problems = LayerProblems::default();
    // A file's layer is that of the module it is the file of.
    let mut layer_of_file: BTreeMap<&PathBuf, Option<usize>> = BTreeMap::new();
    for module in tree.modules.iter().filter(|m| !m.inline) {
        let layer = layers.layer_of(&module.path);
        if layer.is_none() {
            problems.unplaced.push(module.file.clone());
        }
        layer_of_file.insert(&module.file, layer);
    }
    for entry in layers.0.iter().flatten() {
        if !tree.modules.iter().any(|m| m.path == *entry) {
            problems.unknown.push(entry.join("::"));
        }
    }
    for ((from, to), names) in graph {
        let (Some(Some(from_layer)), Some(Some(to_layer))) =
            (layer_of_file.get(from), layer_of_file.get(to))
        else {
            continue;
        };
        if to_layer > from_layer {
            problems.upward.push(Upward {
                from: from.clone(),
                from_layer: *from_layer,
                to: to.clone(),
                to_layer: (*to_layer != usize::MAX).then_some(*to_layer),
                names: names.clone(),
            });
        }
    }
    problems.unplaced.sort();
    problems.unplaced.dedup();
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split("::").map(str::to_string).collect()
    }

    #[test]
    fn the_longest_entry_places_a_module() {
        let layers =
            Layers::parse("layers = [[\"lint::linter\", \"pointer\"], [\"lint\"]]").unwrap();
        assert_eq!(layers.layer_of(&path("lint::linter")), Some(0));
        assert_eq!(layers.layer_of(&path("lint::linter::deep")), Some(0));
        assert_eq!(layers.layer_of(&path("lint::rules")), Some(1));
        assert_eq!(layers.layer_of(&path("pointer")), Some(0));
        assert_eq!(layers.layer_of(&path("other")), None);
        assert_eq!(layers.layer_of(&[]), Some(usize::MAX));
    }

    #[test]
    fn a_file_that_is_not_a_list_of_layers_is_refused() {
        assert!(Layers::parse("layers = [\"flat\"]").is_err());
        assert!(Layers::parse("layer = [[\"a\"]]").is_err());
        assert!(Layers::parse("not toml [").is_err());
    }
}
