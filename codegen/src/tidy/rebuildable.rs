//! An operation's request built by a closure the runtime can call again.
//!
//! A retry, or the attempt after a 401, sends the request once more, and
//! reqwest consumes what it sends: the runtime used to copy every request
//! before its first attempt (URL, header map, body: four allocations and
//! their frees, about 1,400 instructions a call), almost always for
//! nothing. The pass turns progenitor's statements that build the request
//! into a closure over the values the operation holds (its parameters,
//! the typed body), which the runtime calls for the first attempt and
//! again only when another is due:
//!
//! ```text
//! let Self { client, body } = self;
//! let body = body.value().map_err(Error::InvalidRequest)?;   // checks: once
//! let build = || -> Result<reqwest::Request, Error<E>> {
//!     let url = format!(…);
//!     #[allow(unused_mut)]
//!     let mut request = client.client.post(url)….json(&body).build()?;
//!     Ok(request)
//! };
//! let response = client.auth_call(&build, "operation_id").await?;
//! ```
//!
//! The typed body stays in the operation's future until the call is over
//! — what a retry needs, and no more.

use syn::visit_mut::{self, VisitMut};
use syn::{GenericArgument, ImplItemFn, PathArguments, ReturnType, Stmt, Type};

use super::syntax_text::{auth_call, text};

/// Apply the pass to `file`.
pub(super) fn build_again(file: &mut syn::File) {
    Rebuildable.visit_file_mut(file);
}

struct Rebuildable;

/// The first argument of `auth_call` as `one_call` writes it.
const ONE_REQUEST: &str = "request";

/// A check of one of the builder's values: `let x = x….map_err(Error::InvalidRequest)?;`.
fn is_check(stmt: &Stmt) -> bool {
    let t = text(stmt);
    matches!(stmt, Stmt::Local(_)) && t.ends_with(".map_err(Error::InvalidRequest)?;")
}

/// `E` of `Result<T, E>`.
fn error_type(output: &ReturnType) -> Option<Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let Type::Path(path) = ty.as_ref() else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.iter().nth(1)? {
        GenericArgument::Type(e) => Some(e.clone()),
        _ => None,
    }
}

impl VisitMut for Rebuildable {
    fn visit_impl_item_fn_mut(&mut self, f: &mut ImplItemFn) {
        visit_mut::visit_impl_item_fn_mut(self, f);
        if f.sig.ident != "send" || f.sig.asyncness.is_none() {
            return;
        }
        let stmts = &f.block.stmts;
        let Some(at) = stmts
            .iter()
            .position(|s| auth_call(s, ONE_REQUEST).is_some())
        else {
            return;
        };
        let (Some(id), Some(error)) = (
            auth_call(&stmts[at], ONE_REQUEST),
            error_type(&f.sig.output),
        ) else {
            return;
        };
        // `let Self { client, … } = self;`, then the checks, then the building.
        if !text(&stmts[0]).starts_with("letSelf{client") {
            return;
        }
        let from = 1 + stmts[1..at].iter().take_while(|s| is_check(s)).count();
        let mut building = stmts[from..at].to_vec();
        if building.is_empty() || !text(&stmts[at - 1]).contains("letmutrequest=") {
            return;
        }
        // The closure is called again: it borrows what it reads.
        for stmt in &mut building {
            Borrowed.visit_stmt_mut(stmt);
        }
        let build: Stmt = syn::parse_quote! {
            let build = || -> ::std::result::Result<reqwest::Request, #error> {
                #(#building)*
                Ok(request)
            };
        };
        let call: Stmt = syn::parse_quote! {
            let response = client.auth_call(&build, #id).await?;
        };
        f.block.stmts.splice(from..=at, [build, call]);
    }
}

/// `if let Some(value) = x {` → `if let Some(value) = &x {`: progenitor
/// writes optional header parameters so, which would move `x` out.
struct Borrowed;

impl VisitMut for Borrowed {
    fn visit_expr_let_mut(&mut self, e: &mut syn::ExprLet) {
        if let syn::Expr::Path(p) = e.expr.as_ref()
            && p.path.get_ident().is_some()
        {
            let x = p.clone();
            *e.expr = syn::parse_quote!(&#x);
        }
        visit_mut::visit_expr_let_mut(self, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tidied(src: &str) -> String {
        super::super::syntax_text::after(src, build_again)
            .split_whitespace()
            .collect()
    }

    const SEND: &str = r#"
        impl<'a> GetThing<'a> {
            pub async fn send(self) -> Result<ResponseValue<types::Thing>, Error<types::Oops>> {
                let Self { client, id, body } = self;
                let id = id.map_err(Error::InvalidRequest)?;
                let body = body.value().map_err(Error::InvalidRequest)?;
                let url = format!("{}/things/{}", client.baseurl, encode_path(&id.to_string()));
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                if let Some(value) = region {
                    header_map.append("region", value.to_string().try_into()?);
                }
                #[allow(unused_mut)]
                let mut request = client.client.post(url).json(&body).build()?;
                let response = client.auth_call(request, "get_thing").await?;
                match response.status().as_u16() {
                    200u16 => payauth_runtime::__private::response::json(response).await,
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }
        }
    "#;

    #[test]
    fn the_request_is_built_by_a_closure_the_runtime_calls() {
        let out = tidied(SEND);
        let want = [
            "letSelf{client,id,body}=self;",
            "letid=id.map_err(Error::InvalidRequest)?;",
            "letbody=body.value().map_err(Error::InvalidRequest)?;",
            "letbuild=||->::std::result::Result<reqwest::Request,Error<types::Oops>>{leturl=format!(",
            "ifletSome(value)=&region{",
            "letmutrequest=client.client.post(url).json(&body).build()?;Ok(request)};",
            "letresponse=client.auth_call(&build,\"get_thing\").await?;",
            "matchresponse.status().as_u16()",
        ];
        let mut at = 0;
        for w in want {
            let found = out[at..]
                .find(w)
                .unwrap_or_else(|| panic!("missing (in order) {w} in\n{out}"));
            at += found + w.len();
        }
        assert!(!out.contains("auth_call(request"), "{out}");
    }

    #[test]
    fn a_send_of_another_shape_is_left_alone() {
        for src in [
            SEND.replace(
                "client.auth_call(request, \"get_thing\")",
                "client.other(request)",
            ),
            SEND.replace("async fn send", "async fn post"),
            SEND.replace(
                "let Self { client, id, body } = self;",
                "let client = self.client;",
            ),
            SEND.replace("let mut request =", "let mut prepared ="),
        ] {
            let out = tidied(&src);
            assert!(!out.contains("letbuild="), "{out}");
        }
    }
}
