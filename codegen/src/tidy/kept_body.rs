//! An operation builder's JSON body kept as the value it was given.
//!
//! progenitor holds an operation's body as its builder type
//! (`body: Result<types::builder::X, String>`, started at the default
//! builder): `.body(value)` checks the value, converts it back into a
//! builder (`.map(From::from)`), and `send` checks it again; the default
//! builder allocates a message for each required field, on every
//! operation built. The pass swaps the field for
//! `payauth_runtime::__private::OperationBody<types::X, types::builder::X>`, in the
//! operation builders that have one:
//! - `body: Ok(::std::default::Default::default())` →
//!   `body: payauth_runtime::__private::OperationBody::Unset`;
//! - `self.body = value.try_into().map(From::from).map_err(…)` →
//!   `self.body = payauth_runtime::__private::OperationBody::given(value.try_into().map_err(…))`;
//! - `body.and_then(|v| types::X::try_from(v).map_err(…))` → `body.value()`;
//! - `self.body = self.body.map(f)` (`body_map`) is left as it is:
//!   `OperationBody::map` does what `Result::map` did on the builder.

use std::collections::HashSet;

use syn::visit_mut::{self, VisitMut};
use syn::{Expr, ExprMethodCall, Fields, Item, Type};

use super::syntax_text::text;

/// Apply the pass to `file`.
pub(super) fn keep_given_bodies(file: &mut syn::File) {
    let mut builders = HashSet::new();
    for item in &mut file.items {
        collect(item, &mut builders);
    }
    if !builders.is_empty() {
        Rewrite { builders }.visit_file_mut(file);
    }
}

/// `types::builder::X` in `Result<types::builder::X, String>` → `types::X`.
fn value_type(ty: &Type) -> Option<(Type, Type)> {
    let t = text(ty);
    let inner = t.strip_prefix("Result<")?.strip_suffix(",String>")?;
    let name = inner.strip_prefix("types::builder::")?;
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    Some((
        syn::parse_str(&format!("types::{name}")).ok()?,
        syn::parse_str(inner).ok()?,
    ))
}

