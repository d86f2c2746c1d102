//! A `Debug` that never shows a secret, for the generated types that hold
//! one (`x-secret: true` in the spec, collected by `crate::secrets`).
//!
//! progenitor derives `Debug` on every type: `format!("{:?}", request)` of
//! institution's `LoginRequest` printed the password. For each marked
//! type, the pass drops `Debug` from the derive and writes one that shows
//! every field but the secret ones (`[redacted]`):
//!
//! - a schema with secret properties: its struct in `types`, and the
//!   builder of the same name in `types::builder` (same field names);
//! - the newtype a secret property has when its schema has constraints
//!   (`CardDetailsNumber(String)`): redacted whole, as it is the secret;
//! - a schema marked whole (exirom's `AuthResponse`, a bare token or an
//!   object): redacted whole.

use std::collections::{BTreeMap, BTreeSet};

use syn::punctuated::Punctuated;
use syn::{Attribute, Fields, Item, ItemMod, Token};

use crate::secrets::Secrets;

/// Apply the pass; returns the marked schemas no type was found for.
pub(super) fn redact(file: &mut syn::File, secrets: &Secrets) -> BTreeSet<String> {
    let mut missing: BTreeSet<String> = secrets.schemas().into_iter().map(String::from).collect();
    if secrets.is_empty() {
        return missing;
    }
    let Some(types) = module(&mut file.items, "types") else {
        return missing;
    };
    // Rust field names of each marked struct's secret properties, and the
    // newtypes those fields hold.
    let mut fields: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut whole: BTreeSet<String> = secrets.whole.clone();
    for item in types.content.iter().flat_map(|(_, items)| items.iter()) {
        let Item::Struct(s) = item else { continue };
        let name = s.ident.to_string();
        let Some(json_names) = secrets.fields.get(&name) else {
            continue;
        };
        let Fields::Named(named) = &s.fields else {
            continue;
        };
        for field in &named.named {
            let Some(ident) = &field.ident else { continue };
            let json = serde_rename(&field.attrs).unwrap_or_else(|| ident.to_string());
            if json_names.contains(&json) {
                fields
                    .entry(name.clone())
                    .or_default()
                    .insert(ident.to_string());
                if let Some(newtype) = held_type(&field.ty) {
                    whole.insert(newtype);
                }
            }
        }
    }
    let mut added = Vec::new();
    for item in types
        .content
        .iter_mut()
        .flat_map(|(_, items)| items.iter_mut())
    {
        match item {
            Item::Struct(s) => {
                let name = s.ident.to_string();
                if whole.contains(&name) {
                    strip_debug(&mut s.attrs);
                    added.push(whole_debug(&s.ident));
                    missing.remove(&name);
                } else if let Some(secret) = fields.get(&name) {
                    strip_debug(&mut s.attrs);
                    added.push(field_debug(&s.ident, &s.fields, secret));
                    missing.remove(&name);
                }
            }
            Item::Enum(e) => {
                let name = e.ident.to_string();
                if whole.contains(&name) {
                    strip_debug(&mut e.attrs);
                    added.push(whole_debug(&e.ident));
                    missing.remove(&name);
                }
            }
            _ => {}
        }
    }
    if let Some((_, items)) = &mut types.content {
        items.extend(added);
    }
    // The builders: the same field names.
    if let Some(builder) = module(
        types
            .content
            .as_mut()
            .map(|(_, items)| items)
            .unwrap_or(&mut Vec::new()),
        "builder",
    ) {
        let mut added = Vec::new();
        for item in builder
            .content
            .iter_mut()
            .flat_map(|(_, items)| items.iter_mut())
        {
            if let Item::Struct(s) = item
                && let Some(secret) = fields.get(&s.ident.to_string())
            {
                strip_debug(&mut s.attrs);
                added.push(field_debug(&s.ident, &s.fields, secret));
            }
        }
        if let Some((_, items)) = &mut builder.content {
            items.extend(added);
        }
    }
    missing
}

/// The inline module `name` among `items`.
fn module<'a>(items: &'a mut [Item], name: &str) -> Option<&'a mut ItemMod> {
    items.iter_mut().find_map(|item| match item {
        Item::Mod(m) if m.ident == name && m.content.is_some() => Some(m),
        _ => None,
    })
}

/// `#[serde(rename = "x", …)]` → `x`.
fn serde_rename(attrs: &[Attribute]) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: syn::LitStr = meta.value()?.parse()?;
                found = Some(value.value());
            } else if meta.input.peek(Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

/// The generated type a field holds, itself or in an `Option`: `X` of
/// `X` and of `Option<X>`, when `X` is a plain name (a type of `types`).
fn held_type(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident == "Option" {
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        return match args.args.first()? {
            syn::GenericArgument::Type(inner) => held_type(inner),
            _ => None,
        };
    }
    (p.path.segments.len() == 1 && last.arguments.is_empty()).then(|| last.ident.to_string())
}

/// `#[derive(A, Debug, B)]` → `#[derive(A, B)]`.
fn strip_debug(attrs: &mut [Attribute]) {
    for attr in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
        let Ok(paths) = attr.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
        else {
            continue;
        };
        let kept: Vec<&syn::Path> = paths
            .iter()
            .filter(|p| p.segments.last().is_none_or(|s| s.ident != "Debug"))
            .collect();
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
    }
}

