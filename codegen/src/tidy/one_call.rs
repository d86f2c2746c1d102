//! progenitor's three hook calls around a request become one runtime call.

use syn::visit_mut::{self, VisitMut};
use syn::{Block, Stmt};

use super::syntax_text::text;

/// Apply the pass to `file`.
pub(super) fn one_call(file: &mut syn::File) {
    OneCall.visit_file_mut(file);
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
