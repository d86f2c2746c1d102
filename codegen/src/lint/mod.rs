//! Lint for the hand-written OpenAPI specs in `specs/`.
//!
//! progenitor 0.15 silently generates wrong code, or panics, on some valid OpenAPI
//! documents. The rules below reject those documents before generation and name the
//! spot with a JSON pointer (RFC 6901) into the YAML document:
//!
//! | rule | what it checks |
//! |---|---|
//! | `parse` | the file is YAML, its root is a mapping, and `openapiv3` can read it |
//! | `openapi-version` | `openapi` is `3.0.x` (openapiv3 2.x / progenitor do not speak 3.1) |
//! | `operation-id` | every operation has a unique, snake_case `operationId` |
//! | `security` | every operation has its own `security` key (the top-level default does not count), naming declared schemes |
//! | `inline-response-schema` | every response media type has a schema that is a `$ref` |
//! | `error-schemas` | the 4xx/5xx/`default` responses of an operation share one body schema, and either all have a body or none |
//! | `request-content-types` | a request body has exactly one content type and no `encoding` |
//! | `example` | every `example` (media type, parameter, header, schema) validates against its schema |
//!
//! Examples are checked with the `jsonschema` crate (draft 4, the draft OpenAPI 3.0
//! schemas derive from) after converting OpenAPI-only keywords (`nullable`, siblings of
//! `$ref`, `example`, ...). `#/components/schemas/...` references resolve against a
//! root document that carries the spec's converted components.
//!
//! The lint never panics: any input, however broken, yields a list of [`LintError`]s.

use std::collections::BTreeMap;
use std::fmt;

pub mod callbacks;
pub mod secrets;

use serde_json::{Map, Value};

/// One problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintError {
    /// The file name given to [`lint_str`].
    pub file: String,
    /// JSON pointer (RFC 6901) to the offending node, e.g. `/paths/~1v1~1auth/post`.
    /// Empty for the whole document.
    pub pointer: String,
    /// Rule id: `parse`, `openapi-version`, `operation-id`, `security`,
    /// `inline-response-schema`, `error-schemas`, `request-content-types` or `example`.
    pub rule: &'static str,
    /// Human-readable explanation; it names the file.
    pub message: String,
}

impl fmt::Display for LintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: [{}] {}",
            self.file, self.pointer, self.rule, self.message
        )
    }
}

impl std::error::Error for LintError {}

/// Rule ids, as they appear in [`LintError::rule`].
pub mod rules {
    /// Not YAML, root not a mapping, or not readable by `openapiv3`.
    pub const PARSE: &str = "parse";
    /// `openapi` must be `3.0.x`.
    pub const OPENAPI_VERSION: &str = "openapi-version";
    /// Every operation needs a unique snake_case `operationId`.
    pub const OPERATION_ID: &str = "operation-id";
    /// An operation may not be named like a method of the SDK's client
    /// (`auth_runtime::Sdk`, which reaches the operations through
    /// `Deref` and would hide one of the same name) or of the generated
    /// client's own methods.
    pub const RESERVED_NAME: &str = "reserved-name";
    /// Every operation needs an explicit `security` key.
    pub const SECURITY: &str = "security";
    /// Response media-type schemas must be `$ref`s.
    pub const INLINE_RESPONSE_SCHEMA: &str = "inline-response-schema";
    /// Error responses of one operation share one body schema.
    pub const ERROR_SCHEMAS: &str = "error-schemas";
    /// One content type per request body, no `encoding`.
    pub const REQUEST_CONTENT_TYPES: &str = "request-content-types";
    /// Examples validate against their schemas.
    pub const EXAMPLE: &str = "example";
    /// A property whose name says secret (password, token, key, …) states
    /// whether it is one (`x-secret: true` or `false`); `x-secret: true`
    /// sits on a component schema or on one of its own properties.
    pub const SECRET_MARKING: &str = "secret-marking";
    /// A description that says the spec decided where the docs are silent
    /// ("our design", "not documented", …) carries `x-assumption`, a
    /// non-empty string.
    pub const ASSUMPTION_MARKING: &str = "assumption-marking";
}

