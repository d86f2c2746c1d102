//! What the docs of a generated operation say that progenitor's do not,
//! read from the spec: the credentials it needs (its `security`, the
//! schemes' kinds, the SDK's extensions), the failures it documents (its
//! `responses`, each with the `ErrorKind` the runtime gives that status)
//! and its parameters' descriptions. `tidy::documented` writes them into
//! the generated code.

use std::collections::BTreeMap;

use openapiv3::{
    APIKeyLocation, OpenAPI, Parameter, ReferenceOr, Response, SecurityRequirement, SecurityScheme,
    StatusCode,
};

use crate::emit::{BODY_CHECKSUM_EXTENSION, IDEMPOTENCY_KEY_EXTENSION, SIGNED_JWT_EXTENSION};

/// The documentation facts of every operation of a spec, by operation id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationDocs {
    /// Operation id → its facts.
    pub operations: BTreeMap<String, OperationDoc>,
}

/// One operation's facts, as Markdown ready for a doc comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationDoc {
    /// The "Credentials" section's text.
    pub credentials: String,
    /// The documented error statuses, in the spec's order.
    pub errors: Vec<DocumentedError>,
    /// Parameter (its Rust name, as progenitor writes it) → what its
    /// setter's doc says.
    pub parameters: BTreeMap<String, String>,
    /// Whether an alternative of its security is a bearer token (a 401
    /// was then answered after one renewal and retry).
    pub bearer: bool,
}

/// One documented error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentedError {
    /// `404`, or a range as the spec writes it (`4XX`).
    pub status: String,
    /// The `ErrorKind` variant the runtime gives it (`NotFound`), when
    /// the status is a single one.
    pub kind: Option<&'static str>,
    /// The response's description, on one line.
    pub description: String,
    /// The component schema of its JSON body, when it names one.
    pub body: Option<String>,
}

/// The `ErrorKind` variant the runtime classifies a final answer of an
/// operation with, by its status: the runtime's
/// `Error::from_operation_status`, which the workspace's tests compare
/// with this for every status.
pub fn operation_status_kind(status: u16) -> &'static str {
    match status {
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        408 | 429 | 500 | 502..=599 => "Transient",
        400..=499 | 501 => "BadRequest",
        _ => "MalformedResponse",
    }
}

/// `PageNumber` → `page_number`, `h-region-code` → `h_region_code`: a
/// parameter's name as progenitor names its setter.
pub fn rust_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    out.trim_end_matches('_').to_string()
}

