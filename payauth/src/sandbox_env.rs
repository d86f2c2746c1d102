//! The local sandbox's values for a provider, and the environment
//! variables they fill ([`payauth_runtime::descriptor::Variable::sandbox_field`]).

use payauth_runtime::descriptor::{Descriptor, Values};
use payauth_sandbox::Sandbox;
use serde_json::Value;

/// The sandbox's values for `d`: the scalar fields of its configuration,
/// then of its current credentials (after any rotation), and `base_url`.
/// `None` when the sandbox does not emulate the provider.
pub fn values(sb: &Sandbox, d: &Descriptor) -> Option<Values> {
    let p: payauth_sandbox::Provider = d.name.parse().ok()?;
    let mut values = Values::new();
    let config = serde_json::to_value(sb.config()).unwrap_or_default();
    let credentials = serde_json::to_value(sb.credentials(p)).unwrap_or_default();
    for object in [config.get(d.name), Some(&credentials)]
        .into_iter()
        .flatten()
    {
        let Some(fields) = object.as_object() else {
            continue;
        };
        for (k, v) in fields {
            let scalar = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            values.insert(k.clone(), scalar);
        }
    }
    values.insert("base_url".into(), sb.base_url(p));
    Some(values)
}

/// `(variable, value)` for every variable of `d` the sandbox fills.
pub fn variables(sb: &Sandbox, d: &Descriptor) -> Vec<(&'static str, String)> {
    let Some(values) = values(sb, d) else {
        return Vec::new();
    };
    d.variables()
        .filter_map(|v| Some((v.name, values.get(v.sandbox_field?)?.clone())))
        .collect()
}
