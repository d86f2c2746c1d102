//! Reading syn's items the way the checker needs: a name without its
//! `r#`, whether an item exists only in test builds, and the names a
//! `use` brings in.

use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Token, UseTree};

/// `r#type` → `type`.
pub fn unraw(ident: &syn::Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
}

/// Whether `attrs` hold a `#[cfg(…)]` that only test builds satisfy:
/// `test`, or `all(…)` with such a part.
pub fn test_only(attrs: &[Attribute]) -> bool {
    fn requires_test(meta: &Meta) -> bool {
        match meta {
            Meta::Path(p) => p.is_ident("test"),
            Meta::List(list) if list.path.is_ident("all") => list
                .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .is_ok_and(|parts| parts.iter().any(requires_test)),
            _ => false,
        }
    }
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && a.parse_args::<Meta>().is_ok_and(|m| requires_test(&m))
    })
}

/// One name a `use` brings in: its path, and how it is bound.
pub struct UseLeaf {
    pub path: Vec<String>,
    pub binding: Binding,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Binding {
    /// `use a::B;`, `use a::B as C;`, `use a::{self}`.
    Name(String),
    /// `use a::*;`
    Glob,
    /// `use a::Trait as _;`
    Unnamed,
}

/// `use a::{b, c::D as E, f::*, self}` → one leaf per name. A path from
/// the root of another crate (`::std::…`) gives none.
pub fn use_leaves(tree: &UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseLeaf>) {
    match tree {
        UseTree::Path(p) => {
            prefix.push(unraw(&p.ident));
            use_leaves(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) if n.ident == "self" => {
            if let Some(last) = prefix.last() {
                out.push(UseLeaf {
                    path: prefix.clone(),
                    binding: Binding::Name(last.clone()),
                });
            }
        }
        UseTree::Name(n) => {
            let name = unraw(&n.ident);
            let mut path = prefix.clone();
            path.push(name.clone());
            out.push(UseLeaf {
                path,
                binding: Binding::Name(name),
            });
        }
        UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(unraw(&r.ident));
            }
            let binding = unraw(&r.rename);
            out.push(UseLeaf {
                path,
                binding: if binding == "_" {
                    Binding::Unnamed
                } else {
                    Binding::Name(binding)
                },
            });
        }
        UseTree::Glob(_) => out.push(UseLeaf {
            path: prefix.clone(),
            binding: Binding::Glob,
        }),
        UseTree::Group(g) => {
            for tree in &g.items {
                use_leaves(tree, prefix, out);
            }
        }
    }
}