/// Methods of `auth_runtime::Sdk` (an operation of the same name would be
/// hidden behind them) and of the generated `Client` (progenitor's, and
/// the hooks `codegen` adds): no operation may take these names.
pub const RESERVED_OPERATION_NAMES: &[&str] = &[
    // auth_runtime::Sdk
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

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Key under which the schema an example is checked against is placed in the
/// validation root document (next to `components`).
const TARGET_KEY: &str = "x-lint-target";

/// Maximum number of `$ref` hops followed when resolving a local reference.
const MAX_REF_HOPS: usize = 32;

/// Maximum number of validation errors quoted for one example.
const MAX_EXAMPLE_ERRORS: usize = 3;

/// Lints one spec. `file` is only used in messages; `yaml` is the document text.
///
/// Problems that stop the lint (not YAML, root not a mapping) are reported as a single
/// `parse` error. Errors are sorted by pointer, then rule.
pub fn lint_str(file: &str, yaml: &str) -> Vec<LintError> {
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lint_inner(file, yaml)));
    let mut errors = match run {
        Ok(errors) => errors,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            vec![LintError {
                file: file.to_owned(),
                pointer: String::new(),
                rule: rules::PARSE,
                message: format!(
                    "`{file}` could not be processed by the linter (internal error: {what})"
                ),
            }]
        }
    };
    errors.sort_by(|a, b| (&a.pointer, a.rule, &a.message).cmp(&(&b.pointer, b.rule, &b.message)));
    errors.dedup();
    errors
}

fn lint_inner(file: &str, yaml: &str) -> Vec<LintError> {
    let doc: Value = match serde_yaml::from_str(yaml) {
        Ok(doc) => doc,
        Err(e) => {
            return vec![LintError {
                file: file.to_owned(),
                pointer: String::new(),
                rule: rules::PARSE,
                message: format!("`{file}` is not valid YAML: {e}"),
            }];
        }
    };
    if !doc.is_object() {
        return vec![LintError {
            file: file.to_owned(),
            pointer: String::new(),
            rule: rules::PARSE,
            message: format!(
                "`{file}` is not an OpenAPI document: its root is {}, not a mapping",
                kind_of(&doc)
            ),
        }];
    }
    let mut linter = Linter {
        file,
        root: &doc,
        errors: Vec::new(),
    };
    if linter.check_version() {
        linter.check_openapiv3();
    }
    linter.check_operations();
    linter.check_examples();
    linter.check_secret_marking();
    linter.check_assumption_marking();
    linter.check_callbacks();
    linter.errors
}

struct Linter<'a> {
    file: &'a str,
    root: &'a Value,
    errors: Vec<LintError>,
}

/// An error response of one operation, as seen by the `error-schemas` rule.
struct ErrorBody {
    code: String,
    pointer: String,
    /// Identity of the body schema of each media type (`$ref` target or inline JSON).
    schemas: Vec<String>,
}

impl<'a> Linter<'a> {
    fn push(&mut self, pointer: impl Into<String>, rule: &'static str, message: String) {
        self.errors.push(LintError {
            file: self.file.to_owned(),
            pointer: pointer.into(),
            rule,
            message,
        });
    }

    // ---------------------------------------------------------------- openapi-version

