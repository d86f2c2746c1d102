//! Docs for what typify leaves undocumented in `types`: the builders and
//! their setters, the `builder()` functions, enum variants, and fields the
//! spec does not describe whose type it does. A field of a plain type the
//! spec does not describe stays undocumented: `missing_docs` then asks
//! the spec for a description.

use std::collections::BTreeMap;

use syn::{Fields, ImplItem, Item, Type};

use super::syntax::{doc_of, has_doc, inherent_self, module_items, set_doc, setter_param, summary};

/// What the types say about themselves.
#[derive(Default)]
struct Known {
    /// Type name → its doc's first paragraph (empty when it only names
    /// itself, as typify writes for a schema without a description).
    types: BTreeMap<String, String>,
    /// Struct name → field name → the field's doc's first paragraph.
    fields: BTreeMap<String, BTreeMap<String, String>>,
}

impl Known {
    fn read(items: &[Item]) -> Known {
        let mut known = Known::default();
        for item in items {
            let (name, attrs) = match item {
                Item::Struct(s) => (s.ident.to_string(), &s.attrs),
                Item::Enum(e) => (e.ident.to_string(), &e.attrs),
                _ => continue,
            };
            let mut about = doc_of(attrs).map(|d| summary(&d)).unwrap_or_default();
            if about == format!("`{name}`") {
                about.clear();
            }
            known.types.insert(name.clone(), about);
            if let Item::Struct(s) = item
                && let Fields::Named(named) = &s.fields
            {
                let fields = named
                    .named
                    .iter()
                    .filter_map(|f| {
                        let doc = doc_of(&f.attrs).map(|d| summary(&d))?;
                        Some((f.ident.as_ref()?.to_string(), doc))
                    })
                    .collect();
                known.fields.insert(name, fields);
            }
        }
        known
    }

    /// "[`T`]: what T's doc says." for the first generated type `ty`
    /// mentions (`Option<T>`, `Vec<T>`), `None` for a plain type.
    fn about_type(&self, ty: &Type) -> Option<String> {
        let name = generated_type(ty, &self.types)?;
        let about = &self.types[&name];
        // Not `[T]: …`: at the start of a line, that is a Markdown link
        // definition.
        Some(if about.is_empty() {
            format!("A [`{name}`].")
        } else {
            format!("[`{name}`] — {about}")
        })
    }
}

/// The name of the first type of `types` that `ty` mentions.
fn generated_type(ty: &Type, types: &BTreeMap<String, String>) -> Option<String> {
    let Type::Path(p) = ty else { return None };
    for segment in &p.path.segments {
        let name = segment.ident.to_string();
        if types.contains_key(&name) {
            return Some(name);
        }
        if let syn::PathArguments::AngleBracketed(args) = &segment.arguments {
            for arg in &args.args {
                if let syn::GenericArgument::Type(inner) = arg
                    && let Some(found) = generated_type(inner, types)
                {
                    return Some(found);
                }
            }
        }
    }
    None
}

/// A JSON value of a plain Rust type, in words.
fn plain_kind(ty: &Type) -> &'static str {
    let text = super::syntax::type_text(ty);
    match text.as_str() {
        "String" => "a string",
        "bool" => "a boolean",
        "f64" | "f32" => "a number",
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" => "an integer",
        t if t.starts_with("Vec<") => "an array",
        t if t.contains("Map<") => "an object",
        _ => "a value of this type",
    }
}

/// The JSON value a unit variant stands for (its `serde(rename)`).
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .find_map(|a| {
            let mut found = None;
            let _ = a.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    let value: syn::LitStr = meta.value()?.parse()?;
                    found = Some(value.value());
                } else if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                Ok(())
            });
            found
        })
}

