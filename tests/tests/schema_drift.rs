//! Spec ↔ client drift: every generated type's JSON schema (schemars)
//! must match its component schema in the spec — property names, required
//! set and types. A spec edited without `cargo xtask regen` (or a generator
//! change that alters types) fails here.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

type Schemas = Vec<(&'static str, schemars::schema::RootSchema)>;

fn generated() -> Vec<(&'static str, Schemas)> {
    vec![
        ("exirom", exirom::generated::component_schemas()),
        ("institution", institution::generated::component_schemas()),
        ("pledg", pledg::generated::component_schemas()),
        ("bursagb", bursagb::generated::component_schemas()),
        ("axept", axept::generated::component_schemas()),
    ]
}

fn spec_components(provider: &str) -> BTreeMap<String, Value> {
    let path = codegen::spec_path(&codegen::workspace_root(), provider);
    let doc: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A schema's shape as a comparable string: `string`, `integer`,
/// `array<ref:X>`, `ref:X`, `oneOf<…>`; `null` alternatives dropped.
fn kind(v: &Value, components: &BTreeSet<String>, defs: &Value) -> String {
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        if components.contains(name) {
            return format!("ref:{name}");
        }
        return kind(&defs[name], components, defs);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(alts) = v.get(key).and_then(Value::as_array) {
            let kinds: BTreeSet<String> = alts
                .iter()
                .map(|a| kind(a, components, defs))
                .filter(|k| k != "null")
                .collect();
            return if kinds.len() == 1 {
                kinds.into_iter().next().unwrap()
            } else {
                format!("oneOf<{}>", kinds.into_iter().collect::<Vec<_>>().join(","))
            };
        }
    }
    let types: Vec<&str> = match &v["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ if v.get("enum").is_some() => vec!["string"],
        _ => vec![],
    };
    match types.as_slice() {
        ["array"] => format!("array<{}>", kind(&v["items"], components, defs)),
        [t] => t.to_string(),
        [] => "any".to_string(),
        many => many.join("|"),
    }
}

fn properties(v: &Value, components: &BTreeSet<String>, defs: &Value) -> BTreeMap<String, String> {
    v["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .map(|(name, p)| (name.clone(), kind(p, components, defs)))
                .collect()
        })
        .unwrap_or_default()
}

fn required(v: &Value) -> BTreeSet<String> {
    v["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_generated_type_matches_its_spec_component() {
    let mut checked = 0;
    for (provider, schemas) in generated() {
        let spec = spec_components(provider);
        let names: BTreeSet<String> = spec.keys().cloned().collect();
        let generated_names: BTreeSet<String> =
            schemas.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(
            names, generated_names,
            "{provider}: components vs generated types"
        );
        for (name, root) in schemas {
            let generated = serde_json::to_value(&root).unwrap();
            let gen_defs = generated["definitions"].clone();
            let wanted = &spec[name];
            let no_defs = Value::Null;
            let what = format!("{provider}.{name}");
            assert_eq!(
                properties(&generated, &names, &gen_defs),
                properties(wanted, &names, &no_defs),
                "{what}: property names or types differ"
            );
            assert_eq!(
                required(&generated),
                required(wanted),
                "{what}: required set differs"
            );
            if wanted.get("properties").is_none() {
                assert_eq!(
                    kind(&generated, &names, &gen_defs),
                    kind(wanted, &names, &no_defs),
                    "{what}: type differs"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} schemas compared");
}

#[test]
fn a_drifted_spec_is_detected() {
    // The comparison itself must see a renamed property.
    let (_, schemas) = &generated()[2];
    let (name, root) = schemas
        .iter()
        .find(|(n, _)| *n == "AccessTokenResponse")
        .unwrap();
    let generated = serde_json::to_value(root).unwrap();
    let mut spec = spec_components("pledg")[*name].clone();
    let names: BTreeSet<String> = spec_components("pledg").keys().cloned().collect();
    let props = spec["properties"].as_object_mut().unwrap();
    let v = props.remove("access_token").unwrap();
    props.insert("accessToken".into(), v);
    assert_ne!(
        properties(&generated, &names, &generated["definitions"]),
        properties(&spec, &names, &Value::Null)
    );
}