    /// Returns whether the version is 3.0.x (so that openapiv3 is worth trying).
    fn check_version(&mut self) -> bool {
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

    fn check_openapiv3(&mut self) {
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

    fn check_operations(&mut self) {
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

    // ---------------------------------------------------------------- examples

    fn check_examples(&mut self) {
        let root = self.root;
        let mut targets: Vec<ExampleTarget<'a>> = Vec::new();

        if let Some(paths) = root.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let item_ptr = format!("/paths/{}", escape(path));
                let Some(item) = item.as_object() else {
                    continue;
                };
                collect_parameters(
                    item.get("parameters"),
                    &format!("{item_ptr}/parameters"),
                    &mut targets,
                );
                for method in METHODS {
                    let Some(op) = item.get(method).and_then(Value::as_object) else {
                        continue;
                    };
                    let op_ptr = format!("{item_ptr}/{method}");
                    collect_parameters(
                        op.get("parameters"),
                        &format!("{op_ptr}/parameters"),
                        &mut targets,
                    );
                    if let Some(body) = op.get("requestBody") {
                        collect_content(
                            body.get("content"),
                            &format!("{op_ptr}/requestBody/content"),
                            &mut targets,
                        );
                    }
                    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                        for (code, response) in responses {
                            collect_response(
                                response,
                                &format!("{op_ptr}/responses/{}", escape(code)),
                                &mut targets,
                            );
                        }
                    }
                }
            }
        }

        let components = root.get("components").and_then(Value::as_object);
        if let Some(components) = components {
            let section = |name: &str| components.get(name).and_then(Value::as_object);
            if let Some(schemas) = section("schemas") {
                for (name, schema) in schemas {
                    collect_schema(
                        schema,
                        &format!("/components/schemas/{}", escape(name)),
                        &mut targets,
                    );
                }
            }
            if let Some(parameters) = section("parameters") {
                for (name, parameter) in parameters {
                    collect_parameter(
                        parameter,
                        &format!("/components/parameters/{}", escape(name)),
                        &mut targets,
                    );
                }
            }
            if let Some(headers) = section("headers") {
                for (name, header) in headers {
                    collect_parameter(
                        header,
                        &format!("/components/headers/{}", escape(name)),
                        &mut targets,
                    );
                }
            }
            if let Some(bodies) = section("requestBodies") {
                for (name, body) in bodies {
                    let ptr = format!("/components/requestBodies/{}/content", escape(name));
                    collect_content(body.get("content"), &ptr, &mut targets);
                }
            }
            if let Some(responses) = section("responses") {
                for (name, response) in responses {
                    collect_response(
                        response,
                        &format!("/components/responses/{}", escape(name)),
                        &mut targets,
                    );
                }
            }
        }

        if targets.is_empty() {
            return;
        }
        let converted_components = converted_components(root);
        for target in targets {
            self.check_example(&target, &converted_components);
        }
    }

    fn check_example(&mut self, target: &ExampleTarget<'a>, components: &Value) {
        let file = self.file;
        // `examples: {name: {$ref: '#/components/examples/X'}}`: check X's value.
        let example = match target.example {
            Example::Value(v) => v,
            Example::Object(obj) => {
                let (_, resolved) = self.resolve(obj, target.pointer.clone());
                match resolved.get("value") {
                    Some(v) => v,
                    None => return, // externalValue or unresolvable: nothing to check
                }
            }
        };
        let mut root = Map::new();
        root.insert("$ref".to_owned(), Value::String(format!("#/{TARGET_KEY}")));
        root.insert(TARGET_KEY.to_owned(), convert_schema(target.schema));
        root.insert("components".to_owned(), components.clone());
        let root = Value::Object(root);

        let validator = match jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .build(&root)
        {
            Ok(v) => v,
            Err(e) => {
                self.push(
                    target.pointer.clone(),
                    rules::EXAMPLE,
                    format!("example in `{file}` cannot be checked: its schema is unusable: {e}"),
                );
                return;
            }
        };
        let problems: Vec<String> = validator
            .iter_errors(example)
            .take(MAX_EXAMPLE_ERRORS + 1)
            .map(|e| {
                let at = e.instance_path.as_str();
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("at {at}: {e}")
                }
            })
            .collect();
        if problems.is_empty() {
            return;
        }
        let mut shown = problems
            .iter()
            .take(MAX_EXAMPLE_ERRORS)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        if problems.len() > MAX_EXAMPLE_ERRORS {
            shown.push_str("; ...");
        }
        self.push(
            target.pointer.clone(),
            rules::EXAMPLE,
            format!("example in `{file}` does not match its schema: {shown}"),
        );
    }

    // ---------------------------------------------------------------- helpers

    /// Follows local `$ref`s (`#/...`) from `value`; returns the pointer and node reached.
    /// Stops at a reference it cannot follow (external, missing, cyclic).
    fn resolve(&self, mut value: &'a Value, mut pointer: String) -> (String, &'a Value) {
        for _ in 0..MAX_REF_HOPS {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let Some(target_ptr) = reference.strip_prefix('#') else {
                break;
            };
            let Some(target) = self.root.pointer(target_ptr) else {
                break;
            };
            value = target;
            pointer = target_ptr.to_owned();
        }
        (pointer, value)
    }
}

