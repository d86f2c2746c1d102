//! A path written in a module → the module (and so the file) that defines
//! what it names.
//!
//! `crate::`, `self::`, `super::` and a child module's name start in this
//! crate; so does a name the module bound with `use`. Any other path
//! (`std::…`, `serde::…`, a local type's `Foo::new`) is another crate's or
//! the module's own, and no import between files. The path then goes down
//! the module tree as far as its segments name modules; the next segment
//! is the item. When that module does not define the item but re-exports
//! it (`pub use error::Error;` in `lib.rs`), the re-export is followed to
//! the module that does: `crate::Error` written in `retry.rs` imports
//! `error/mod.rs`, not `lib.rs` (which imports `error/mod.rs` itself, by
//! its `pub use`).

use super::module_tree::ModuleTree;

/// What a path names: a module, and the item in it (`None` for the
/// module itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub module: usize,
    pub item: Option<String>,
}

/// How many `use` bindings one resolution may follow (a re-export of a
/// re-export …); deeper is a loop.
const MAX_HOPS: usize = 16;

/// Resolve `path`, written in module `from`: what it names, one target
/// per alternative (a name bound twice under exclusive `#[cfg]`s names
/// both); empty when it is not this crate's.
pub fn resolve(tree: &ModuleTree, from: usize, path: &[String]) -> Vec<Target> {
    let mut out = Vec::new();
    resolve_into(tree, from, path, 0, &mut out);
    out.dedup();
    out
}

fn resolve_into(
    tree: &ModuleTree,
    from: usize,
    path: &[String],
    hops: usize,
    out: &mut Vec<Target>,
) {
    if hops > MAX_HOPS {
        return;
    }
    let modules = &tree.modules;
    let Some(first) = path.first() else {
        return;
    };
    let (mut at, mut i) = match first.as_str() {
        "crate" | "$crate" => (tree.root_of(from), 1),
        "self" => (from, 1),
        "super" => {
            let mut at = from;
            let mut i = 0;
            while path.get(i).is_some_and(|s| s == "super") {
                let Some(parent) = modules[at].parent else {
                    return;
                };
                at = parent;
                i += 1;
            }
            (at, i)
        }
        name => {
            if let Some(&child) = modules[from].children.get(name) {
                (child, 1)
            } else if let Some(bound) = modules[from].bindings.get(name) {
                for alternative in bound {
                    let full: Vec<String> = alternative.iter().chain(&path[1..]).cloned().collect();
                    resolve_into(tree, from, &full, hops + 1, out);
                }
                return;
            } else {
                // A name brought in by `use x::*;`: through each glob
                // whose module has it.
                for glob in &modules[from].globs {
                    if glob_knows(tree, from, glob, name, hops) {
                        let full: Vec<String> = glob.iter().chain(path).cloned().collect();
                        resolve_into(tree, from, &full, hops + 1, out);
                    }
                }
                return;
            }
        }
    };
    while let Some(&child) = path.get(i).and_then(|s| modules[at].children.get(s)) {
        at = child;
        i += 1;
    }
    let Some(item) = path.get(i) else {
        out.push(Target {
            module: at,
            item: None,
        });
        return;
    };
    let module = &modules[at];
    let here = Target {
        module: at,
        item: Some(item.clone()),
    };
    if module.opaque || module.defines.contains(item) {
        out.push(here);
        return;
    }
    if let Some(bound) = module.bindings.get(item) {
        // A re-export: where it comes from (another crate's: no import).
        for alternative in bound {
            let full: Vec<String> = alternative.iter().chain(&path[i + 1..]).cloned().collect();
            resolve_into(tree, at, &full, hops + 1, out);
        }
        return;
    }
    let mut through_glob = false;
    for glob in &module.globs {
        if glob_knows(tree, at, glob, item, hops) {
            let full: Vec<String> = glob.iter().chain(&path[i..]).cloned().collect();
            resolve_into(tree, at, &full, hops + 1, out);
            through_glob = true;
        }
    }
    if !through_glob {
        // Not found by name (made by a macro, say): the module's own.
        out.push(here);
    }
}

/// Whether `use glob::*;` in module `at` brings `name` in.
fn glob_knows(tree: &ModuleTree, at: usize, glob: &[String], name: &str, hops: usize) -> bool {
    let mut sources = Vec::new();
    resolve_into(tree, at, glob, hops + 1, &mut sources);
    sources
        .iter()
        .any(|source| source.item.is_none() && knows(tree, source.module, name))
}

