//! Docs of the operations: each `Client` method gets the spec's
//! credentials and documented failures, and an example that compiles in
//! place of progenitor's `ignore` block; each operation builder's methods
//! say what they set.

use std::collections::{BTreeMap, BTreeSet};

use syn::{ImplItem, Item, ReturnType, Type};

use super::syntax::{
    doc_of, has_doc, inherent_self, module_items, set_doc, setter_param, try_into_target, type_text,
};
use crate::operation_docs::{OperationDoc, OperationDocs};

/// What an operation builder's methods say about the call.
#[derive(Default)]
struct Call {
    /// The setters, in order: name and the type each takes.
    setters: Vec<(String, String)>,
    /// `T` of `ResponseValue<T>`.
    success: Option<String>,
    /// `E` of `OperationError<E>`.
    error: Option<String>,
}

/// Apply the pass; returns the operations of `docs` no method was found
/// for.
pub(super) fn document_operations(
    file: &mut syn::File,
    docs: &OperationDocs,
    crate_name: &str,
) -> BTreeSet<String> {
    let calls = match module_items(&mut file.items, "builder") {
        Some(builders) => document_builders(builders, docs),
        None => BTreeMap::new(),
    };
    let mut missing: BTreeSet<String> = docs.operations.keys().cloned().collect();
    for item in &mut file.items {
        let Item::Impl(i) = item else { continue };
        if inherent_self(i).as_deref() != Some("Client") {
            continue;
        }
        for member in &mut i.items {
            let ImplItem::Fn(f) = member else { continue };
            let Some(builder) = builder_returned(&f.sig.output) else {
                continue;
            };
            let id = f.sig.ident.to_string();
            let (Some(doc), Some(call)) = (docs.operations.get(&id), calls.get(&builder)) else {
                continue;
            };
            missing.remove(&id);
            let progenitor = doc_of(&f.attrs).unwrap_or_default();
            let text = operation_text(&progenitor, &id, doc, call, crate_name);
            set_doc(&mut f.attrs, &text);
        }
    }
    missing
}

/// `X` of a method returning `builder::X<'_>`.
fn builder_returned(output: &ReturnType) -> Option<String> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let Type::Path(p) = &**ty else { return None };
    let segments: Vec<_> = p.path.segments.iter().collect();
    match segments.as_slice() {
        [module, name] if module.ident == "builder" => Some(name.ident.to_string()),
        _ => None,
    }
}

/// The operation builders: their methods documented, and what each says
/// about its call, by builder name.
fn document_builders(items: &mut [Item], docs: &OperationDocs) -> BTreeMap<String, Call> {
    let mut calls = BTreeMap::new();
    for item in items.iter_mut() {
        let Item::Impl(i) = item else { continue };
        let Some(name) = inherent_self(i) else {
            continue;
        };
        let id = operation_of(i);
        let doc = id.as_deref().and_then(|id| docs.operations.get(id));
        let mut call = Call::default();
        // Only a body with a builder of its own has a `body_map`.
        let body_builder = i
            .items
            .iter()
            .any(|m| matches!(m, ImplItem::Fn(f) if f.sig.ident == "body_map"));
        for member in &mut i.items {
            let ImplItem::Fn(f) = member else { continue };
            let method = f.sig.ident.to_string();
            if method == "send" {
                (call.success, call.error) = send_types(&f.sig.output);
                if let Some(id) = &id {
                    let sends = doc_of(&f.attrs).unwrap_or_default();
                    let text = format!(
                        "{}\n\n# Errors\n\nAn [`OperationError`](crate::OperationError): \
                         the failures [`Client::{id}`](super::Client::{id}) lists.",
                        sends.trim_end()
                    );
                    set_doc(&mut f.attrs, text.trim_start());
                }
                continue;
            }
            let target = setter_param(&f.sig).and_then(|v| try_into_target(&f.sig, &v));
            if let Some(ty) = &target {
                call.setters.push((method.clone(), type_text(ty)));
            }
            if has_doc(&f.attrs) {
                continue;
            }
            let text = match (method.as_str(), &target, &id) {
                ("new", _, Some(id)) => format!(
                    "The builder of a call to `{id}` through `client`; \
                     [`Client::{id}`](super::Client::{id}) makes one."
                ),
                ("body", Some(ty), _) if body_builder => format!(
                    "The request body: a [`{0}`], or anything that converts into one \
                     (its builder, [`{1}`]). It is checked when the call is sent.",
                    type_text(ty),
                    type_text(ty).replacen("types::", "types::builder::", 1),
                ),
                ("body", Some(ty), _) => format!(
                    "The request body: a [`{}`], or anything that converts into one. \
                     It is checked when the call is sent.",
                    type_text(ty),
                ),
                ("body_map", _, _) => "Changes the request body through its builder, \
                                       starting from the body given to `body` (or an \
                                       empty builder)."
                    .to_string(),
                (param, Some(_), _) => match doc.and_then(|d| d.parameters.get(param)) {
                    Some(text) => text.clone(),
                    None => continue,
                },
                _ => continue,
            };
            set_doc(&mut f.attrs, &text);
        }
        calls.insert(name, call);
    }
    calls
}

/// The operation id `send` names (`client.auth_operation("X")`).
fn operation_of(i: &syn::ItemImpl) -> Option<String> {
    let send = i.items.iter().find_map(|m| match m {
        ImplItem::Fn(f) if f.sig.ident == "send" => Some(f),
        _ => None,
    })?;
    let text = super::super::syntax_text::text(&send.block);
    let rest = text.split("client.auth_operation(\"").nth(1)?;
    Some(rest[..rest.find('"')?].to_string())
}

