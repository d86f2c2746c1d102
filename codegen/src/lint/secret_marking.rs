//! The `secret-marking` rule: a spec says which values are secrets.
//!
//! `codegen` gives every generated type that holds a secret a `Debug` that
//! redacts it (`crate::secrets`), so the spec must say where they are. A
//! property whose name suggests a secret must state it either way
//! (`x-secret: true` or `x-secret: false`: `keyId` is an identifier,
//! `token_type` a word); `x-secret` is a boolean; and `x-secret: true` sits
//! where the generator can find it — on a component schema (the whole
//! value is secret) or on one of its own properties.

use serde_json::Value;

use super::linter::{Linter, rules};
use crate::pointer::escape;
use crate::secrets::SECRET_EXTENSION;

/// Property-name fragments that suggest a secret (compared lower-case).
pub const SECRET_WORDS: &[&str] = &[
    "password",
    "secret",
    "token",
    "key",
    "cvv",
    "cvc",
    "signature",
    "checksum",
];

impl Linter<'_> {
    pub(super) fn check_secret_marking(&mut self) {
        let Some(schemas) = self
            .root
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        else {
            return;
        };
        let schemas: Vec<(String, Value)> = schemas
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (name, schema) in &schemas {
            let ptr = format!("/components/schemas/{}", escape(name));
            self.check_marking_value(&ptr, schema);
            self.walk_schema(&ptr, schema, 0);
        }
    }

    /// `x-secret`, when present, is a boolean.
    fn check_marking_value(&mut self, ptr: &str, schema: &Value) {
        if let Some(v) = schema.get(SECRET_EXTENSION)
            && !v.is_boolean()
        {
            let file = self.file;
            self.push(
                format!("{ptr}/{SECRET_EXTENSION}"),
                rules::SECRET_MARKING,
                format!("`{SECRET_EXTENSION}` at {ptr} in `{file}` must be true or false"),
            );
        }
    }

    /// Properties of `schema` (depth 0: a component's own properties).
    fn walk_schema(&mut self, ptr: &str, schema: &Value, depth: usize) {
        if depth > 16 {
            return;
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (prop, sub) in props {
                let p = format!("{ptr}/properties/{}", escape(prop));
                self.check_marking_value(&p, sub);
                let marked = sub.get(SECRET_EXTENSION).and_then(Value::as_bool);
                let lower = prop.to_ascii_lowercase();
                let file = self.file;
                let present = sub.get(SECRET_EXTENSION).is_some();
                if !present && SECRET_WORDS.iter().any(|w| lower.contains(w)) {
                    self.push(
                        p.clone(),
                        rules::SECRET_MARKING,
                        format!(
                            "property `{prop}` at {p} in `{file}` has a name that suggests a secret: \
                             say whether it is one (`{SECRET_EXTENSION}: true` gives its types a \
                             redacting Debug, `{SECRET_EXTENSION}: false` says it is not)"
                        ),
                    );
                }
                if marked == Some(true) && depth > 0 {
                    self.push(
                        p.clone(),
                        rules::SECRET_MARKING,
                        format!(
                            "`{SECRET_EXTENSION}: true` at {p} in `{file}` is on a property of an \
                             inline object: move the object to a component schema, whose \
                             generated type can redact it"
                        ),
                    );
                }
                self.walk_schema(&p, sub, depth + 1);
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(sub) = schema.get(key).filter(|s| s.is_object()) {
                self.walk_schema(&format!("{ptr}/{key}"), sub, depth + 1);
            }
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(list) = schema.get(key).and_then(Value::as_array) {
                for (i, sub) in list.iter().enumerate() {
                    self.walk_schema(&format!("{ptr}/{key}/{i}"), sub, depth + 1);
                }
            }
        }
    }
}