/// Whether module `id` has `name` as a child, an item or a binding.
fn knows(tree: &ModuleTree, id: usize, name: &str) -> bool {
    let m = &tree.modules[id];
    m.children.contains_key(name) || m.defines.contains(name) || m.bindings.contains_key(name)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::module_tree::{ModuleTree, Sources};
    use super::*;

    fn tree(files: &[(&str, &str)]) -> ModuleTree {
        let sources: Sources = files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect();
        ModuleTree::build(&sources, &[PathBuf::from("src/lib.rs")])
    }

    fn file_of(tree: &ModuleTree, from: &str, path: &str) -> Option<String> {
        let from = tree
            .modules
            .iter()
            .position(|m| m.file == Path::new(from) && !m.inline)?;
        let path: Vec<String> = path.split("::").map(str::to_string).collect();
        let targets = resolve(tree, from, &path);
        assert!(targets.len() <= 1, "{targets:?}");
        let target = targets.first()?;
        Some(tree.modules[target.module].file.display().to_string())
    }

    #[test]
    fn paths_reach_the_file_that_defines_the_item() {
        let t = tree(&[
            (
                "src/lib.rs",
                "mod a; mod b; pub use a::Thing; pub use b::*; pub use std::fmt::Debug;",
            ),
            ("src/a/mod.rs", "mod inner; pub use inner::Thing;"),
            ("src/a/inner.rs", "pub struct Thing;"),
            (
                "src/b.rs",
                "pub fn helper() {} mod c { pub fn deep() {} } use crate::a as alias;",
            ),
        ]);
        // Through two re-exports to the definition.
        assert_eq!(
            file_of(&t, "src/b.rs", "crate::Thing").as_deref(),
            Some("src/a/inner.rs")
        );
        // Through a glob re-export.
        assert_eq!(
            file_of(&t, "src/a/inner.rs", "crate::helper").as_deref(),
            Some("src/b.rs")
        );
        // Up, down, and through a `use … as`.
        assert_eq!(
            file_of(&t, "src/a/inner.rs", "super::super::b::helper").as_deref(),
            Some("src/b.rs")
        );
        assert_eq!(
            file_of(&t, "src/b.rs", "alias::inner::Thing").as_deref(),
            Some("src/a/inner.rs")
        );
        // An inline module lives in its parent's file.
        assert_eq!(
            file_of(&t, "src/lib.rs", "b::c::deep").as_deref(),
            Some("src/b.rs")
        );
        // Another crate's, through a re-export or not: no import.
        assert_eq!(file_of(&t, "src/b.rs", "crate::Debug"), None);
        assert_eq!(file_of(&t, "src/b.rs", "std::fmt::Debug"), None);
        assert_eq!(file_of(&t, "src/b.rs", "Thing::new"), None);
    }

    #[test]
    fn a_name_bound_under_two_cfgs_names_both_files() {
        let t = tree(&[
            (
                "src/lib.rs",
                "#[cfg(feature = \"x\")] mod on; #[cfg(feature = \"x\")] pub use on::Thing;\n\
                 #[cfg(not(feature = \"x\"))] mod off; #[cfg(not(feature = \"x\"))] pub use off::Thing;\n\
                 mod user;",
            ),
            ("src/on.rs", "pub struct Thing;"),
            ("src/off.rs", "pub struct Thing;"),
            ("src/user.rs", "use crate::Thing;"),
        ]);
        let user = t
            .modules
            .iter()
            .position(|m| m.file == Path::new("src/user.rs"))
            .unwrap();
        let files: Vec<String> = resolve(&t, user, &["crate".into(), "Thing".into()])
            .iter()
            .map(|target| t.modules[target.module].file.display().to_string())
            .collect();
        assert_eq!(files, ["src/on.rs", "src/off.rs"]);
    }

    #[test]
    fn a_loop_of_re_exports_ends() {
        let t = tree(&[
            ("src/lib.rs", "mod a; mod b;"),
            ("src/a.rs", "pub use crate::b::X;"),
            ("src/b.rs", "pub use crate::a::X;"),
        ]);
        assert_eq!(file_of(&t, "src/lib.rs", "a::X"), None);
    }
}
