//! The `assumption-marking` rule: a description that says the spec
//! decided where the providers' pages are silent ("our design", "not
//! documented", … — `assumptions::UNDOCUMENTED`, whitespace-normalised) carries `x-assumption`, and
//! `x-assumption` is a non-empty string (the README lists them all).

use serde_json::Value;

use super::linter::{Linter, rules};
use crate::assumptions::{EXTENSION, undocumented_phrase};
use crate::pointer::escape;

impl Linter<'_> {
    /// `assumption-marking`: a description that says the spec decided
    /// where the docs are silent carries `x-assumption`; `x-assumption` is
    /// a non-empty string.
    pub(super) fn check_assumption_marking(&mut self) {
        let root = self.root.clone();
        self.walk_assumptions(&root, "");
    }

    fn walk_assumptions(&mut self, v: &Value, ptr: &str) {
        match v {
            Value::Object(map) => {
                let file = self.file;
                match map.get(EXTENSION) {
                    Some(Value::String(s)) if !s.trim().is_empty() => {}
                    Some(_) => self.push(
                        format!("{ptr}/{EXTENSION}"),
                        rules::ASSUMPTION_MARKING,
                        format!("`{EXTENSION}` at {ptr} in `{file}` must be a non-empty string: why, and what the docs say"),
                    ),
                    None => {
                        if let Some(Value::String(d)) = map.get("description")
                            && let Some(word) = undocumented_phrase(d)
                        {
                            self.push(
                                ptr.to_string(),
                                rules::ASSUMPTION_MARKING,
                                format!(
                                    "the description at {ptr} in `{file}` says \"{word}\": mark the choice with `{EXTENSION}: \"why, and what the docs say\"` (the README lists them)"
                                ),
                            );
                        }
                    }
                }
                for (k, sub) in map {
                    self.walk_assumptions(sub, &format!("{ptr}/{}", escape(k)));
                }
            }
            Value::Array(items) => {
                for (i, sub) in items.iter().enumerate() {
                    self.walk_assumptions(sub, &format!("{ptr}/{i}"));
                }
            }
            _ => {}
        }
    }
}