/// `T` and `E` of `Result<ResponseValue<T>, …OperationError<E>>`.
fn send_types(output: &ReturnType) -> (Option<String>, Option<String>) {
    let ReturnType::Type(_, ty) = output else {
        return (None, None);
    };
    let args = generic_args(ty);
    let inner = |ty: Option<&Type>| ty.and_then(|t| generic_args(t).first().map(type_text));
    (inner(args.first()), inner(args.get(1)))
}

/// The type arguments of the last segment of `ty`'s path.
fn generic_args(ty: &Type) -> Vec<Type> {
    let Type::Path(p) = ty else { return Vec::new() };
    let Some(last) = p.path.segments.last() else {
        return Vec::new();
    };
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// progenitor's doc without its `ignore` example, then the credentials,
/// the documented failures and an example that compiles.
fn operation_text(
    progenitor: &str,
    id: &str,
    doc: &OperationDoc,
    call: &Call,
    crate_name: &str,
) -> String {
    let kept = match progenitor.find("```ignore") {
        Some(start) => progenitor[..start].trim_end(),
        None => progenitor.trim_end(),
    };
    let mut text = format!("{kept}\n\n# Credentials\n\n{}\n", doc.credentials);
    text.push_str(&errors_text(doc, call));
    text.push_str(&example(id, call, crate_name));
    text
}

fn errors_text(doc: &OperationDoc, call: &Call) -> String {
    let body = call.error.as_deref().unwrap_or("()");
    let mut text = format!(
        "\n# Errors\n\n`send()` fails with an [`OperationError`](crate::OperationError)`<{body}>`; \
         its [`kind()`](crate::OperationError::kind) is what to decide on, its \
         [`body()`](crate::OperationError::body) the provider's error body when it sent \
         a documented one.\n"
    );
    if !doc.errors.is_empty() {
        text.push_str("\nThe spec documents:\n\n");
        for e in &doc.errors {
            let kind = match e.kind {
                Some(kind) => format!(" ([`{kind}`](crate::ErrorKind::{kind}))"),
                None => String::new(),
            };
            let mut line = format!("- `{}`{kind}: {}", e.status, e.description);
            if e.status == "401" && doc.bearer {
                line.push_str(" (answered after the client renewed its token and retried once)");
            }
            if let Some(schema) = &e.body {
                line.push_str(&format!(" Body: [`types::{schema}`]."));
            }
            text.push_str(&line);
            text.push('\n');
        }
    }
    text.push_str(
        "\nAny other error status gets its kind the same way, without a body; a \
         transport failure after the retries is `Transient`; a request that cannot \
         be built or authorized is `Config` (or `Signing`) and is not sent; an answer \
         that does not decode is `MalformedResponse`.\n",
    );
    text
}

/// A function making the call, with the types it takes and returns.
fn example(id: &str, call: &Call, crate_name: &str) -> String {
    let success = call.success.as_deref().unwrap_or("()");
    let error = call.error.as_deref().unwrap_or("()");
    let mut params = vec![format!("    client: &{crate_name}::Client,")];
    params.extend(
        call.setters
            .iter()
            .map(|(name, ty)| format!("    {name}: {ty},")),
    );
    let mut chain = vec![format!("        .{id}()")];
    chain.extend(
        call.setters
            .iter()
            .map(|(name, _)| format!("        .{name}({name})")),
    );
    let signature = params.join("\n");
    let imports = if format!("{signature}{success}{error}").contains("types::") {
        format!("use {crate_name}::{{OperationError, types}};")
    } else {
        format!("use {crate_name}::OperationError;")
    };
    format!(
        "\n# Example\n\n```no_run\n{imports}\n\nasync fn {id}(\n{signature}\n) -> Result<{success}, OperationError<{error}>> {{\n    let response = client\n{}\n        .send()\n        .await?;\n    Ok(response.into_inner())\n}}\n```",
        chain.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation_docs::DocumentedError;

    #[test]
    fn the_example_calls_the_operation_with_every_setter() {
        let call = Call {
            setters: vec![
                ("id".into(), "String".into()),
                ("body".into(), "types::Order".into()),
            ],
            success: Some("types::Receipt".into()),
            error: Some("types::Problem".into()),
        };
        let doc = OperationDoc {
            credentials: "`bearerAuth`: a bearer token.".into(),
            errors: vec![DocumentedError {
                status: "401".into(),
                kind: Some("Unauthorized"),
                description: "Expired.".into(),
                body: Some("Problem".into()),
            }],
            parameters: BTreeMap::new(),
            bearer: true,
        };
        let text = operation_text(
            "Pay\n\nSends a `POST`\n\n```ignore\nlet response = client.pay()\n```",
            "pay",
            &doc,
            &call,
            "shop",
        );
        assert!(!text.contains("ignore"), "{text}");
        assert!(
            text.starts_with("Pay\n\nSends a `POST`\n\n# Credentials"),
            "{text}"
        );
        assert!(text.contains("- `401` ([`Unauthorized`](crate::ErrorKind::Unauthorized)): Expired. (answered after"), "{text}");
        assert!(text.contains("Body: [`types::Problem`]."), "{text}");
        assert!(
            text.contains("use shop::{OperationError, types};"),
            "{text}"
        );
        assert!(
            text.contains(
                "async fn pay(\n    client: &shop::Client,\n    id: String,\n    body: types::Order,\n) -> Result<types::Receipt, OperationError<types::Problem>> {"
            ),
            "{text}"
        );
        assert!(
            text.contains("        .pay()\n        .id(id)\n        .body(body)\n        .send()"),
            "{text}"
        );
    }
}