fn whole_debug(ident: &syn::Ident) -> Item {
    let text = format!("{ident}([redacted])");
    syn::parse_quote! {
        /// Redacted: the spec marks this value secret (`x-secret`).
        impl ::std::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(#text)
            }
        }
    }
}

fn field_debug(ident: &syn::Ident, fields: &Fields, secret: &BTreeSet<String>) -> Item {
    let name = ident.to_string();
    let entries = fields.iter().filter_map(|f| {
        let field = f.ident.as_ref()?;
        let label = field.to_string();
        Some(if secret.contains(&label) {
            quote::quote!(.field(#label, &::std::format_args!("[redacted]")))
        } else {
            quote::quote!(.field(#label, &self.#field))
        })
    });
    syn::parse_quote! {
        /// Secret fields redacted: the spec marks them (`x-secret`).
        impl ::std::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(#name) #(#entries)* .finish()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        let mut s = Secrets::default();
        s.fields.insert(
            "LoginRequest".into(),
            ["password".to_string(), "refreshToken".to_string()].into(),
        );
        s.whole.insert("AuthResponse".into());
        s
    }

    #[test]
    fn marked_fields_and_types_get_a_redacting_debug() {
        let src = r#"
            pub mod types {
                #[derive(::serde::Deserialize, Clone, Debug, schemars::JsonSchema)]
                pub struct LoginRequest {
                    pub password: Pin,
                    #[serde(rename = "refreshToken", skip_serializing_if = "Option::is_none")]
                    pub refresh_token: ::std::option::Option<::std::string::String>,
                    pub email: ::std::string::String,
                }
                #[derive(Clone, Debug, PartialEq)]
                #[serde(transparent)]
                pub struct Pin(::std::string::String);
                #[derive(Clone, Debug)]
                pub struct Other { pub password: ::std::string::String }
                #[derive(Debug, Clone)]
                #[serde(untagged)]
                pub enum AuthResponse { String(::std::string::String) }
                pub mod builder {
                    #[derive(Clone, Debug)]
                    pub struct LoginRequest {
                        password: ::std::result::Result<super::Pin, ::std::string::String>,
                        refresh_token: ::std::result::Result<::std::option::Option<::std::string::String>, ::std::string::String>,
                        email: ::std::result::Result<::std::string::String, ::std::string::String>,
                    }
                }
            }
        "#;
        let mut file: syn::File = syn::parse_str(src).expect("parses");
        let missing = redact(&mut file, &secrets());
        assert!(missing.is_empty(), "{missing:?}");
        let out = prettyplease::unparse(&file);
        let squashed: String = out.split_whitespace().collect();
        // Debug left the derives of the marked types, and only theirs.
        assert!(
            squashed.contains(
                "#[derive(::serde::Deserialize,Clone,schemars::JsonSchema)]pubstructLoginRequest"
            ),
            "{out}"
        );
        assert!(
            squashed.contains("#[derive(Clone,PartialEq)]#[serde(transparent)]pubstructPin"),
            "{out}"
        );
        assert!(
            squashed.contains("#[derive(Clone,Debug)]pubstructOther"),
            "{out}"
        );
        assert!(
            squashed.contains("#[derive(Clone)]#[serde(untagged)]pubenumAuthResponse"),
            "{out}"
        );
        assert!(
            squashed.contains("#[derive(Clone)]pubstructLoginRequest{password:"),
            "{out}"
        );
        // Both LoginRequests show email and redact the two secrets.
        assert_eq!(
            squashed
                .matches(r#".field("password",&::std::format_args!("[redacted]")).field("refresh_token",&::std::format_args!("[redacted]")).field("email",&self.email)"#)
                .count(),
            2,
            "{out}"
        );
        assert!(
            squashed.contains(r#"f.write_str("Pin([redacted])")"#),
            "{out}"
        );
        assert!(
            squashed.contains(r#"f.write_str("AuthResponse([redacted])")"#),
            "{out}"
        );
    }

    #[test]
    fn a_marked_schema_without_a_type_is_reported() {
        let mut file: syn::File = syn::parse_str("pub mod types {}").expect("parses");
        let missing = redact(&mut file, &secrets());
        assert_eq!(
            missing,
            ["AuthResponse".to_string(), "LoginRequest".to_string()].into()
        );
    }
}
