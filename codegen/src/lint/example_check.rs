//! The `example` rule: every example validates against its schema, with
//! the `jsonschema` crate (draft 4, the draft OpenAPI 3.0 schemas derive
//! from) after [`json_schema`](super::json_schema) converted the schemas.

use serde_json::{Map, Value};

use super::example_targets::{self, Example, ExampleTarget};
use super::json_schema::{convert_schema, converted_components};
use super::linter::{Linter, rules};

/// Key under which the schema an example is checked against is placed in the
/// validation root document (next to `components`).
const TARGET_KEY: &str = "x-lint-target";

/// Maximum number of validation errors quoted for one example.
const MAX_EXAMPLE_ERRORS: usize = 3;

impl<'a> Linter<'a> {
    pub(super) fn check_examples(&mut self) {
        let root = self.root;
        let targets = example_targets::collect(root);
        if targets.is_empty() {
            return;
        }
        let converted_components = converted_components(root);
        for target in targets {
            self.check_example(&target, &converted_components);
        }
    }

    pub(super) fn check_example(&mut self, target: &ExampleTarget<'a>, components: &Value) {
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
}
