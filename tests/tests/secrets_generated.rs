//! No generated type shows a secret: for every component schema of every
//! spec, a value is built from the spec's schema with a distinct canary in
//! each string, decoded into the generated type, and printed with `Debug`
//! (the type's and its builder's). The canaries of the values the spec
//! marks `x-secret` never appear; the others do (so the check can fail).
//! The runtime's builder errors carry no secret either.

use serde_json::{Map, Value, json};

struct Leaves {
    next: usize,
    /// Every string leaf: its canary, whether it is secret, where.
    seen: Vec<(String, bool, String)>,
}

impl Leaves {
    /// A canary that fits `min..=max` characters, unique per leaf.
    fn canary(&mut self, min: usize, max: usize, secret: bool, at: &str) -> String {
        self.next += 1;
        let n = self.next;
        let long = format!("CANARY{n:03}x");
        let text = if long.len() <= max {
            let mut t = long;
            while t.len() < min {
                t.push('x');
            }
            t
        } else {
            // Short fields (a CVV): letters and digits no Debug output holds.
            let short = format!("Q{n:03}");
            short.chars().take(max.max(1)).collect()
        };
        self.seen.push((text.clone(), secret, at.to_string()));
        text
    }
}

fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => root
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved {r}")),
        None => schema,
    }
}

fn marked(schema: &Value) -> bool {
    schema.get("x-secret").and_then(Value::as_bool) == Some(true)
}

/// A value of `schema`; `alt` picks the alternative of a top-level
/// `oneOf`/`anyOf`.
fn instance(
    root: &Value,
    schema: &Value,
    secret: bool,
    leaves: &mut Leaves,
    at: &str,
    alt: usize,
) -> Value {
    let schema = resolve(root, schema);
    let secret = secret || marked(schema);
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values[0].clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            let pick = &list[alt.min(list.len() - 1)];
            return instance(root, pick, secret, leaves, at, 0);
        }
    }
    if let Some(list) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in list {
            if let Value::Object(o) = instance(root, part, secret, leaves, at, 0) {
                merged.extend(o);
            }
        }
        return Value::Object(merged);
    }
    let kind = schema.get("type").and_then(Value::as_str).unwrap_or(
        if schema.get("properties").is_some() {
            "object"
        } else {
            "string"
        },
    );
    match kind {
        "object" => {
            let mut out = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    let value = instance(
                        root,
                        sub,
                        secret || marked(sub),
                        leaves,
                        &format!("{at}.{name}"),
                        0,
                    );
                    out.insert(name.clone(), value);
                }
            }
            Value::Object(out)
        }
        "array" => {
            let items = schema.get("items").cloned().unwrap_or(json!({}));
            json!([instance(
                root,
                &items,
                secret,
                leaves,
                &format!("{at}[]"),
                0
            )])
        }
        "integer" | "number" => {
            let min = schema.get("minimum").and_then(Value::as_i64).unwrap_or(1);
            json!(min.max(1))
        }
        "boolean" => json!(true),
        _ => {
            let format = schema.get("format").and_then(Value::as_str);
            let fixed = match format {
                Some("date-time") => Some("2026-01-01T00:00:00Z"),
                Some("date") => Some("2026-01-01"),
                Some("uuid") => Some("7d4a1d8e-2b7a-4a53-9d1e-0a1b2c3d4e5f"),
                Some("uri") => Some("https://example.com/x"),
                _ => None,
            };
            if let Some(fixed) = fixed {
                return json!(fixed);
            }
            if schema.get("pattern").is_some() {
                // A value the spec documents: the canary would not match.
                let example = schema
                    .get("example")
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{at}: a pattern needs an example"));
                leaves
                    .seen
                    .push((example.to_string(), secret, at.to_string()));
                return json!(example);
            }
            let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
            let max = schema
                .get("maxLength")
                .and_then(Value::as_u64)
                .unwrap_or(64) as usize;
            let text = leaves.canary(min, max, secret, at);
            if format == Some("email") {
                json!(format!("{text}@example.com"))
            } else {
                json!(text)
            }
        }
    }
}

type DebugOf = fn(&str, Value) -> Option<Result<(String, String), serde_json::Error>>;

const PROVIDERS: [(&str, DebugOf); 5] = [
    ("exirom", exirom::generated::debug_of),
    ("institution", institution::generated::debug_of),
    ("pledg", pledg::generated::debug_of),
    ("bursagb", bursagb::generated::debug_of),
    ("axept", axept::generated::debug_of),
];

