//! Passes over progenitor's output before it is written.
//!
//! progenitor (0.15) puts `api-version: <info.version>` on every request
//! (see `../shared/notes/progenitor.md`); no provider wants it, and it cost
//! every call a header map of its own (two allocations), a merge into the
//! request's headers and a removal in the runtime. The pass deletes the
//! `header_map.append(HeaderName::from_static("api-version"), …)`
//! statement; a `header_map` then left empty is not built at all, and its
//! `.headers(header_map)` is dropped from the request chain. Header
//! parameters of an operation keep their map, sized for them alone.
//!
//! Adjacent `match` arms with literal patterns and the same body are
//! merged (`400u16 | 401u16 | 403u16 => …`): progenitor writes one arm per
//! documented status, each its own copy of the same decoding future.
//!
//! progenitor's `pre`, `exec` and `post` hook calls (three futures, an
//! `OperationInfo`, the request moved between them) become one runtime
//! call, and the statements that build the request a closure it is given
//! (`rebuildable`): `client.auth_call(&build, "operation_id")`, the
//! runtime's `Session::call_built`, which does what the hooks did and
//! builds the request once, and again only for a retry or after a 401 —
//! no copy of every request is kept in case.
//!
//! An operation builder's body is kept as the value given to `.body(…)`
//! (`kept_body`), not converted to its builder type and back.
//!
//! `ResponseValue::from_response(response)` becomes
//! `auth_runtime::__private::response::json(response)`: the same value, status and
//! errors, with the response's header map moved instead of copied.
//!
//! Every `send` then fails with the runtime's `OperationError<E>`
//! (`typed_errors`), and the error arms it makes alike are merged again.
//!
//! The types that hold a secret the spec marks (`x-secret`) get a `Debug`
//! that redacts it (`redact`).

mod kept_body;
mod rebuildable;
mod redact;
mod typed_errors;

use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::visit_mut::{self, VisitMut};
use syn::{Arm, Block, Expr, ExprMatch, ExprMethodCall, Lit, Pat, PatOr, Stmt, Token};

/// Apply every pass to `file`, redacting what `secrets` marks; returns
/// the marked schemas no generated type was found for.
pub fn tidy_with(
    file: &mut syn::File,
    secrets: &crate::secrets::Secrets,
) -> std::collections::BTreeSet<String> {
    tidy(file);
    redact::redact(file, secrets)
}

/// Apply every pass but the redaction (which needs the spec) to `file`.
pub fn tidy(file: &mut syn::File) {
    NoApiVersion.visit_file_mut(file);
    MergeArms.visit_file_mut(file);
    MovedHeaders.visit_file_mut(file);
    OneCall.visit_file_mut(file);
    rebuildable::build_again(file);
    kept_body::keep_given_bodies(file);
    typed_errors::typed_errors(file);
    MergeArms.visit_file_mut(file);
}

/// `let info = OperationInfo { operation_id: "X" }; client.pre(..)…;
/// let result = client.exec(..)…; client.post(..)…; let response = result?;`
/// → `let response = client.auth_call(request, "X").await?;`
struct OneCall;

/// The operation id of `let info = OperationInfo { operation_id: "X", };`.
fn operation_info(stmt: &Stmt) -> Option<String> {
    let t = text(stmt);
    let rest = t.strip_prefix("letinfo=OperationInfo{operation_id:\"")?;
    let end = rest.find('"')?;
    let tail = &rest[end..];
    (tail == "\",};" || tail == "\"};").then(|| rest[..end].to_string())
}

const HOOK_CALLS: [&str; 4] = [
    "client.pre(&mutrequest,&info).await?;",
    "letresult=client.exec(request,&info).await;",
    "client.post(&result,&info).await?;",
    "letresponse=result?;",
];

impl VisitMut for OneCall {
    fn visit_block_mut(&mut self, block: &mut Block) {
        let mut i = 0;
        while i + HOOK_CALLS.len() < block.stmts.len() {
            let Some(id) = operation_info(&block.stmts[i]) else {
                i += 1;
                continue;
            };
            let hooks = &block.stmts[i + 1..=i + HOOK_CALLS.len()];
            if hooks
                .iter()
                .zip(HOOK_CALLS)
                .all(|(s, want)| text(s) == want)
            {
                let call: Stmt = syn::parse_quote! {
                    let response = client.auth_call(request, #id).await?;
                };
                block
                    .stmts
                    .splice(i..=i + HOOK_CALLS.len(), std::iter::once(call));
            }
            i += 1;
        }
        visit_mut::visit_block_mut(self, block);
    }
}

/// `ResponseValue::from_response(x)` → `auth_runtime::__private::response::json(x)`.
struct MovedHeaders;

impl VisitMut for MovedHeaders {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        if let Expr::Call(call) = expr
            && let Expr::Path(path) = call.func.as_ref()
            && text(&path.path) == "ResponseValue::from_response"
            && call.args.len() == 1
        {
            *call.func = syn::parse_quote!(auth_runtime::__private::response::json);
        }
    }
}

struct NoApiVersion;

fn text(tokens: &impl ToTokens) -> String {
    tokens
        .to_token_stream()
        .to_string()
        .split_whitespace()
        .collect()
}

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

