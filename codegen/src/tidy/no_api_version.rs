//! progenitor's `api-version` header taken out of every request, and the
//! header map built only for it with it.

use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, ExprMethodCall, Lit, Stmt};

use super::syntax_text::text;

/// Apply the pass to `file`.
pub(super) fn no_api_version(file: &mut syn::File) {
    NoApiVersion.visit_file_mut(file);
}

struct NoApiVersion;

/// `header_map.append(…"api-version"…)`.
fn is_api_version_append(stmt: &Stmt) -> bool {
    let t = text(stmt);
    t.starts_with("header_map.append(") && t.contains("\"api-version\"")
}

/// `let mut header_map = ::reqwest::header::HeaderMap::with_capacity(N);`
fn is_header_map_let(stmt: &Stmt) -> bool {
    let t = text(stmt);
    t.starts_with("letmutheader_map=") && t.contains("HeaderMap::with_capacity(")
}

fn mentions_header_map(stmt: &Stmt) -> bool {
    text(stmt).contains("header_map")
}

/// `receiver.headers(header_map)` → `receiver`, anywhere in a chain.
struct DropHeadersCall;

impl VisitMut for DropHeadersCall {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::MethodCall(ExprMethodCall {
            method,
            args,
            receiver,
            ..
        }) = expr
            && method == "headers"
            && args.len() == 1
            && text(&args[0]) == "header_map"
        {
            let inner = std::mem::replace(receiver.as_mut(), Expr::Verbatim(Default::default()));
            *expr = inner;
            self.visit_expr_mut(expr);
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// `with_capacity(N)` → `with_capacity(N - 1)` in the `let` of the map.
struct OneLess;

impl VisitMut for OneLess {
    fn visit_lit_mut(&mut self, lit: &mut Lit) {
        if let Lit::Int(n) = lit
            && let Ok(v) = n.base10_parse::<usize>()
        {
            *lit = Lit::Int(syn::LitInt::new(
                &format!("{}usize", v.saturating_sub(1)),
                n.span(),
            ));
        }
    }
}

impl VisitMut for NoApiVersion {
    fn visit_block_mut(&mut self, block: &mut Block) {
        let before = block.stmts.len();
        block.stmts.retain(|s| !is_api_version_append(s));
        if block.stmts.len() != before {
            let map_used = block
                .stmts
                .iter()
                .any(|s| !is_header_map_let(s) && text(s).contains("header_map.append("));
            if map_used {
                for stmt in block.stmts.iter_mut().filter(|s| is_header_map_let(s)) {
                    OneLess.visit_stmt_mut(stmt);
                }
            } else {
                block.stmts.retain(|s| !is_header_map_let(s));
                for stmt in block.stmts.iter_mut().filter(|s| mentions_header_map(s)) {
                    DropHeadersCall.visit_stmt_mut(stmt);
                }
            }
        }
        visit_mut::visit_block_mut(self, block);
    }
}
