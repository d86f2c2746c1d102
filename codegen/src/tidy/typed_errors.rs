//! Every operation fails with the runtime's `OperationError<E>`.
//!
//! progenitor's operations return `progenitor_client::Error<E>`, whose
//! only room for a failure of the hooks is `Custom(String)`: the runtime's
//! error kind (bad credentials, a provider down during login, a token
//! answer too large) did not survive, and a documented error status whose
//! body did not decode (a proxy's HTML 503) became a payload error, its
//! status lost. The pass rewrites each `send` so that:
//!
//! ```text
//! pub async fn send(self) -> Result<ResponseValue<T>, payauth_runtime::OperationError<E>> {
//!     let Self { client, body } = self;
//!     let auth_op = client.auth_operation("operation_id");
//!     let body = body.value().map_err(Error::InvalidRequest).map_err(|e| auth_op.fail(e))?;
//!     let build = || … ;                                    // unchanged
//!     let response = client.auth_call(&build, "operation_id").await?;  // OperationError already
//!     match response.status().as_u16() {
//!         200u16 => auth_op.decode(response).await,
//!         400u16 | 401u16 => Err(auth_op.error_response(response).await),
//!         _ => Err(auth_op.unexpected(response)),
//!     }
//! }
//! ```
//!
//! Any other `?` outside a closure goes through `auth_op.fail`, and a match
//! arm of another shape is mapped the same way, so the operation compiles
//! whatever progenitor writes there.

use syn::visit_mut::{self, VisitMut};
use syn::{Expr, GenericArgument, ImplItemFn, PathArguments, ReturnType, Stmt, Type};

use super::syntax_text::{auth_call, text};

/// The name of the operation's context in the rewritten `send`.
const CONTEXT: &str = "auth_op";

/// Apply the pass to `file`.
pub(super) fn typed_errors(file: &mut syn::File) {
    TypedErrors.visit_file_mut(file);
}

struct TypedErrors;

/// The first argument of `auth_call` as `rebuildable` writes it.
const BUILD: &str = "&build";

