//! Field checks of JSON request bodies, as the specs state them: type,
//! required, length and range. No field is nullable in any spec, so `null`
//! is refused like any other wrong type.

use serde_json::{Map, Value};

/// What one field must be.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// A string of `min..=max` characters.
    Str {
        min: usize,
        max: usize,
    },
    Bool,
    /// An integer in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    /// An object whose members are checked by the caller.
    Object,
    /// An object whose every member is a string.
    StringMap,
}

pub(crate) const STR: Kind = Kind::Str {
    min: 0,
    max: usize::MAX,
};

pub(crate) const fn str_len(min: usize, max: usize) -> Kind {
    Kind::Str { min, max }
}

/// A field's rule: name, kind, required.
pub(crate) type Rule = (&'static str, Kind, bool);

/// The first violation as `(field, message)`.
pub(crate) fn fields(obj: &Map<String, Value>, rules: &[Rule]) -> Result<(), (String, String)> {
    for &(name, kind, required) in rules {
        let fail = |m: &str| Err((name.to_owned(), m.to_owned()));
        let Some(v) = obj.get(name) else {
            if required {
                return fail("is required");
            }
            continue;
        };
        match (kind, v) {
            (_, Value::Null) => return fail("must not be null"),
            (Kind::Str { min, max }, Value::String(s)) => {
                let n = s.chars().count();
                if n < min {
                    return fail(if min == 1 {
                        "must not be empty"
                    } else {
                        "is too short"
                    });
                }
                if n > max {
                    return fail("is too long");
                }
            }
            (Kind::Str { .. }, _) => return fail("must be a string"),
            (Kind::Bool, Value::Bool(_)) => {}
            (Kind::Bool, _) => return fail("must be a boolean"),
            (Kind::Int { min, max }, Value::Number(n)) => match n.as_i64() {
                Some(i) if (min..=max).contains(&i) => {}
                Some(_) => return fail("is out of range"),
                None => return fail("must be an integer"),
            },
            (Kind::Int { .. }, _) => return fail("must be an integer"),
            (Kind::Object, Value::Object(_)) => {}
            (Kind::Object, _) => return fail("must be an object"),
            (Kind::StringMap, Value::Object(m)) => {
                if !m.values().all(Value::is_string) {
                    return fail("values must be strings");
                }
            }
            (Kind::StringMap, _) => return fail("must be an object"),
        }
    }
    Ok(())
}

/// `name` as an object (present and checked by [`fields`] before).
pub(crate) fn object<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
) -> Option<&'a Map<String, Value>> {
    obj.get(name).and_then(Value::as_object)
}