/// A description on one line: its lines joined, spaces collapsed.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The facts of every operation of `spec`.
pub fn operation_docs(spec: &OpenAPI) -> OperationDocs {
    let schemes: BTreeMap<&str, &SecurityScheme> = spec
        .components
        .iter()
        .flat_map(|c| c.security_schemes.iter())
        .filter_map(|(name, s)| s.as_item().map(|s| (name.as_str(), s)))
        .collect();
    let mut operations = BTreeMap::new();
    for (_, _, op) in spec.operations() {
        let Some(id) = op.operation_id.as_deref() else {
            continue;
        };
        let security = op.security.as_ref().or(spec.security.as_ref());
        let bearer = security.into_iter().flatten().flat_map(|req| req.keys()).any(|name| {
            matches!(
                schemes.get(name.as_str()),
                Some(SecurityScheme::HTTP { scheme, .. }) if scheme.eq_ignore_ascii_case("bearer")
            )
        });
        let mut credentials = credentials(security.map(Vec::as_slice), &schemes);
        if let Some(field) = op
            .extensions
            .get(IDEMPOTENCY_KEY_EXTENSION)
            .and_then(|v| v.as_str())
        {
            credentials.push_str(&format!(
                "\n\nThe body's `{field}` is the provider's idempotency key: a call \
                 whose body carries it is retried after a timeout or a 5xx (the \
                 provider answers a repeat with the original answer); without it, \
                 only on a 429 or a connection that never reached the provider, \
                 unless the retry policy opts in (`retry_non_idempotent`)."
            ));
        }
        if let Some(ext) = op.extensions.get(BODY_CHECKSUM_EXTENSION) {
            let field = ext.get("field").and_then(|v| v.as_str()).unwrap_or("?");
            let parts: Vec<&str> = ext
                .get("parts")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|p| p.as_str()).collect())
                .unwrap_or_default();
            credentials.push_str(&format!(
                "\n\nThe body's `{field}` is computed by the SDK when it is sent: \
                 Base64(HMAC-SHA256(the signing secret, `{}`)); a value given for it \
                 is replaced.",
                parts.join("|")
            ));
        }
        let errors = op
            .responses
            .responses
            .iter()
            .filter_map(|(status, response)| documented_error(spec, status, response))
            .collect();
        let parameters = op
            .parameters
            .iter()
            .filter_map(|p| resolve_parameter(spec, p))
            .map(|p| {
                let data = p.parameter_data_ref();
                let place = match p {
                    Parameter::Query { .. } => "query parameter",
                    Parameter::Header { .. } => "header",
                    Parameter::Path { .. } => "path parameter",
                    Parameter::Cookie { .. } => "cookie",
                };
                let required = if data.required {
                    "required"
                } else {
                    "optional"
                };
                let mut text = format!("Sets the `{}` {place} ({required}).", data.name);
                if let Some(d) = &data.description {
                    text.push_str("\n\n");
                    text.push_str(d.trim_end());
                }
                (rust_name(&data.name), text)
            })
            .collect();
        operations.insert(
            id.to_string(),
            OperationDoc {
                credentials,
                errors,
                parameters,
                bearer,
            },
        );
    }
    OperationDocs { operations }
}

fn resolve_parameter<'a>(
    spec: &'a OpenAPI,
    p: &'a ReferenceOr<Parameter>,
) -> Option<&'a Parameter> {
    match p {
        ReferenceOr::Item(p) => Some(p),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/parameters/")?;
            spec.components.as_ref()?.parameters.get(name)?.as_item()
        }
    }
}

fn documented_error(
    spec: &OpenAPI,
    status: &StatusCode,
    response: &ReferenceOr<Response>,
) -> Option<DocumentedError> {
    let response = match response {
        ReferenceOr::Item(r) => r,
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/responses/")?;
            spec.components.as_ref()?.responses.get(name)?.as_item()?
        }
    };
    let (status, kind) = match status {
        StatusCode::Code(code) if *code < 400 => return None,
        StatusCode::Code(code) => (code.to_string(), Some(operation_status_kind(*code))),
        StatusCode::Range(r) if *r < 4 => return None,
        StatusCode::Range(r) => (format!("{r}XX"), None),
    };
    let body = response
        .content
        .get("application/json")
        .and_then(|media| media.schema.as_ref())
        .and_then(|schema| match schema {
            ReferenceOr::Reference { reference } => reference
                .strip_prefix("#/components/schemas/")
                .map(str::to_string),
            ReferenceOr::Item(_) => None,
        });
    Some(DocumentedError {
        status,
        kind,
        description: one_line(&response.description),
        body,
    })
}

