//! Where a spec says its secrets are (`x-secret: true`), as the generator
//! needs it: per component schema, the JSON names of its secret
//! properties, and the schemas that are secret whole. `tidy::redact`
//! gives those types a `Debug` that does not show them; the lint rule
//! `secret-marking` makes sure a spec says it.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};

/// The extension that marks a secret.
pub const SECRET_EXTENSION: &str = "x-secret";

/// The secrets of one spec.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Secrets {
    /// Component schema → JSON names of its secret properties.
    pub fields: BTreeMap<String, BTreeSet<String>>,
    /// Component schemas whose whole value is secret.
    pub whole: BTreeSet<String>,
}

impl Secrets {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.whole.is_empty()
    }

    /// Every schema the spec marks (for a check that each was found).
    pub fn schemas(&self) -> BTreeSet<&str> {
        self.fields
            .keys()
            .chain(self.whole.iter())
            .map(String::as_str)
            .collect()
    }
}

fn marked(schema: &Schema) -> bool {
    schema
        .schema_data
        .extensions
        .get(SECRET_EXTENSION)
        .and_then(serde_json::Value::as_bool)
        == Some(true)
}

/// The secrets `spec` marks.
pub fn of(spec: &OpenAPI) -> Secrets {
    let mut secrets = Secrets::default();
    let Some(components) = &spec.components else {
        return secrets;
    };
    for (name, schema) in &components.schemas {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        if marked(schema) {
            secrets.whole.insert(name.clone());
        }
        let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
            continue;
        };
        for (prop, sub) in &object.properties {
            if let ReferenceOr::Item(sub) = sub
                && marked(sub)
            {
                secrets
                    .fields
                    .entry(name.clone())
                    .or_default()
                    .insert(prop.clone());
            }
        }
    }
    secrets
}