/// Swap the `body` field of every struct that holds a builder-typed body;
/// the names of those structs go to `builders`.
fn collect(item: &mut Item, builders: &mut HashSet<String>) {
    match item {
        Item::Mod(m) => {
            for item in m.content.iter_mut().flat_map(|(_, items)| items.iter_mut()) {
                collect(item, builders);
            }
        }
        Item::Struct(s) => {
            let Fields::Named(fields) = &mut s.fields else {
                return;
            };
            for field in fields.named.iter_mut() {
                if field.ident.as_ref().is_some_and(|i| i == "body")
                    && let Some((value, builder)) = value_type(&field.ty)
                {
                    field.ty = syn::parse_quote!(payauth_runtime::__private::OperationBody<#value, #builder>);
                    builders.insert(s.ident.to_string());
                }
            }
        }
        _ => {}
    }
}

/// The three rewrites, inside the `impl` blocks of `builders` only.
struct Rewrite {
    builders: HashSet<String>,
}

impl VisitMut for Rewrite {
    fn visit_item_impl_mut(&mut self, item: &mut syn::ItemImpl) {
        if item.trait_.is_none()
            && let Type::Path(p) = item.self_ty.as_ref()
            && p.path
                .segments
                .last()
                .is_some_and(|s| self.builders.contains(&s.ident.to_string()))
        {
            InImpl.visit_item_impl_mut(item);
        }
    }
}

struct InImpl;

impl VisitMut for InImpl {
    fn visit_field_value_mut(&mut self, fv: &mut syn::FieldValue) {
        if text(&fv.member) == "body" && text(&fv.expr) == "Ok(::std::default::Default::default())"
        {
            fv.expr = syn::parse_quote!(payauth_runtime::__private::OperationBody::Unset);
        }
        visit_mut::visit_field_value_mut(self, fv);
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        match expr {
            // self.body = value.try_into().map(From::from).map_err(C)
            Expr::Assign(assign) if text(&assign.left) == "self.body" => {
                if let Expr::MethodCall(map_err) = assign.right.as_mut()
                    && map_err.method == "map_err"
                    && let Expr::MethodCall(map) = map_err.receiver.as_mut()
                    && map.method == "map"
                    && map.args.len() == 1
                    && text(&map.args[0]) == "From::from"
                {
                    let converted = map.receiver.as_ref().clone();
                    let message = &map_err.args;
                    *assign.right = syn::parse_quote!(
                        payauth_runtime::__private::OperationBody::given(#converted.map_err(#message))
                    );
                }
            }
            // body.and_then(|v| types::X::try_from(v).map_err(…))
            Expr::MethodCall(ExprMethodCall {
                method,
                receiver,
                args,
                ..
            }) if method == "and_then"
                && text(receiver.as_ref()) == "body"
                && args.len() == 1
                && matches!(&args[0], Expr::Closure(_))
                && text(&args[0]).contains("::try_from(v)") =>
            {
                *expr = syn::parse_quote!(body.value());
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATION: &str = r#"
        pub mod builder {
            #[derive(Debug, Clone)]
            pub struct CreateThing<'a> {
                client: &'a super::Client,
                body: Result<types::builder::ThingRequest, String>,
            }
            impl<'a> CreateThing<'a> {
                pub fn new(client: &'a super::Client) -> Self {
                    Self { client: client, body: Ok(::std::default::Default::default()) }
                }
                pub fn body<V>(mut self, value: V) -> Self
                where V: std::convert::TryInto<types::ThingRequest>,
                {
                    self.body = value
                        .try_into()
                        .map(From::from)
                        .map_err(|s| format!("conversion to `ThingRequest` for body failed: {}", s));
                    self
                }
                pub fn body_map<F>(mut self, f: F) -> Self
                where F: std::ops::FnOnce(types::builder::ThingRequest) -> types::builder::ThingRequest,
                {
                    self.body = self.body.map(f);
                    self
                }
                pub async fn send(self) -> Result<ResponseValue<()>, Error<()>> {
                    let Self { client, body } = self;
                    let body = body
                        .and_then(|v| { types::ThingRequest::try_from(v).map_err(|e| e.to_string()) })
                        .map_err(Error::InvalidRequest)?;
                    todo!()
                }
            }
            pub struct ListThings<'a> {
                client: &'a super::Client,
                body: Result<types::ThingList, String>,
            }
            impl<'a> ListThings<'a> {
                pub fn new(client: &'a super::Client) -> Self {
                    Self { client: client, body: Ok(::std::default::Default::default()) }
                }
            }
        }
    "#;

    fn tidied(src: &str) -> String {
        super::super::syntax_text::after(src, keep_given_bodies)
    }

    #[test]
    fn a_builder_typed_body_is_kept_as_the_value_given() {
        let out: String = tidied(OPERATION).split_whitespace().collect();
        for want in [
            "body:payauth_runtime::__private::OperationBody<types::ThingRequest,types::builder::ThingRequest,>,",
            "body:payauth_runtime::__private::OperationBody::Unset",
            "self.body=payauth_runtime::__private::OperationBody::given(value.try_into().map_err(|s|{format!(",
            "self.body=self.body.map(f);",
            "letbody=body.value().map_err(Error::InvalidRequest)?;",
        ] {
            assert!(out.contains(want), "missing {want} in\n{out}");
        }
        assert!(!out.contains("From::from"), "{out}");
        assert!(!out.contains("try_from(v)"), "{out}");
    }

    #[test]
    fn a_body_without_a_builder_type_is_left_alone() {
        let out: String = tidied(OPERATION).split_whitespace().collect();
        assert!(
            out.contains("body:Result<types::ThingList,String>,"),
            "{out}"
        );
        assert_eq!(
            out.matches("body:Ok(::std::default::Default::default())")
                .count(),
            1,
            "{out}"
        );
    }
}