/// The "Credentials" section: what each alternative of `security` puts
/// on the request.
fn credentials(
    security: Option<&[SecurityRequirement]>,
    schemes: &BTreeMap<&str, &SecurityScheme>,
) -> String {
    let alternatives: Vec<String> = security
        .unwrap_or_default()
        .iter()
        .filter(|req| !req.is_empty())
        .map(|req| {
            req.keys()
                .map(|name| scheme_text(name, schemes.get(name.as_str()).copied()))
                .collect::<Vec<_>>()
                .join(", and ")
        })
        .collect();
    match alternatives.as_slice() {
        [] => "None: this is the provider's login, sent without credentials. The \
               client calls it itself whenever it needs a token; a token obtained \
               by calling it directly is not the client's cached one."
            .to_string(),
        [one] => format!("{}.", capitalized(one)),
        many => {
            let list: Vec<String> = many.iter().map(|alt| format!("- {alt}")).collect();
            format!(
                "One of these, the first whose credentials the client was built with:\n\n{}",
                list.join("\n")
            )
        }
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What one scheme puts on the request, and where the SDK gets it.
fn scheme_text(name: &str, scheme: Option<&SecurityScheme>) -> String {
    let how = match scheme {
        Some(SecurityScheme::HTTP { scheme, .. }) if scheme.eq_ignore_ascii_case("bearer") => {
            "a bearer token (`Authorization: Bearer …`) that the client obtains with its \
             credentials, caches and renews; a 401 renews it and retries once"
                .to_string()
        }
        Some(SecurityScheme::HTTP { scheme, .. }) if scheme.eq_ignore_ascii_case("basic") => {
            "HTTP Basic (`Authorization: Basic …`) from the client's credentials".to_string()
        }
        Some(SecurityScheme::APIKey {
            location: APIKeyLocation::Header,
            name: header,
            ..
        }) => format!("the API key in the `{header}` header, from the client's credentials"),
        Some(SecurityScheme::APIKey {
            location: APIKeyLocation::Query,
            name: param,
            extensions,
            ..
        }) if extensions.contains_key(SIGNED_JWT_EXTENSION) => format!(
            "a signature: an HS256 JWT over the JSON body in the `{param}` query \
             parameter, signed with the client's signing secret when the request is \
             sent (without that secret, a `Config` error and nothing sent)"
        ),
        _ => "a scheme the SDK cannot apply: without another alternative, the call \
              fails with a `Config` error and nothing is sent"
            .to_string(),
    };
    format!("`{name}`: {how}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_become_setter_names() {
        for (name, rust) in [
            ("PageNumber", "page_number"),
            ("h-region-code", "h_region_code"),
            ("merchant_id", "merchant_id"),
            ("id", "id"),
            ("X-Checksum", "x_checksum"),
            ("ClientStoreID", "client_store_id"),
        ] {
            assert_eq!(rust_name(name), rust, "{name}");
        }
    }

    #[test]
    fn security_and_responses_are_read_from_the_spec() {
        let spec: OpenAPI = serde_yaml::from_str(
            r#"
openapi: 3.0.3
info: {title: t, version: "1"}
security: [{bearerAuth: []}]
paths:
  /login:
    post:
      operationId: login
      security: []
      responses:
        '200': {description: ok}
  /things/{id}:
    get:
      operationId: get_thing
      security: [{bearerAuth: []}, {apiKeyAuth: []}]
      parameters:
        - {name: id, in: path, required: true, description: The thing., schema: {type: string}}
      responses:
        '200': {description: ok}
        '404':
          description: |
            No such
            thing.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Problem'}
        '5XX': {description: Down.}
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer}
    apiKeyAuth: {type: apiKey, in: header, name: Api-key}
  schemas:
    Problem: {type: object}
"#,
        )
        .unwrap();
        let docs = operation_docs(&spec);
        let login = &docs.operations["login"];
        assert!(login.credentials.starts_with("None"), "{login:?}");
        assert!(login.errors.is_empty());
        let get = &docs.operations["get_thing"];
        assert!(get.credentials.contains("- `bearerAuth`"), "{get:?}");
        assert!(get.credentials.contains("`Api-key` header"), "{get:?}");
        assert_eq!(
            get.errors,
            vec![
                DocumentedError {
                    status: "404".into(),
                    kind: Some("NotFound"),
                    description: "No such thing.".into(),
                    body: Some("Problem".into()),
                },
                DocumentedError {
                    status: "5XX".into(),
                    kind: None,
                    description: "Down.".into(),
                    body: None,
                },
            ]
        );
        assert_eq!(
            get.parameters["id"],
            "Sets the `id` path parameter (required).\n\nThe thing."
        );
    }
}