/// Apply the pass to `types` and `types::builder`.
pub(super) fn document_types(file: &mut syn::File) {
    let Some(types) = module_items(&mut file.items, "types") else {
        return;
    };
    let known = Known::read(types);
    for item in types.iter_mut() {
        match item {
            Item::Struct(s) => match &mut s.fields {
                Fields::Named(named) => {
                    for field in named.named.iter_mut().filter(|f| !has_doc(&f.attrs)) {
                        if let Some(doc) = known.about_type(&field.ty) {
                            set_doc(&mut field.attrs, &doc);
                        }
                    }
                }
                Fields::Unnamed(unnamed) => {
                    for field in unnamed.unnamed.iter_mut().filter(|f| {
                        matches!(f.vis, syn::Visibility::Public(_)) && !has_doc(&f.attrs)
                    }) {
                        if let Some(doc) = known.about_type(&field.ty) {
                            set_doc(&mut field.attrs, &format!("The value: {doc}"));
                        }
                    }
                }
                Fields::Unit => {}
            },
            Item::Enum(e) => {
                for variant in e.variants.iter_mut().filter(|v| !has_doc(&v.attrs)) {
                    let doc = match &variant.fields {
                        Fields::Unit => Some(format!(
                            "`{}`",
                            serde_rename(&variant.attrs)
                                .unwrap_or_else(|| variant.ident.to_string())
                        )),
                        Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                            let ty = &f.unnamed[0].ty;
                            known
                                .about_type(ty)
                                .or_else(|| Some(format!("The value as {}.", plain_kind(ty))))
                        }
                        _ => None,
                    };
                    if let Some(doc) = doc {
                        set_doc(&mut variant.attrs, &doc);
                    }
                }
            }
            Item::Impl(i) => {
                let Some(name) = inherent_self(i) else {
                    continue;
                };
                for member in &mut i.items {
                    if let ImplItem::Fn(f) = member
                        && f.sig.ident == "builder"
                        && !has_doc(&f.attrs)
                    {
                        let doc = format!(
                            "The builder of [`{name}`], to set it field by field: \
                             [`builder::{name}`]."
                        );
                        set_doc(&mut f.attrs, &doc);
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(builders) = module_items(types, "builder") {
        document_builders(builders, &known);
    }
}

/// `types::builder`: each builder and its setters.
fn document_builders(items: &mut [Item], known: &Known) {
    for item in items.iter_mut() {
        match item {
            Item::Struct(s) if !has_doc(&s.attrs) => {
                let name = s.ident.to_string();
                let doc = format!(
                    "Builder of [`{name}`](super::{name}), field by field. Each setter \
                     takes anything that converts into the field's type; converting \
                     the builder (`try_into()`, or handing it to an operation's \
                     `body`) fails if a required field is unset or a value did not \
                     convert."
                );
                set_doc(&mut s.attrs, &doc);
            }
            Item::Impl(i) => {
                let Some(name) = inherent_self(i) else {
                    continue;
                };
                let fields = known.fields.get(&name);
                for member in &mut i.items {
                    let ImplItem::Fn(f) = member else { continue };
                    if has_doc(&f.attrs) || setter_param(&f.sig).is_none() {
                        continue;
                    }
                    let field = f.sig.ident.to_string();
                    let mut doc = format!("Sets [`{field}`](super::{name}::{field})");
                    match fields.and_then(|fs| fs.get(&field)) {
                        Some(about) if !about.is_empty() => {
                            doc.push_str(": ");
                            doc.push_str(about);
                        }
                        _ => doc.push('.'),
                    }
                    set_doc(&mut f.attrs, &doc);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::syntax_text::after;
    use super::*;

    fn documented(src: &str) -> String {
        after(src, document_types)
    }

    #[test]
    fn variants_builders_and_described_types_get_docs() {
        let out = documented(
            r#"
            pub mod types {
                ///Merchant credentials.
                pub struct Auth { pub key: ::std::string::String }
                ///`Grant`
                pub enum Grant {
                    #[serde(rename = "client_credentials")]
                    ClientCredentials,
                }
                pub enum Amount { String(::std::string::String), Auth(Auth) }
                pub struct Envelope { pub data: ::std::option::Option<Auth>, pub other: i64 }
                impl Auth { pub fn builder() -> builder::Auth { Default::default() } }
                pub mod builder {
                    pub struct Auth { key: Result<String, String> }
                    impl Auth {
                        pub fn key<T>(mut self, value: T) -> Self where T: TryInto<String> { self }
                    }
                }
            }
            "#,
        );
        assert!(out.contains("///`client_credentials`"), "{out}");
        assert!(out.contains("///The value as a string."), "{out}");
        assert!(out.contains("///[`Auth`] — Merchant credentials."), "{out}");
        assert!(out.contains("The builder of [`Auth`]"), "{out}");
        assert!(
            out.contains("Builder of [`Auth`](super::Auth), field by field"),
            "{out}"
        );
        assert!(out.contains("///Sets [`key`](super::Auth::key)."), "{out}");
        // A plain field the spec does not describe stays undocumented.
        let (data, other) = (
            out.find("pub data").unwrap(),
            out.find("pub other").unwrap(),
        );
        assert!(!out[data..other].contains("///"), "{out}");
    }
}
