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
//! Files: `linter` (the finding, rule ids, the walker), `document_rules`,
//! `example_targets` (collecting the examples), `example_check` (validating
//! them), `json_schema` (the OpenAPI → JSON Schema converter),
//! `secret_marking` and `assumption_marking`.
//!
//! The lint never panics: any input, however broken, yields a list of [`LintError`]s.

mod assumption_marking;
mod document_rules;
mod example_check;
mod example_targets;
mod json_schema;
mod linter;
mod secret_marking;

mod callbacks;

use serde_json::Value;

pub use document_rules::RESERVED_OPERATION_NAMES;
pub use linter::{LintError, rules};
use linter::{Linter, kind_of};
pub use secret_marking::SECRET_WORDS;

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
    let mut linter = Linter::new(file, &doc);
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
