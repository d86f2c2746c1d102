//! Matching generated code by its text: a node's tokens with the spaces
//! taken out (`let response = client.auth_call(request, "x").await?;` →
//! `letresponse=client.auth_call(request,"x").await?;`), which is what
//! every pass compares progenitor's statements with.

use quote::ToTokens;
use syn::Stmt;

/// The tokens of `tokens`, without whitespace.
pub(super) fn text(tokens: &impl ToTokens) -> String {
    tokens
        .to_token_stream()
        .to_string()
        .split_whitespace()
        .collect()
}

/// `let response = client.auth_call(<request>, "X").await?;`: its
/// operation id `X`. `request` is the call's first argument as written
/// (`request` after `one_call`, `&build` after `rebuildable`).
pub(super) fn auth_call(stmt: &Stmt, request: &str) -> Option<String> {
    let t = text(stmt);
    let rest = t
        .strip_prefix("letresponse=client.auth_call(")?
        .strip_prefix(request)?
        .strip_prefix(",\"")?;
    let end = rest.find('"')?;
    (&rest[end..] == "\").await?;").then(|| rest[..end].to_string())
}

/// `src` after `pass`, as prettyplease writes it (for the passes' tests).
#[cfg(test)]
pub(super) fn after(src: &str, pass: fn(&mut syn::File)) -> String {
    let mut file: syn::File = syn::parse_str(src).expect("test source parses");
    pass(&mut file);
    prettyplease::unparse(&file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_auth_call_is_matched_with_its_first_argument() {
        let stmt: Stmt = syn::parse_quote! {
            let response = client.auth_call(&build, "get_thing").await?;
        };
        assert_eq!(auth_call(&stmt, "&build").as_deref(), Some("get_thing"));
        assert_eq!(auth_call(&stmt, "request"), None);
        let other: Stmt = syn::parse_quote! {
            let response = client.auth_call(&build, "get_thing").await;
        };
        assert_eq!(auth_call(&other, "&build"), None);
    }
}
