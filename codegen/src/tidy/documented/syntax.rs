//! Reading and writing doc attributes and the shapes of generated items:
//! what the operations and types passes share.

use syn::{Attribute, Item, ItemMod};

/// The doc comment of `attrs`, its lines joined (`None` without one).
pub(super) fn doc_of(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Whether `attrs` carry a non-empty doc comment.
pub(super) fn has_doc(attrs: &[Attribute]) -> bool {
    doc_of(attrs).is_some_and(|d| !d.trim().is_empty())
}

/// Replace the doc comment of `attrs` with `text` (placed first).
pub(super) fn set_doc(attrs: &mut Vec<Attribute>, text: &str) {
    attrs.retain(|a| !a.path().is_ident("doc"));
    attrs.insert(0, syn::parse_quote!(#[doc = #text]));
}

/// `text`'s first paragraph, on one line: what a link to the item says.
pub(super) fn summary(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The items of the inline module `name` among `items`.
pub(super) fn module_items<'a>(items: &'a mut [Item], name: &str) -> Option<&'a mut Vec<Item>> {
    items.iter_mut().find_map(|item| match item {
        Item::Mod(ItemMod {
            ident,
            content: Some((_, items)),
            ..
        }) if ident == name => Some(items),
        _ => None,
    })
}

/// The name of the type an inherent `impl` is for (`Foo` of
/// `impl<'a> Foo<'a>`), `None` for a trait impl.
pub(super) fn inherent_self(item: &syn::ItemImpl) -> Option<String> {
    if item.trait_.is_some() {
        return None;
    }
    match &*item.self_ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// A type as it reads in docs: `::std::string::String` → `String`,
/// `::std::num::NonZeroU32` → `std::num::NonZeroU32`.
pub(super) fn type_text(ty: &syn::Type) -> String {
    let file: syn::File = syn::parse_quote!(type T = #ty;);
    let text = prettyplease::unparse(&file);
    let text = text
        .trim()
        .trim_start_matches("type T = ")
        .trim_end_matches(';');
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("::std::string::String", "String")
        .replace("::std::vec::Vec", "Vec")
        .replace("::std::option::Option", "Option")
        .replace("::std::", "std::")
        .replace("::chrono::", "chrono::")
        .replace("::serde_json::", "serde_json::")
}

/// `T` of a where-clause bound `V: std::convert::TryInto<T>` on the
/// generic parameter `param`.
pub(super) fn try_into_target(sig: &syn::Signature, param: &syn::Ident) -> Option<syn::Type> {
    let bounds = sig
        .generics
        .where_clause
        .iter()
        .flat_map(|w| w.predicates.iter())
        .filter_map(|p| match p {
            syn::WherePredicate::Type(t) => Some(t),
            _ => None,
        })
        .filter(|t| matches!(&t.bounded_ty, syn::Type::Path(p) if p.path.is_ident(param)))
        .flat_map(|t| t.bounds.iter());
    for bound in bounds {
        let syn::TypeParamBound::Trait(t) = bound else {
            continue;
        };
        let Some(last) = t.path.segments.last() else {
            continue;
        };
        if last.ident != "TryInto" {
            continue;
        }
        if let syn::PathArguments::AngleBracketed(args) = &last.arguments
            && let Some(syn::GenericArgument::Type(ty)) = args.args.first()
        {
            return Some(ty.clone());
        }
    }
    None
}

/// The one type parameter of a setter (`V` of `fn id<V>(…)`).
pub(super) fn setter_param(sig: &syn::Signature) -> Option<syn::Ident> {
    let mut params = sig.generics.type_params();
    let first = params.next()?;
    params.next().is_none().then(|| first.ident.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_read_as_written_in_code() {
        for (ty, text) in [
            (
                syn::parse_quote!(::std::string::String),
                "String".to_string(),
            ),
            (
                syn::parse_quote!(::std::option::Option<::std::num::NonZeroU32>),
                "Option<std::num::NonZeroU32>".to_string(),
            ),
            (
                syn::parse_quote!(::std::vec::Vec<types::OrderItem>),
                "Vec<types::OrderItem>".to_string(),
            ),
        ] {
            assert_eq!(type_text(&ty), text);
        }
    }

    #[test]
    fn summaries_are_the_first_paragraph_on_one_line() {
        assert_eq!(
            summary("Merchant credentials\nissued by the team.\n\nMore."),
            "Merchant credentials issued by the team."
        );
    }
}
