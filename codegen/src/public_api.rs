//! The public API of a crate, as a sorted text listing, so a change to it
//! shows in review (`api/<crate>.txt`, drift-checked by the tests).
//!
//! Hand-rolled over `syn` rather than `cargo-public-api`: that tool reads
//! rustdoc's JSON, which needs a nightly toolchain (this workspace builds
//! on stable only) and a tool version matched to the rustdoc JSON format.
//! This lister reads the source: every `pub` item of every module from
//! `src/lib.rs` (a private module's path is in parentheses: its items are
//! reached through the crate's `pub use`s) — functions and methods with their
//! signatures, types with their public fields and variants, traits with
//! their methods, constants, statics, re-exports, exported macros, trait
//! impls — one line each. The crates listed are the publishable ones
//! (`crate::publishable`). The providers' `generated` module is listed by
//! name only: the codegen snapshots (`tests/snapshots/`) review it whole.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::{ImplItem, Item, TraitItem, Visibility};

/// `api/<crate>.txt` under `root`.
pub fn listing_path(root: &Path, krate: &str) -> PathBuf {
    root.join("api").join(format!("{krate}.txt"))
}

/// The listing of the package `krate` in `dir` (its `src/lib.rs`),
/// relative to `root`; its paths start with the library's name `lib`
/// (`exirom` for the package `payauth-exirom`).
pub fn listing(root: &Path, krate: &str, lib: &str, dir: &Path) -> Result<String, String> {
    let mut lines = BTreeSet::new();
    let file = root.join(dir).join("src").join("lib.rs");
    walk_file(&file, &file, lib, &mut lines)?;
    let mut out = format!(
        "# The public API of `{krate}`: `cargo xtask public-api` writes this file, the tests check it.\n"
    );
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

fn walk_file(
    path: &Path,
    root_file: &Path,
    module: &str,
    out: &mut BTreeSet<String>,
) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = syn::parse_file(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    // Child modules live beside `lib.rs`/`mod.rs`, or in a folder named
    // after the file.
    let dir = if path == root_file || path.file_name().is_some_and(|n| n == "mod.rs") {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        path.with_extension("")
    };
    walk_items(&file.items, &dir, root_file, module, out)
}

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

fn hidden(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("doc") && a.to_token_stream().to_string().contains("hidden"))
        || attrs
            .iter()
            .any(|a| a.path().is_ident("cfg") && a.to_token_stream().to_string().contains("test"))
}

/// One line of Rust as prettyplease writes it.
fn one_line(item: Item) -> String {
    let file = syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: vec![item],
    };
    prettyplease::unparse(&file)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn without_attrs(attrs: &mut Vec<syn::Attribute>) {
    attrs.retain(|a| a.path().is_ident("derive") || a.path().is_ident("non_exhaustive"));
}

