//! The `callbacks` rule: what a provider sends to a URL the request gave
//! (OpenAPI 3 `callbacks` on an operation) is described as fully as the
//! operations are, and the other rules reach it.
//!
//! progenitor generates nothing from a callback, and the rest of the lint
//! walks `paths` and `components`, so a callback is checked here:
//!
//! - it says what it sends and what the receiver answers: a request body
//!   and at least one response;
//! - its body schema is a `$ref` to `components/schemas`: the generator
//!   makes a type of it there, and `secret-marking` walks it there;
//! - a header or other parameter whose name suggests a secret (`X-Checksum`)
//!   states `x-secret` (`secret-marking`, as a property would);
//! - its examples validate against their schemas (`example`).
//!
//! `assumption-marking` needs nothing here: it walks the whole document,
//! callbacks included.

use serde_json::Value;

use super::example_targets::{ExampleTarget, collect_content, collect_parameters};
use super::json_schema::converted_components;
use super::linter::{Linter, METHODS, rules};
use super::secret_marking::SECRET_WORDS;
use crate::pointer::escape;
use crate::secrets::SECRET_EXTENSION;

/// Rule id of the checks below that no other rule makes.
pub const CALLBACKS: &str = "callbacks";

/// Every callback operation: (pointer, label, operation).
fn callback_operations(root: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    let Some(paths) = root.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let Some(callbacks) = op.get("callbacks").and_then(Value::as_object) else {
                continue;
            };
            for (name, callback) in callbacks {
                for (expression, cb_item) in callback.as_object().into_iter().flatten() {
                    for cb_method in METHODS {
                        let Some(cb_op) = cb_item.get(cb_method) else {
                            continue;
                        };
                        let pointer = format!(
                            "/paths/{}/{method}/callbacks/{}/{}/{cb_method}",
                            escape(path),
                            escape(name),
                            escape(expression)
                        );
                        let label = format!(
                            "callback `{name}` ({} {expression}) of {} {path}",
                            cb_method.to_uppercase(),
                            method.to_uppercase()
                        );
                        out.push((pointer, label, cb_op));
                    }
                }
            }
        }
    }
    out
}

impl<'a> Linter<'a> {
    pub(super) fn check_callbacks(&mut self) {
        let file = self.file;
        let mut examples: Vec<ExampleTarget<'a>> = Vec::new();
        for (ptr, label, op) in callback_operations(self.root) {
            match op.get("requestBody") {
                None => self.push(
                    ptr.clone(),
                    CALLBACKS,
                    format!("{label} in `{file}` does not describe its body (`requestBody`)"),
                ),
                Some(body) => {
                    for (media_type, media) in body
                        .get("content")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        if media.get("schema").and_then(|s| s.get("$ref")).is_none() {
                            self.push(
                                format!("{ptr}/requestBody/content/{}", escape(media_type)),
                                CALLBACKS,
                                format!(
                                    "the `{media_type}` body of {label} in `{file}` needs a schema \
                                     that is a `$ref` to components/schemas (codegen makes its \
                                     type there, and `secret-marking` checks it there)"
                                ),
                            );
                        }
                    }
                    collect_content(
                        body.get("content"),
                        &format!("{ptr}/requestBody/content"),
                        &mut examples,
                    );
                }
            }
            if op
                .get("responses")
                .and_then(Value::as_object)
                .is_none_or(|r| r.is_empty())
            {
                self.push(
                    ptr.clone(),
                    CALLBACKS,
                    format!(
                        "{label} in `{file}` does not say what the receiver answers (`responses`)"
                    ),
                );
            }
            for (i, param) in op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let name = param.get("name").and_then(Value::as_str).unwrap_or("");
                let lower = name.to_ascii_lowercase();
                let p = format!("{ptr}/parameters/{i}");
                match param.get(SECRET_EXTENSION) {
                    Some(v) if !v.is_boolean() => self.push(
                        format!("{p}/{SECRET_EXTENSION}"),
                        rules::SECRET_MARKING,
                        format!("`{SECRET_EXTENSION}` at {p} in `{file}` must be true or false"),
                    ),
                    None if SECRET_WORDS.iter().any(|w| lower.contains(w)) => self.push(
                        p,
                        rules::SECRET_MARKING,
                        format!(
                            "parameter `{name}` of {label} in `{file}` has a name that suggests a \
                             secret: say whether it is one (`{SECRET_EXTENSION}: true` or `false`)"
                        ),
                    ),
                    _ => {}
                }
            }
            collect_parameters(
                op.get("parameters"),
                &format!("{ptr}/parameters"),
                &mut examples,
            );
        }
        if examples.is_empty() {
            return;
        }
        let components = converted_components(self.root);
        for target in examples {
            self.check_example(&target, &components);
        }
    }
}