/// `Result<T, Error<E>>` → `Result<T, payauth_runtime::OperationError<E>>`;
/// false if the return type is not of that shape.
fn retype(output: &mut ReturnType) -> bool {
    let ReturnType::Type(_, ty) = output else {
        return false;
    };
    let Type::Path(path) = ty.as_mut() else {
        return false;
    };
    let Some(last) = path.path.segments.last_mut() else {
        return false;
    };
    if last.ident != "Result" {
        return false;
    }
    let PathArguments::AngleBracketed(args) = &mut last.arguments else {
        return false;
    };
    let Some(GenericArgument::Type(Type::Path(error))) = args.args.iter_mut().nth(1) else {
        return false;
    };
    let Some(segment) = error.path.segments.last() else {
        return false;
    };
    if error.path.segments.len() != 1 || segment.ident != "Error" {
        return false;
    }
    let PathArguments::AngleBracketed(inner) = &segment.arguments else {
        return false;
    };
    let inner = inner.clone();
    *error = syn::parse_quote!(payauth_runtime::OperationError #inner);
    true
}

impl VisitMut for TypedErrors {
    fn visit_impl_item_fn_mut(&mut self, f: &mut ImplItemFn) {
        visit_mut::visit_impl_item_fn_mut(self, f);
        if f.sig.ident != "send" || f.sig.asyncness.is_none() {
            return;
        }
        let Some(id) = f.block.stmts.iter().find_map(|s| auth_call(s, BUILD)) else {
            return;
        };
        if !text(&f.block.stmts[0]).starts_with("letSelf{client") || !retype(&mut f.sig.output) {
            return;
        }
        let context = syn::Ident::new(CONTEXT, proc_macro2::Span::call_site());
        let stmts = &mut f.block.stmts;
        if let Some(Stmt::Expr(Expr::Match(m), None)) = stmts.last_mut() {
            for arm in &mut m.arms {
                *arm.body = answer(&context, &arm.body);
            }
        }
        for stmt in stmts.iter_mut() {
            if auth_call(stmt, BUILD).is_none() {
                Failures { context: &context }.visit_stmt_mut(stmt);
            }
        }
        let declare: Stmt = syn::parse_quote! {
            let #context = client.auth_operation(#id);
        };
        stmts.insert(1, declare);
    }
}

/// One match arm's answer, in the runtime's terms.
fn answer(context: &syn::Ident, body: &Expr) -> Expr {
    let t = text(body);
    // An arm's body, with or without a block around it.
    let inner = t
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(&t);
    if inner == "payauth_runtime::__private::response::json(response).await" {
        return syn::parse_quote!(#context.decode(response).await);
    }
    if inner
        == "Err(Error::ErrorResponse(payauth_runtime::__private::response::json(response).await?,),)"
        || inner
            == "Err(Error::ErrorResponse(payauth_runtime::__private::response::json(response).await?))"
    {
        return syn::parse_quote!(Err(#context.error_response(response).await));
    }
    if inner == "Err(Error::UnexpectedResponse(response))" {
        return syn::parse_quote!(Err(#context.unexpected(response)));
    }
    if inner.starts_with("Ok(ResponseValue::empty(") {
        return body.clone();
    }
    syn::parse_quote!((#body).map_err(|e| #context.fail(e)))
}

/// `x?` → `x.map_err(|e| auth_op.fail(e))?`, outside closures (a
/// closure's `?` returns from the closure).
struct Failures<'a> {
    context: &'a syn::Ident,
}

impl VisitMut for Failures<'_> {
    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}

    fn visit_expr_try_mut(&mut self, e: &mut syn::ExprTry) {
        visit_mut::visit_expr_try_mut(self, e);
        if text(&e.expr).contains(&format!("{}.fail(", self.context)) {
            return;
        }
        let context = self.context;
        let inner = &e.expr;
        *e.expr = syn::parse_quote!(#inner.map_err(|e| #context.fail(e)));
    }
}

#[cfg(test)]
mod tests {
    use super::super::syntax_text::after;

    fn typed(src: &str) -> String {
        after(src, super::typed_errors)
    }

    /// `needle` in `out`, whitespace aside (prettyplease breaks lines).
    fn has(out: &str, needle: &str) -> bool {
        let squash = |s: &str| s.split_whitespace().collect::<String>();
        squash(out).contains(&squash(needle))
    }

    #[test]
    fn a_send_fails_with_the_operation_error() {
        let out = typed(
            r#"impl<'a> Login<'a> {
                pub async fn send(self) -> Result<ResponseValue<types::Token>, Error<types::ErrorEnvelope>> {
                    let Self { client, body } = self;
                    let body = body.value().map_err(Error::InvalidRequest)?;
                    let build = || -> ::std::result::Result<reqwest::Request, Error<types::ErrorEnvelope>> {
                        let request = client.client.post(url).json(&body).build()?;
                        Ok(request)
                    };
                    let response = client.auth_call(&build, "login").await?;
                    match response.status().as_u16() {
                        200u16 => payauth_runtime::__private::response::json(response).await,
                        201u16 => { payauth_runtime::__private::response::json(response).await }
                        400u16 | 401u16 => {
                            Err(Error::ErrorResponse(payauth_runtime::__private::response::json(response).await?))
                        }
                        204u16 => Ok(ResponseValue::empty(response)),
                        302u16 => Err(Error::InvalidUpgrade(response)),
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }"#,
        );
        assert!(
            has(
                &out,
                "Result<ResponseValue<types::Token>, payauth_runtime::OperationError<types::ErrorEnvelope>,>"
            ),
            "{out}"
        );
        assert!(
            has(&out, r#"let auth_op = client.auth_operation("login");"#),
            "{out}"
        );
        assert!(
            has(
                &out,
                ".map_err(Error::InvalidRequest).map_err(|e| auth_op.fail(e))?;"
            ),
            "{out}"
        );
        // The closure's own `?` and the runtime call's are left alone.
        assert!(has(&out, ".json(&body).build()?;"), "{out}");
        assert!(
            has(&out, r#"client.auth_call(&build, "login").await?;"#),
            "{out}"
        );
        assert!(
            has(&out, "200u16 => auth_op.decode(response).await,"),
            "{out}"
        );
        assert!(
            has(&out, "201u16 => auth_op.decode(response).await,"),
            "{out}"
        );
        assert!(
            has(
                &out,
                "400u16 | 401u16 => Err(auth_op.error_response(response).await),"
            ),
            "{out}"
        );
        assert!(
            has(&out, "204u16 => Ok(ResponseValue::empty(response)),"),
            "{out}"
        );
        assert!(
            has(
                &out,
                "(Err(Error::InvalidUpgrade(response))).map_err(|e| auth_op.fail(e))"
            ),
            "{out}"
        );
        assert!(
            has(&out, "_ => Err(auth_op.unexpected(response)),"),
            "{out}"
        );
        assert!(!has(&out, "ErrorResponse"), "{out}");
    }

    #[test]
    fn a_send_of_another_shape_is_left_alone() {
        let src = r#"impl X {
            pub async fn send(self) -> Result<ResponseValue<()>, Error<()>> {
                let Self { client } = self;
                let response = client.exec(request).await?;
                Ok(ResponseValue::empty(response))
            }
        }"#;
        let out = typed(src);
        assert!(out.contains("Error<()>"), "{out}");
        assert!(!out.contains("auth_op"), "{out}");
    }
}
