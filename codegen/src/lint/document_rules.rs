//! The rules on the document and its operations: `openapi-version`,
//! `parse` (openapiv3 reads it), `operation-id` and `reserved-name`,
//! `security`, `request-content-types`, `inline-response-schema` and
//! `error-schemas`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::linter::{Linter, METHODS, kind_of, rules};
use crate::pointer::escape;

/// Methods of `payauth_runtime::Sdk` (an operation of the same name would be
/// hidden behind them) and of the generated `Client` (progenitor's, and
/// the hooks `codegen` adds): no operation may take these names.
pub const RESERVED_OPERATION_NAMES: &[&str] = &[
    // payauth_runtime::Sdk
    "new",
    "api",
    "session",
    "connect",
    "base_url",
    "bearer",
    "request",
    "send",
    "send_with",
    "metrics",
    // the generated Client
    "new_with_client",
    "baseurl",
    "client",
    "inner",
    "api_version",
    "auth_call",
    "auth_operation",
    // std traits every client has (Clone, Debug)
    "clone",
    "fmt",
];

/// An error response of one operation, as seen by the `error-schemas` rule.
struct ErrorBody {
    code: String,
    pointer: String,
    /// Identity of the body schema of each media type (`$ref` target or inline JSON).
    schemas: Vec<String>,
}

