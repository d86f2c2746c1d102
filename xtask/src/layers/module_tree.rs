//! A crate's modules, found as the compiler finds them: from each root
//! file (`src/lib.rs`, `src/main.rs`, `src/bin/*.rs`) through its `mod`
//! declarations, each module with the file it lives in, the names it
//! defines, its `use` bindings and every path it writes.
//!
//! Left out: items under `#[cfg(test)]` (a test module may reach
//! anywhere), and the body of `generated.rs` (progenitor's output, never
//! edited by hand: the module is known, its content is not read).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::{Attribute, Item, Meta};

use super::references::{self, Reference};
use super::syntax::{Binding, test_only, unraw, use_leaves};

/// A crate's source files: path relative to the crate's directory → text.
pub type Sources = BTreeMap<PathBuf, String>;

/// The file never read.
const GENERATED: &str = "generated.rs";

/// One module (a file, or an inline `mod x { … }` inside one).
#[derive(Debug, Default)]
pub struct Module {
    /// Its path from the crate root (`["lint", "linter"]`; empty for a root).
    pub path: Vec<String>,
    /// The file it lives in, relative to the crate's directory.
    pub file: PathBuf,
    /// Whether it is declared inline in its parent's file.
    pub inline: bool,
    /// Whether its content was not read (`generated.rs`).
    pub opaque: bool,
    pub parent: Option<usize>,
    /// Child modules by name.
    pub children: BTreeMap<String, usize>,
    /// Names of the items it defines (functions, types, constants, …).
    pub defines: BTreeSet<String>,
    /// `use a::b::C as D;` → `D` → `[[a, b, C]]` (more than one when
    /// exclusive `#[cfg]`s bind the name each their way).
    pub bindings: BTreeMap<String, Vec<Vec<String>>>,
    /// `use a::b::*;` → `[a, b]`.
    pub globs: Vec<Vec<String>>,
    /// Every path the module writes that may name another module.
    pub references: Vec<Reference>,
}

/// Every module of a crate, its roots first.
#[derive(Debug, Default)]
pub struct ModuleTree {
    pub modules: Vec<Module>,
    /// Files that could not be read as Rust, with the parser's message.
    pub unparsable: Vec<(PathBuf, String)>,
}

impl ModuleTree {
    /// The modules reachable from `roots` in `sources`.
    pub fn build(sources: &Sources, roots: &[PathBuf]) -> ModuleTree {
        let mut tree = ModuleTree::default();
        for root in roots {
            if sources.contains_key(root) {
                tree.load(sources, root, Vec::new(), None);
            }
        }
        tree
    }

    /// The crate root of module `id`.
    pub fn root_of(&self, mut id: usize) -> usize {
        while let Some(parent) = self.modules[id].parent {
            id = parent;
        }
        id
    }

    fn add(&mut self, module: Module) -> usize {
        self.modules.push(module);
        self.modules.len() - 1
    }

    fn load(
        &mut self,
        sources: &Sources,
        file: &Path,
        path: Vec<String>,
        parent: Option<usize>,
    ) -> usize {
        let opaque = file.file_name().is_some_and(|n| n == GENERATED);
        let id = self.add(Module {
            path,
            file: file.to_path_buf(),
            opaque,
            parent,
            ..Module::default()
        });
        if opaque {
            return id;
        }
        let Some(text) = sources.get(file) else {
            return id;
        };
        match syn::parse_file(text) {
            Ok(parsed) => {
                let dir = children_dir(file, parent.is_none());
                self.fill(sources, id, &parsed.items, &dir);
            }
            Err(e) => self.unparsable.push((file.to_path_buf(), e.to_string())),
        }
        id
    }

    /// Record `items` as the content of module `id`, whose file children
    /// live in `dir`.
    fn fill(&mut self, sources: &Sources, id: usize, items: &[Item], dir: &Path) {
        for item in items {
            if test_only(attributes(item)) {
                continue;
            }
            match item {
                Item::Mod(m) => {
                    let name = unraw(&m.ident);
                    let mut path = self.modules[id].path.clone();
                    path.push(name.clone());
                    let child = match &m.content {
                        Some((_, inner)) => {
                            let child = self.add(Module {
                                path,
                                file: self.modules[id].file.clone(),
                                inline: true,
                                parent: Some(id),
                                ..Module::default()
                            });
                            self.fill(sources, child, inner, &dir.join(&name));
                            child
                        }
                        None => {
                            let file = module_file(sources, dir, &name, path_attribute(&m.attrs));
                            self.load(sources, &file, path, Some(id))
                        }
                    };
                    self.modules[id].children.insert(name, child);
                }
                // `use ::other_crate::…`: not this crate.
                Item::Use(u) if u.leading_colon.is_some() => {}
                Item::Use(u) => {
                    let mut leaves = Vec::new();
                    use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
                    for leaf in leaves {
                        let module = &mut self.modules[id];
                        match &leaf.binding {
                            Binding::Name(name) => {
                                module
                                    .bindings
                                    .entry(name.clone())
                                    .or_default()
                                    .push(leaf.path.clone());
                            }
                            Binding::Glob => module.globs.push(leaf.path.clone()),
                            Binding::Unnamed => {}
                        }
                        module.references.push(Reference {
                            glob: leaf.binding == Binding::Glob,
                            path: leaf.path,
                        });
                    }
                }
                other => {
                    if let Some(name) = defined_name(other) {
                        self.modules[id].defines.insert(name);
                    }
                    self.modules[id]
                        .references
                        .extend(references::in_item(other));
                }
            }
        }
    }
}

/// Where the files of a module's children are: beside a crate root or a
/// `mod.rs`, in a folder named after any other file.
fn children_dir(file: &Path, root: bool) -> PathBuf {
    let parent = file.parent().map(Path::to_path_buf).unwrap_or_default();
    if root || file.file_name().is_some_and(|n| n == "mod.rs") {
        parent
    } else {
        parent.join(file.file_stem().unwrap_or_default())
    }
}

/// The file of `mod name;` declared with children in `dir`: `#[path]`
/// when given, else `name.rs`, else `name/mod.rs`.
fn module_file(sources: &Sources, dir: &Path, name: &str, path: Option<String>) -> PathBuf {
    if let Some(path) = path {
        return normalise(&dir.join(path));
    }
    let flat = dir.join(format!("{name}.rs"));
    if sources.contains_key(&flat) {
        flat
    } else {
        dir.join(name).join("mod.rs")
    }
}

/// `a/b/../c.rs` → `a/c.rs`.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn path_attribute(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

fn attributes(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn defined_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Const(i) => &i.ident,
        Item::Enum(i) => &i.ident,
        Item::Fn(i) => &i.sig.ident,
        Item::Macro(i) => i.ident.as_ref()?,
        Item::Static(i) => &i.ident,
        Item::Struct(i) => &i.ident,
        Item::Trait(i) => &i.ident,
        Item::TraitAlias(i) => &i.ident,
        Item::Type(i) => &i.ident,
        Item::Union(i) => &i.ident,
        _ => return None,
    };
    Some(unraw(ident))
}
