//! What every rule shares: the finding ([`LintError`]), the rule ids, and
//! the [`Linter`] that walks one document and collects findings (with the
//! local `$ref` resolver the rules use).

use std::fmt;

use serde_json::Value;

/// One problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintError {
    /// The file name given to [`lint_str`](super::lint_str).
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
    /// (`payauth_runtime::Sdk`, which reaches the operations through
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

/// The HTTP methods of an OpenAPI Path Item, in the order the rules visit them.
pub(super) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Maximum number of `$ref` hops followed when resolving a local reference.
const MAX_REF_HOPS: usize = 32;

/// One document being linted, and what was found in it so far.
pub(super) struct Linter<'a> {
    pub(super) file: &'a str,
    pub(super) root: &'a Value,
    pub(super) errors: Vec<LintError>,
}

impl<'a> Linter<'a> {
    pub(super) fn new(file: &'a str, root: &'a Value) -> Linter<'a> {
        Linter {
            file,
            root,
            errors: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, pointer: impl Into<String>, rule: &'static str, message: String) {
        self.errors.push(LintError {
            file: self.file.to_owned(),
            pointer: pointer.into(),
            rule,
            message,
        });
    }

    /// Follows local `$ref`s (`#/...`) from `value`; returns the pointer and node reached.
    /// Stops at a reference it cannot follow (external, missing, cyclic).
    pub(super) fn resolve(&self, mut value: &'a Value, mut pointer: String) -> (String, &'a Value) {
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

pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