// -------------------------------------------------------------------- example collection

enum Example<'a> {
    /// A literal `example` value.
    Value(&'a Value),
    /// An Example Object from an `examples` map (has `value`, or is a `$ref`).
    Object(&'a Value),
}

struct ExampleTarget<'a> {
    /// Pointer to the example (reported on failure).
    pointer: String,
    example: Example<'a>,
    /// The OpenAPI schema the example must satisfy.
    schema: &'a Value,
}

fn collect_response<'a>(response: &'a Value, ptr: &str, out: &mut Vec<ExampleTarget<'a>>) {
    collect_content(response.get("content"), &format!("{ptr}/content"), out);
    if let Some(headers) = response.get("headers").and_then(Value::as_object) {
        for (name, header) in headers {
            collect_parameter(header, &format!("{ptr}/headers/{}", escape(name)), out);
        }
    }
}

fn collect_parameters<'a>(params: Option<&'a Value>, ptr: &str, out: &mut Vec<ExampleTarget<'a>>) {
    let Some(params) = params.and_then(Value::as_array) else {
        return;
    };
    for (i, param) in params.iter().enumerate() {
        collect_parameter(param, &format!("{ptr}/{i}"), out);
    }
}

/// Parameter or Header Object: `schema` + `example`/`examples`, or a `content` map.
fn collect_parameter<'a>(param: &'a Value, ptr: &str, out: &mut Vec<ExampleTarget<'a>>) {
    collect_media(param, ptr, out);
    collect_content(param.get("content"), &format!("{ptr}/content"), out);
}

fn collect_content<'a>(content: Option<&'a Value>, ptr: &str, out: &mut Vec<ExampleTarget<'a>>) {
    let Some(content) = content.and_then(Value::as_object) else {
        return;
    };
    for (media_type, media) in content {
        collect_media(media, &format!("{ptr}/{}", escape(media_type)), out);
    }
}

/// Media Type Object (or anything with `schema` + `example`/`examples`).
fn collect_media<'a>(media: &'a Value, ptr: &str, out: &mut Vec<ExampleTarget<'a>>) {
    let Some(schema) = media.get("schema") else {
        return;
    };
    if let Some(example) = media.get("example") {
        out.push(ExampleTarget {
            pointer: format!("{ptr}/example"),
            example: Example::Value(example),
            schema,
        });
    }
    if let Some(examples) = media.get("examples").and_then(Value::as_object) {
        for (name, example) in examples {
            out.push(ExampleTarget {
                pointer: format!("{ptr}/examples/{}", escape(name)),
                example: Example::Object(example),
                schema,
            });
        }
    }
    // Inline schemas may carry schema-level examples of their own.
    collect_schema(schema, &format!("{ptr}/schema"), out);
}

/// Schema-level `example`s, recursively through the schema's subschemas.
fn collect_schema<'a>(schema: &'a Value, ptr: &str, out: &mut Vec<ExampleTarget<'a>>) {
    let Some(obj) = schema.as_object() else {
        return;
    };
    if obj.contains_key("$ref") {
        return; // siblings of $ref are ignored in OpenAPI 3.0
    }
    if let Some(example) = obj.get("example") {
        out.push(ExampleTarget {
            pointer: format!("{ptr}/example"),
            example: Example::Value(example),
            schema,
        });
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(sub) = obj.get(key) {
            collect_schema(sub, &format!("{ptr}/{key}"), out);
        }
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            collect_schema(sub, &format!("{ptr}/properties/{}", escape(name)), out);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(subs) = obj.get(key).and_then(Value::as_array) {
            for (i, sub) in subs.iter().enumerate() {
                collect_schema(sub, &format!("{ptr}/{key}/{i}"), out);
            }
        }
    }
}

// -------------------------------------------------------------------- OpenAPI → JSON Schema

/// `{"schemas": {name: converted}}` — the part of `components` refs can point into.
fn converted_components(root: &Value) -> Value {
    let mut schemas = Map::new();
    if let Some(src) = root
        .get("components")
        .and_then(|c| c.get("schemas"))
        .and_then(Value::as_object)
    {
        for (name, schema) in src {
            schemas.insert(name.clone(), convert_schema(schema));
        }
    }
    let mut components = Map::new();
    components.insert("schemas".to_owned(), Value::Object(schemas));
    Value::Object(components)
}

