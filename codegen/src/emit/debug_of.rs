//! The generated `debug_of`: the `Debug` of each component schema's
//! generated type (and of its builder), for the test that no secret is
//! ever shown.

use openapiv3::OpenAPI;
use quote::{format_ident, quote};

/// `debug_of(schema, json)`: the `Debug` of the generated type of a
/// component schema (and of its builder, when it has one), decoded from
/// `json` — what the canary test prints for every generated type.
pub(crate) fn debug_of(syntax: &syn::File, spec: &OpenAPI) -> syn::Item {
    let builders: std::collections::BTreeSet<String> = syntax
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref(),
            _ => None,
        })
        .and_then(|(_, items)| {
            items.iter().find_map(|item| match item {
                syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
                _ => None,
            })
        })
        .map(|(_, items)| {
            items
                .iter()
                .filter_map(|item| match item {
                    syn::Item::Struct(s) => Some(s.ident.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let arms = spec
        .components
        .iter()
        .flat_map(|c| c.schemas.keys())
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|name| {
            let ident = format_ident!("{}", name);
            let builder = if builders.contains(name) {
                quote!(format!("{:?}", types::builder::#ident::from(v)))
            } else {
                quote!(String::new())
            };
            quote! {
                #name => Some(serde_json::from_value::<types::#ident>(value).map(|v| {
                    let shown = format!("{v:?}");
                    (shown, #builder)
                }))
            }
        });
    syn::parse_quote! {
        /// The `Debug` of a component schema's generated type decoded from
        /// `value`, and of its builder (empty when it has none), for the
        /// test that no secret is ever shown.
        #[doc(hidden)]
        pub fn debug_of(
            schema: &str,
            value: serde_json::Value,
        ) -> Option<Result<(String, String), serde_json::Error>> {
            match schema {
                #(#arms,)*
                _ => None,
            }
        }
    }
}