fn walk_items(
    items: &[Item],
    dir: &Path,
    root_file: &Path,
    module: &str,
    out: &mut BTreeSet<String>,
) -> Result<(), String> {
    for item in items {
        let mut push = |text: String| {
            out.insert(format!("{module}: {text}"));
        };
        match item {
            // Private modules too: their `pub` items are what the crate
            // re-exports (`pub use builder::Builder`), methods included.
            Item::Mod(m) if !hidden(&m.attrs) => {
                let child = if is_pub(&m.vis) {
                    format!("{module}::{}", m.ident)
                } else {
                    format!("{module}::({})", m.ident)
                };
                if m.ident == "generated" {
                    push("pub mod generated (the generated client: see tests/snapshots/)".into());
                    continue;
                }
                match &m.content {
                    Some((_, inner)) => walk_items(
                        inner,
                        &dir.join(m.ident.to_string()),
                        root_file,
                        &child,
                        out,
                    )?,
                    None => {
                        let flat = dir.join(format!("{}.rs", m.ident));
                        let nested = dir.join(m.ident.to_string()).join("mod.rs");
                        let file = if flat.exists() { flat } else { nested };
                        walk_file(&file, root_file, &child, out)?;
                    }
                }
            }
            Item::Fn(f) if is_pub(&f.vis) && !hidden(&f.attrs) => {
                let mut f = f.clone();
                f.block = Box::new(syn::parse_quote!({}));
                f.attrs.clear();
                push(one_line(Item::Fn(f)));
            }
            Item::Struct(s) if is_pub(&s.vis) && !hidden(&s.attrs) => {
                let mut s = s.clone();
                without_attrs(&mut s.attrs);
                for field in s.fields.iter_mut() {
                    field.attrs.clear();
                }
                // Private fields say nothing to a user.
                if let syn::Fields::Named(named) = &mut s.fields {
                    named.named = named
                        .named
                        .iter()
                        .filter(|f| is_pub(&f.vis))
                        .cloned()
                        .collect();
                }
                if let syn::Fields::Unnamed(unnamed) = &mut s.fields {
                    for f in unnamed.unnamed.iter_mut() {
                        if !is_pub(&f.vis) {
                            f.ty = syn::parse_quote!(_);
                        }
                    }
                }
                push(one_line(Item::Struct(s)));
            }
            Item::Enum(e) if is_pub(&e.vis) && !hidden(&e.attrs) => {
                let mut e = e.clone();
                without_attrs(&mut e.attrs);
                for v in e.variants.iter_mut() {
                    v.attrs.retain(|a| a.path().is_ident("non_exhaustive"));
                    for f in v.fields.iter_mut() {
                        f.attrs.clear();
                    }
                    v.discriminant = None;
                }
                push(one_line(Item::Enum(e)));
            }
            Item::Trait(t) if is_pub(&t.vis) && !hidden(&t.attrs) => {
                let mut t = t.clone();
                t.attrs.clear();
                for ti in t.items.iter_mut() {
                    if let TraitItem::Fn(f) = ti {
                        f.default = None;
                        f.semi_token = Some(Default::default());
                        f.attrs.clear();
                    }
                }
                push(one_line(Item::Trait(t)));
            }
            Item::Const(c) if is_pub(&c.vis) && !hidden(&c.attrs) => {
                push(format!("pub const {}: {}", c.ident, c.ty.to_token_stream()));
            }
            Item::Static(s) if is_pub(&s.vis) && !hidden(&s.attrs) => {
                push(format!(
                    "pub static {}: {}",
                    s.ident,
                    s.ty.to_token_stream()
                ));
            }
            Item::Type(t) if is_pub(&t.vis) && !hidden(&t.attrs) => {
                let mut t = t.clone();
                t.attrs.clear();
                push(one_line(Item::Type(t)));
            }
            Item::Use(u) if is_pub(&u.vis) && !hidden(&u.attrs) => {
                let mut u = u.clone();
                u.attrs.clear();
                push(one_line(Item::Use(u)));
            }
            // An item macro's invocation (`sdk_entry_points!`): what it
            // declares is its arguments' business.
            Item::Macro(m) if m.ident.is_none() && !hidden(&m.attrs) => {
                push(squash(&format!(
                    "{}!({})",
                    m.mac.path.to_token_stream(),
                    m.mac.tokens
                )));
            }
            Item::Macro(m) if m.attrs.iter().any(|a| a.path().is_ident("macro_export")) => {
                let name = m
                    .ident
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                push(format!("macro_rules! {name} (exported)"));
            }
            Item::Impl(i) if !hidden(&i.attrs) => {
                let ty = i.self_ty.to_token_stream().to_string();
                let generics = i.generics.to_token_stream().to_string();
                match &i.trait_ {
                    Some((bang, path, _)) => {
                        let not = if bang.is_some() { "!" } else { "" };
                        push(squash(&format!(
                            "impl{generics} {not}{} for {ty}",
                            path.to_token_stream()
                        )));
                    }
                    None => {
                        for ii in &i.items {
                            if let ImplItem::Fn(f) = ii
                                && is_pub(&f.vis)
                                && !hidden(&f.attrs)
                            {
                                let sig = f.sig.to_token_stream().to_string();
                                push(squash(&format!("impl{generics} {ty} {{ pub {sig} }}")));
                            }
                            if let ImplItem::Const(c) = ii
                                && is_pub(&c.vis)
                            {
                                push(squash(&format!(
                                    "impl{generics} {ty} {{ pub const {}: {} }}",
                                    c.ident,
                                    c.ty.to_token_stream()
                                )));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Token text with the spaces `to_string` puts around punctuation taken
/// out where Rust would not write them.
fn squash(s: &str) -> String {
    let mut t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        ("( ", "("),
        (" )", ")"),
        ("& ", "&"),
        (" (", "("),
        ("' ", "'"),
        (" ;", ";"),
        (" : ", ": "),
        (" ?", "?"),
    ] {
        t = t.replace(from, to);
    }
    t.replace("->", " -> ").replace("  ", " ")
}
