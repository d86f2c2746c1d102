//! Collecting the examples of a spec: every `example` and `examples`
//! entry (media types, parameters, headers, schemas, at any depth), each
//! with the schema it must satisfy and a JSON pointer to report it at.

use serde_json::Value;

use super::linter::METHODS;
use crate::pointer::escape;

pub(super) enum Example<'a> {
    /// A literal `example` value.
    Value(&'a Value),
    /// An Example Object from an `examples` map (has `value`, or is a `$ref`).
    Object(&'a Value),
}

pub(super) struct ExampleTarget<'a> {
    /// Pointer to the example (reported on failure).
    pub(super) pointer: String,
    pub(super) example: Example<'a>,
    /// The OpenAPI schema the example must satisfy.
    pub(super) schema: &'a Value,
}

/// Every example of the document `root`, in document order.
pub(super) fn collect(root: &Value) -> Vec<ExampleTarget<'_>> {
    let mut targets: Vec<ExampleTarget<'_>> = Vec::new();

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
    targets
}

fn collect_response<'a>(response: &'a Value, ptr: &str, out: &mut Vec<ExampleTarget<'a>>) {
    collect_content(response.get("content"), &format!("{ptr}/content"), out);
    if let Some(headers) = response.get("headers").and_then(Value::as_object) {
        for (name, header) in headers {
            collect_parameter(header, &format!("{ptr}/headers/{}", escape(name)), out);
        }
    }
}

pub(super) fn collect_parameters<'a>(
    params: Option<&'a Value>,
    ptr: &str,
    out: &mut Vec<ExampleTarget<'a>>,
) {
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

pub(super) fn collect_content<'a>(
    content: Option<&'a Value>,
    ptr: &str,
    out: &mut Vec<ExampleTarget<'a>>,
) {
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
