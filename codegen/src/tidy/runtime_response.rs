//! Responses decoded by the runtime, which moves the header map instead of
//! copying it.

use syn::Expr;
use syn::visit_mut::{self, VisitMut};

use super::syntax_text::text;

/// Apply the pass to `file`.
pub(super) fn runtime_response(file: &mut syn::File) {
    MovedHeaders.visit_file_mut(file);
}

/// `ResponseValue::from_response(x)` → `payauth_runtime::__private::response::json(x)`.
struct MovedHeaders;

impl VisitMut for MovedHeaders {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        if let Expr::Call(call) = expr
            && let Expr::Path(path) = call.func.as_ref()
            && text(&path.path) == "ResponseValue::from_response"
            && call.args.len() == 1
        {
            *call.func = syn::parse_quote!(payauth_runtime::__private::response::json);
        }
    }
}