impl Linter<'_> {
    // ---------------------------------------------------------------- openapi-version

    /// Returns whether the version is 3.0.x (so that openapiv3 is worth trying).
    pub(super) fn check_version(&mut self) -> bool {
        let file = self.file;
        match self.root.get("openapi") {
            None => {
                self.push(
                    "",
                    rules::OPENAPI_VERSION,
                    format!("`{file}` has no `openapi` field; write `openapi: 3.0.3`"),
                );
                false
            }
            Some(Value::String(v)) if is_openapi_30(v) => true,
            Some(v) => {
                let shown = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                self.push(
                    "/openapi",
                    rules::OPENAPI_VERSION,
                    format!(
                        "`{file}` declares openapi `{shown}`; only 3.0.x is supported \
                         (openapiv3 2.x and progenitor 0.15 do not read 3.1 or Swagger 2)"
                    ),
                );
                false
            }
        }
    }

    // ---------------------------------------------------------------- parse (openapiv3)

    pub(super) fn check_openapiv3(&mut self) {
        if let Err(e) = serde_json::from_value::<openapiv3::OpenAPI>(self.root.clone()) {
            let file = self.file;
            self.push(
                "",
                rules::PARSE,
                format!("`{file}` is not an OpenAPI 3.0 document openapiv3 can read: {e}"),
            );
        }
    }

    // ---------------------------------------------------------------- operations

    pub(super) fn check_operations(&mut self) {
        let root = self.root;
        let Some(paths) = root.get("paths").and_then(Value::as_object) else {
            return;
        };
        let mut seen_ids: BTreeMap<String, String> = BTreeMap::new();
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let op_ptr = format!("/paths/{}/{method}", escape(path));
                let label = format!("{} {path}", method.to_uppercase());
                let Some(op) = op.as_object() else { continue };
                self.check_operation_id(op, &op_ptr, &label, &mut seen_ids);
                self.check_security(op, &op_ptr, &label);
                self.check_request_body(op, &op_ptr, &label);
                self.check_responses(op, &op_ptr, &label);
            }
        }
    }

    fn check_operation_id(
        &mut self,
        op: &Map<String, Value>,
        op_ptr: &str,
        label: &str,
        seen: &mut BTreeMap<String, String>,
    ) {
        let file = self.file;
        match op.get("operationId") {
            None => self.push(
                op_ptr,
                rules::OPERATION_ID,
                format!("operation {label} in `{file}` has no operationId"),
            ),
            Some(Value::String(id)) if RESERVED_OPERATION_NAMES.contains(&id.as_str()) => self.push(
                format!("{op_ptr}/operationId"),
                rules::RESERVED_NAME,
                format!(
                    "operationId `{id}` of {label} in `{file}` is the name of a method of the SDK's client, which would hide the operation; choose another (reserved: {})",
                    RESERVED_OPERATION_NAMES.join(", ")
                ),
            ),
            Some(Value::String(id)) if is_snake_case(id) => {
                if let Some(first) = seen.get(id) {
                    let msg = format!(
                        "operationId `{id}` of {label} in `{file}` is already used by {first}"
                    );
                    self.push(format!("{op_ptr}/operationId"), rules::OPERATION_ID, msg);
                } else {
                    seen.insert(id.clone(), label.to_owned());
                }
            }
            Some(Value::String(id)) => self.push(
                format!("{op_ptr}/operationId"),
                rules::OPERATION_ID,
                format!("operationId `{id}` of {label} in `{file}` is not snake_case"),
            ),
            Some(other) => self.push(
                format!("{op_ptr}/operationId"),
                rules::OPERATION_ID,
                format!(
                    "operationId of {label} in `{file}` is {}, not a string",
                    kind_of(other)
                ),
            ),
        }
    }

    fn check_security(&mut self, op: &Map<String, Value>, op_ptr: &str, label: &str) {
        let file = self.file;
        let root = self.root;
        let Some(security) = op.get("security") else {
            self.push(
                op_ptr,
                rules::SECURITY,
                format!(
                    "operation {label} in `{file}` has no `security` key; state it on the \
                     operation (`security: []` for anonymous calls), the top-level default \
                     does not count"
                ),
            );
            return;
        };
        let Some(requirements) = security.as_array() else {
            self.push(
                format!("{op_ptr}/security"),
                rules::SECURITY,
                format!(
                    "`security` of {label} in `{file}` is {}, not a list",
                    kind_of(security)
                ),
            );
            return;
        };
        let schemes = root
            .get("components")
            .and_then(|c| c.get("securitySchemes"))
            .and_then(Value::as_object);
        for (i, requirement) in requirements.iter().enumerate() {
            let ptr = format!("{op_ptr}/security/{i}");
            let Some(requirement) = requirement.as_object() else {
                self.push(
                    ptr,
                    rules::SECURITY,
                    format!(
                        "security requirement {i} of {label} in `{file}` is {}, not a mapping",
                        kind_of(requirement)
                    ),
                );
                continue;
            };
            for name in requirement.keys() {
                if !schemes.is_some_and(|s| s.contains_key(name)) {
                    self.push(
                        format!("{ptr}/{}", escape(name)),
                        rules::SECURITY,
                        format!(
                            "{label} in `{file}` requires security scheme `{name}`, which \
                             components.securitySchemes does not declare"
                        ),
                    );
                }
            }
        }
    }

    fn check_request_body(&mut self, op: &Map<String, Value>, op_ptr: &str, label: &str) {
        let file = self.file;
        let Some(body) = op.get("requestBody") else {
            return;
        };
        let (body_ptr, body) = self.resolve(body, format!("{op_ptr}/requestBody"));
        let Some(content) = body.get("content").and_then(Value::as_object) else {
            self.push(
                body_ptr,
                rules::REQUEST_CONTENT_TYPES,
                format!("request body of {label} in `{file}` has no `content` map"),
            );
            return;
        };
        if content.len() != 1 {
            let types: Vec<&str> = content.keys().map(String::as_str).collect();
            self.push(
                format!("{body_ptr}/content"),
                rules::REQUEST_CONTENT_TYPES,
                format!(
                    "request body of {label} in `{file}` has {} content types ({}); \
                     progenitor needs exactly one",
                    content.len(),
                    types.join(", ")
                ),
            );
        }
        for (media_type, media) in content {
            if media.get("encoding").is_some() {
                self.push(
                    format!("{body_ptr}/content/{}/encoding", escape(media_type)),
                    rules::REQUEST_CONTENT_TYPES,
                    format!(
                        "request body `{media_type}` of {label} in `{file}` has an `encoding` \
                         map, which makes progenitor panic; remove it"
                    ),
                );
            }
        }
    }

    fn check_responses(&mut self, op: &Map<String, Value>, op_ptr: &str, label: &str) {
        let file = self.file;
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            return;
        };
        let mut codes: Vec<&String> = responses.keys().collect();
        codes.sort();
        let mut error_bodies: Vec<ErrorBody> = Vec::new();
        for code in codes {
            let response = &responses[code.as_str()];
            let listed_ptr = format!("{op_ptr}/responses/{}", escape(code));
            let (resp_ptr, response) = self.resolve(response, listed_ptr.clone());
            let content = response.get("content").and_then(Value::as_object);
            let mut schemas = Vec::new();
            for (media_type, media) in content.into_iter().flatten() {
                let media_ptr = format!("{resp_ptr}/content/{}", escape(media_type));
                match media.get("schema") {
                    None => self.push(
                        media_ptr,
                        rules::INLINE_RESPONSE_SCHEMA,
                        format!(
                            "response {code} `{media_type}` of {label} in `{file}` has no \
                             schema; give it a `$ref` to components/schemas"
                        ),
                    ),
                    Some(schema) => match schema.get("$ref").and_then(Value::as_str) {
                        Some(r) => schemas.push(r.to_owned()),
                        None => {
                            schemas.push(schema.to_string());
                            self.push(
                                format!("{media_ptr}/schema"),
                                rules::INLINE_RESPONSE_SCHEMA,
                                format!(
                                    "response {code} `{media_type}` of {label} in `{file}` \
                                         has an inline schema; progenitor names every inline \
                                         response schema after the operation, so move it to \
                                         components/schemas and `$ref` it"
                                ),
                            );
                        }
                    },
                }
            }
            if is_error_code(code) {
                error_bodies.push(ErrorBody {
                    code: code.clone(),
                    pointer: listed_ptr,
                    schemas,
                });
            }
        }
        self.check_error_schemas(&error_bodies, label);
    }

    fn check_error_schemas(&mut self, bodies: &[ErrorBody], label: &str) {
        let file = self.file;
        let Some(reference) = bodies.iter().find(|b| !b.schemas.is_empty()) else {
            return;
        };
        let expected = &reference.schemas[0];
        for body in bodies {
            if body.schemas.is_empty() {
                self.push(
                    body.pointer.clone(),
                    rules::ERROR_SCHEMAS,
                    format!(
                        "error response {} of {label} in `{file}` has no body while {} has \
                         one (`{}`); progenitor needs every error response to share one body \
                         schema",
                        body.code, reference.code, expected
                    ),
                );
            } else if let Some(other) = body.schemas.iter().find(|s| *s != expected) {
                self.push(
                    body.pointer.clone(),
                    rules::ERROR_SCHEMAS,
                    format!(
                        "error response {} of {label} in `{file}` uses `{other}` but {} uses \
                         `{expected}`; all error responses of one operation must share one \
                         body schema",
                        body.code, reference.code
                    ),
                );
            }
        }
    }
}

fn is_openapi_30(version: &str) -> bool {
    let Some(rest) = version.strip_prefix("3.0.") else {
        return false;
    };
    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())
}

/// `[a-z][a-z0-9]*(_[a-z0-9]+)*`
fn is_snake_case(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !id.ends_with('_')
        && !id.contains("__")
}

/// `4xx`, `5xx`, `4XX`, `5XX` and `default`.
fn is_error_code(code: &str) -> bool {
    if code == "default" {
        return true;
    }
    let bytes = code.as_bytes();
    bytes.len() == 3
        && matches!(bytes[0], b'4' | b'5')
        && (bytes[1..].iter().all(u8::is_ascii_digit) || code[1..].eq_ignore_ascii_case("xx"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_versions_and_codes() {
        assert!(is_openapi_30("3.0.3"));
        assert!(!is_openapi_30("3.1.0"));
        assert!(!is_openapi_30("3.0"));
        assert!(is_error_code("404") && is_error_code("5XX") && is_error_code("default"));
        assert!(!is_error_code("200") && !is_error_code("4000"));
        assert!(is_snake_case("refresh_token") && !is_snake_case("refreshToken"));
    }
}
