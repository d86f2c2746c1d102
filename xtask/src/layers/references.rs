//! The paths an item writes that may name another module of the crate:
//! every path of two segments or more in its code (`crate::retry::Delay`,
//! `super::Linter`, `token::manager::X`), the `use`s inside its blocks,
//! and `a::b` sequences inside macro calls and attribute arguments
//! (`format!("{}", crate::x::y())`, `#[error(…)]`), whose tokens syn does
//! not parse. Which of them name this crate's modules is for `resolve`.

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{Item, Meta};

use super::syntax::{Binding, test_only, unraw, use_leaves};

/// A path as written in a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub path: Vec<String>,
    /// `use path::*;`
    pub glob: bool,
}

/// The references of one item (not a `mod` or a `use`: those are the
/// module tree's).
pub fn in_item(item: &Item) -> Vec<Reference> {
    let mut collector = Collector::default();
    collector.visit_item(item);
    collector.found
}

#[derive(Default)]
struct Collector {
    found: Vec<Reference>,
}

impl Collector {
    fn push(&mut self, path: Vec<String>) {
        if path.len() >= 2 {
            self.found.push(Reference { path, glob: false });
        }
    }

    /// `a :: b :: c` runs in a token stream, nested groups included.
    fn tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let colons = |i: usize| {
            matches!((tokens.get(i), tokens.get(i + 1)),
                (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                    if a.as_char() == ':' && b.as_char() == ':')
        };
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(g) => {
                    self.tokens(g.stream());
                    i += 1;
                }
                // Not the middle of a path already seen, nor `::std`.
                TokenTree::Ident(first) if i < 2 || !colons(i - 2) => {
                    let mut path = vec![unraw(first)];
                    let mut j = i + 1;
                    while colons(j) {
                        match tokens.get(j + 2) {
                            Some(TokenTree::Ident(next)) => {
                                path.push(unraw(next));
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    self.push(path);
                    i = j;
                }
                _ => i += 1,
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            self.push(path.segments.iter().map(|s| unraw(&s.ident)).collect());
        }
        visit::visit_path(self, path);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if item.leading_colon.is_some() || test_only(&item.attrs) {
            return;
        }
        let mut leaves = Vec::new();
        use_leaves(&item.tree, &mut Vec::new(), &mut leaves);
        for leaf in leaves {
            let glob = leaf.binding == Binding::Glob;
            if glob || leaf.path.len() >= 2 {
                self.found.push(Reference {
                    path: leaf.path,
                    glob,
                });
            }
        }
    }

    fn visit_item(&mut self, item: &'ast Item) {
        // A `mod` inside a block is not a module of the tree; test-only
        // items are left out as at the top level.
        if matches!(item, Item::Mod(_)) {
            return;
        }
        visit::visit_item(self, item);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !test_only(&f.attrs) {
            visit::visit_item_fn(self, f);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        let attrs = match item {
            syn::ImplItem::Const(i) => &i.attrs,
            syn::ImplItem::Fn(i) => &i.attrs,
            syn::ImplItem::Type(i) => &i.attrs,
            syn::ImplItem::Macro(i) => &i.attrs,
            _ => return visit::visit_impl_item(self, item),
        };
        if !test_only(attrs) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.tokens(mac.tokens.clone());
    }

    fn visit_meta(&mut self, meta: &'ast Meta) {
        if let Meta::List(list) = meta {
            self.tokens(list.tokens.clone());
        }
        visit::visit_meta(self, meta);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(src: &str) -> Vec<String> {
        let item: Item = syn::parse_str(src).expect("test item parses");
        in_item(&item)
            .into_iter()
            .map(|r| r.path.join("::") + if r.glob { "::*" } else { "" })
            .collect()
    }

    #[test]
    fn paths_in_code_types_macros_and_attributes_are_found() {
        let found = paths(
            r#"
            #[error("{}", crate::fmt::shown(x))]
            fn f(a: super::A) -> crate::b::B {
                use self::c::{D, e::*};
                let x = token::manager::new();
                println!("{}", crate::d::E::NAME);
                ::std::process::exit(1)
            }
            "#,
        );
        for want in [
            "crate::fmt::shown",
            "super::A",
            "crate::b::B",
            "self::c::D",
            "self::c::e::*",
            "token::manager::new",
            "crate::d::E::NAME",
        ] {
            assert!(found.contains(&want.to_string()), "{want} not in {found:?}");
        }
        assert!(!found.iter().any(|p| p.contains("std")), "{found:?}");
    }

    #[test]
    fn test_only_code_is_left_out() {
        let found = paths(
            r#"
            impl X {
                #[cfg(test)]
                fn only_in_tests() -> crate::a::A { todo!() }
                #[cfg(all(test, feature = "x"))]
                fn also() -> crate::b::B { todo!() }
                #[cfg(not(test))]
                fn kept() -> crate::c::C { todo!() }
            }
            "#,
        );
        assert_eq!(found, ["crate::c::C"]);
    }
}