/// Adjacent match arms with the same body and literal patterns become one
/// arm: progenitor writes one arm per documented status, and three error
/// statuses of one type were three copies of the same decoding future —
/// code every call of the operation carries through the instruction cache.
struct MergeArms;

fn literal_pattern(pat: &Pat) -> bool {
    match pat {
        Pat::Lit(_) => true,
        Pat::Or(or) => or.cases.iter().all(literal_pattern),
        _ => false,
    }
}

impl VisitMut for MergeArms {
    fn visit_expr_match_mut(&mut self, m: &mut ExprMatch) {
        visit_mut::visit_expr_match_mut(self, m);
        let mut merged: Vec<Arm> = Vec::with_capacity(m.arms.len());
        for arm in std::mem::take(&mut m.arms) {
            if let Some(last) = merged.last_mut()
                && last.guard.is_none()
                && arm.guard.is_none()
                && literal_pattern(&last.pat)
                && literal_pattern(&arm.pat)
                && text(&last.body) == text(&arm.body)
            {
                let mut cases: Punctuated<Pat, Token![|]> = Punctuated::new();
                for pat in [last.pat.clone(), arm.pat] {
                    match pat {
                        Pat::Or(or) => cases.extend(or.cases),
                        other => cases.push(other),
                    }
                }
                last.pat = Pat::Or(PatOr {
                    attrs: Vec::new(),
                    leading_vert: None,
                    cases,
                });
                continue;
            }
            merged.push(arm);
        }
        m.arms = merged;
    }
}

/// `src` after `pass`, as prettyplease writes it (for the passes' tests).
#[cfg(test)]
fn after(src: &str, pass: fn(&mut syn::File)) -> String {
    let mut file: syn::File = syn::parse_str(src).expect("test source parses");
    pass(&mut file);
    prettyplease::unparse(&file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tidied(src: &str) -> String {
        after(src, tidy)
    }

    #[test]
    fn the_three_hooks_become_one_call() {
        let out = tidied(
            r#"async fn send() {
                let mut request = client.client.get(url).build()?;
                let info = OperationInfo {
                    operation_id: "list_things",
                };
                client.pre(&mut request, &info).await?;
                let result = client.exec(request, &info).await;
                client.post(&result, &info).await?;
                let response = result?;
                match response.status().as_u16() {
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }"#,
        );
        assert!(!out.contains("client.pre"), "{out}");
        assert!(!out.contains("OperationInfo"), "{out}");
        assert!(
            out.contains(r#"let response = client.auth_call(request, "list_things").await?;"#),
            "{out}"
        );
        assert!(out.contains("match response.status()"), "{out}");
    }

    #[test]
    fn hooks_in_another_order_are_left_alone() {
        let src = r#"async fn send() {
                let info = OperationInfo {
                    operation_id: "x",
                };
                let result = client.exec(request, &info).await;
                client.pre(&mut request, &info).await?;
                client.post(&result, &info).await?;
                let response = result?;
                response
            }"#;
        let out = tidied(src);
        assert!(out.contains("client.pre"), "{out}");
        assert!(!out.contains("auth_call"), "{out}");
    }

    #[test]
    fn responses_are_decoded_by_the_runtime() {
        let out = tidied(
            r#"async fn send() {
                match response.status().as_u16() {
                    200u16 => ResponseValue::from_response(response).await,
                    _ => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                }
            }"#,
        );
        assert!(!out.contains("from_response"), "{out}");
        assert_eq!(
            out.matches("auth_runtime::__private::response::json(response)")
                .count(),
            2,
            "{out}"
        );
    }

    #[test]
    fn a_map_holding_only_api_version_goes_with_its_use() {
        let out = tidied(
            r#"async fn send() {
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                );
                let mut request = client.client.post(url).json(&body).headers(header_map).build()?;
            }"#,
        );
        assert!(!out.contains("api-version"), "{out}");
        assert!(!out.contains("header_map"), "{out}");
        assert!(out.contains(".json(&body)"), "{out}");
        assert!(out.contains(".build()?"), "{out}");
    }

    #[test]
    fn header_parameters_keep_their_map() {
        let out = tidied(
            r#"async fn send() {
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                );
                header_map.append("x-idempotency-key", key.to_string().try_into()?);
                let mut request = client.client.post(url).headers(header_map).build()?;
            }"#,
        );
        assert!(!out.contains("api-version"), "{out}");
        assert!(out.contains("with_capacity(1usize)"), "{out}");
        assert!(out.contains(".headers(header_map)"), "{out}");
        assert!(out.contains("x-idempotency-key"), "{out}");
    }

    #[test]
    fn equal_adjacent_status_arms_merge_and_nothing_else_does() {
        let out = tidied(
            r#"async fn send() {
                match response.status().as_u16() {
                    200u16 => ResponseValue::from_response(response).await,
                    400u16 => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                    401u16 => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                    403u16 => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                    404u16 => Ok(ResponseValue::empty(response)),
                    409u16 if x => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }"#,
        );
        assert!(out.contains("400u16 | 401u16 | 403u16 =>"), "{out}");
        assert_eq!(out.matches("=>").count(), 5, "{out}");
        assert!(out.contains("409u16 if x =>"), "{out}");
    }
}