/// Converts an OpenAPI 3.0 Schema Object to a JSON Schema draft 4 schema:
/// siblings of `$ref` are dropped (OpenAPI 3.0 ignores them), `nullable: true` admits
/// `null`, OpenAPI-only keywords are removed, subschemas are converted recursively.
/// Structure is otherwise kept, so `#/components/schemas/...` pointers stay valid.
fn convert_schema(schema: &Value) -> Value {
    let Some(obj) = schema.as_object() else {
        return schema.clone();
    };
    if let Some(reference) = obj.get("$ref") {
        let mut only_ref = Map::new();
        only_ref.insert("$ref".to_owned(), reference.clone());
        return Value::Object(only_ref);
    }
    let mut out = Map::new();
    for (key, value) in obj {
        let converted = match key.as_str() {
            // OpenAPI-only keywords or annotations that draft 4 does not know.
            "nullable" | "discriminator" | "readOnly" | "writeOnly" | "xml" | "externalDocs"
            | "example" | "deprecated" => continue,
            // An empty `required` is invalid in draft 4 and means nothing.
            "required" if value.as_array().is_some_and(Vec::is_empty) => continue,
            "items" | "not" => convert_schema(value),
            "additionalProperties" if value.is_object() => convert_schema(value),
            "properties" => match value.as_object() {
                Some(props) => Value::Object(
                    props
                        .iter()
                        .map(|(k, v)| (k.clone(), convert_schema(v)))
                        .collect(),
                ),
                None => value.clone(),
            },
            "allOf" | "anyOf" | "oneOf" => match value.as_array() {
                Some(subs) => Value::Array(subs.iter().map(convert_schema).collect()),
                None => value.clone(),
            },
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if obj.get("nullable") == Some(&Value::Bool(true)) {
        return make_nullable(out);
    }
    Value::Object(out)
}

fn make_nullable(mut schema: Map<String, Value>) -> Value {
    if let Some(Value::Array(values)) = schema.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    match schema.get("type").cloned() {
        Some(Value::String(t)) => {
            schema.insert(
                "type".to_owned(),
                Value::Array(vec![Value::String(t), Value::String("null".to_owned())]),
            );
            Value::Object(schema)
        }
        Some(Value::Array(mut types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push(Value::String("null".to_owned()));
            }
            schema.insert("type".to_owned(), Value::Array(types));
            Value::Object(schema)
        }
        _ => {
            // No `type`: OpenAPI 3.0.3 says nullable has no effect without one, but
            // admitting null is the forgiving reading for an example check.
            let mut null = Map::new();
            null.insert("type".to_owned(), Value::String("null".to_owned()));
            let mut wrapper = Map::new();
            wrapper.insert(
                "anyOf".to_owned(),
                Value::Array(vec![Value::Object(schema), Value::Object(null)]),
            );
            Value::Object(wrapper)
        }
    }
}

// -------------------------------------------------------------------- small helpers

/// Escapes one JSON pointer segment (RFC 6901): `~` → `~0`, `/` → `~1`.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
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

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_pointer_segments() {
        assert_eq!(escape("/v1/auth"), "~1v1~1auth");
        assert_eq!(escape("a~b/c"), "a~0b~1c");
    }

    #[test]
    fn recognises_versions_and_codes() {
        assert!(is_openapi_30("3.0.3"));
        assert!(!is_openapi_30("3.1.0"));
        assert!(!is_openapi_30("3.0"));
        assert!(is_error_code("404") && is_error_code("5XX") && is_error_code("default"));
        assert!(!is_error_code("200") && !is_error_code("4000"));
        assert!(is_snake_case("refresh_token") && !is_snake_case("refreshToken"));
    }

    #[test]
    fn nullable_admits_null() {
        let converted = convert_schema(&serde_json::json!({"type": "string", "nullable": true}));
        assert_eq!(converted, serde_json::json!({"type": ["string", "null"]}));
    }
}
