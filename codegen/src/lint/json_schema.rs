//! OpenAPI 3.0 Schema Objects → JSON Schema draft 4, for the `example`
//! rule's validator: OpenAPI-only keywords (`nullable`, siblings of
//! `$ref`, `example`, …) converted or dropped, the structure otherwise
//! kept so `#/components/schemas/...` references still resolve.

use serde_json::{Map, Value};

/// `{"schemas": {name: converted}}` — the part of `components` refs can point into.
pub(super) fn converted_components(root: &Value) -> Value {
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
pub(super) fn convert_schema(schema: &Value) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_admits_null() {
        let converted = convert_schema(&serde_json::json!({"type": "string", "nullable": true}));
        assert_eq!(converted, serde_json::json!({"type": ["string", "null"]}));
    }
}