#[test]
fn no_generated_type_shows_a_secret() {
    let mut secret_leaves = 0;
    let mut types = 0;
    for (provider, debug_of) in PROVIDERS {
        let path = format!("{}/../specs/{provider}.yaml", env!("CARGO_MANIFEST_DIR"));
        let root: Value =
            serde_yaml::from_str(&std::fs::read_to_string(&path).expect("spec")).expect("yaml");
        let schemas = root["components"]["schemas"].as_object().expect("schemas");
        for (name, schema) in schemas {
            let alternatives = ["oneOf", "anyOf"]
                .iter()
                .find_map(|k| schema.get(*k).and_then(Value::as_array))
                .map_or(1, Vec::len);
            for alt in 0..alternatives {
                let mut leaves = Leaves {
                    next: 0,
                    seen: Vec::new(),
                };
                let value = instance(&root, schema, false, &mut leaves, name, alt);
                let (shown, builder) = debug_of(name, value.clone())
                    .unwrap_or_else(|| panic!("{provider} {name}: no generated type"))
                    .unwrap_or_else(|e| panic!("{provider} {name}: {value} does not decode: {e}"));
                types += 1;
                let printed = format!("{shown}\n{builder}");
                for (text, secret, at) in &leaves.seen {
                    if *secret {
                        secret_leaves += 1;
                        assert!(
                            !printed.contains(text.as_str()),
                            "{provider} {at}: the secret `{text}` is shown:\n{printed}"
                        );
                    } else if !schema_is_secret(&root, schema) {
                        assert!(
                            shown.contains(text.as_str()),
                            "{provider} {at}: `{text}` (not secret) is not shown, so the check could not fail:\n{printed}"
                        );
                    }
                }
            }
        }
    }
    assert!(types >= 50, "only {types} types printed");
    // Passwords, API secrets, keys, tokens, card numbers, CVVs.
    assert!(secret_leaves >= 15, "only {secret_leaves} secret values");
}

fn schema_is_secret(root: &Value, schema: &Value) -> bool {
    marked(resolve(root, schema))
}

/// The builder's errors (a missing credential, a bad base URL, a bad
/// header value) never carry the secret they were given.
#[test]
fn builder_errors_show_no_secret() {
    const CANARY: &str = "CANARY-builder-secret-31337";
    let mut printed: Vec<String> = Vec::new();
    let shown = |e: payauth_runtime::Error| format!("{e} {e:?}");
    // Base URLs carrying the secret as user information, in every form.
    for url in [
        format!("https://user:{CANARY}@api.example.com"),
        format!("http://user:{CANARY}@api.example.com"),
        format!("ftp://user:{CANARY}@api.example.com"),
        format!("not a url user:{CANARY}@x"),
    ] {
        printed.push(shown(
            pledg::builder()
                .base_url(url)
                .credentials(pledg::Credentials::new("k", CANARY))
                .build()
                .unwrap_err(),
        ));
    }
    // A secret a header cannot carry, then used.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = institution::builder()
        .base_url("http://127.0.0.1:9")
        .credentials(institution::Credentials::api_key(format!("{CANARY}\n")))
        .shared_cache(false)
        .build()
        .expect("builds");
    let e = rt
        .block_on(client.send_with(
            client.request(reqwest::Method::GET, "/x"),
            &institution::generated::security::schemes::API_KEY_AUTH,
        ))
        .unwrap_err();
    assert!(e.to_string().contains("not allowed in a header"), "{e}");
    printed.push(shown(e));
    // Missing and empty variables.
    let env = |k: &str| match k {
        "PLEDG_API_SECRET" => Some(CANARY.to_string()),
        "PLEDG_BASE_URL" => Some(format!("https://u:{CANARY}@h.example")),
        _ => None,
    };
    printed.push(shown(pledg::builder().from_env_with(&env).unwrap_err()));
    let env = |k: &str| match k {
        "PLEDG_API_SECRET" => Some(CANARY.to_string()),
        "PLEDG_API_KEY" => Some("k".into()),
        "PLEDG_BASE_URL" => Some(format!("https://u:{CANARY}@h.example")),
        _ => None,
    };
    match pledg::builder().from_env_with(&env) {
        Ok(b) => {
            printed.push(format!("{b:?}"));
            printed.push(shown(b.build().unwrap_err()));
        }
        Err(e) => printed.push(shown(e)),
    }
    let builder = exirom::builder().credentials(exirom::Credentials::new("k", CANARY));
    printed.push(format!("{builder:?}"));
    let printed = printed.join("\n");
    assert!(printed.matches("Config").count() >= 7, "{printed}");
    assert!(!printed.contains(CANARY), "{printed}");
}
