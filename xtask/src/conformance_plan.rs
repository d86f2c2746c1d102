//! What the conformance driver (`xtask/conformance.py`) needs for each
//! provider, read from its spec: where the sandbox serves it, which
//! headers authorize its operations, and how to log in for a bearer
//! token. One entry per spec (`codegen::providers`), so a new provider is
//! fuzzed without anyone adding it to a list.
//!
//! - The base path is `/<provider>` followed by the path of the spec's
//!   first server (`https://sandbox.api.exirom.com/api` → `/exirom/api`),
//!   which is where the sandbox mounts each provider.
//! - For each operation, the first security alternative that needs no
//!   login (`apiKey` headers only), else the first made of bearer and
//!   `apiKey` headers: the schemes chosen are the headers sent. Basic and
//!   query schemes are not sent: a Basic scheme is a login's own, a
//!   query signature is `conformance_hooks.py`'s.
//! - A bearer token comes from the spec's first operation with
//!   `security: []` and a request body: its body's required fields, each
//!   filled from the sandbox's credential of the same name (compared
//!   without case or separators: `merchantKey` ← `merchant_key`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::Value;

/// One provider's entry.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Plan {
    pub provider: String,
    pub spec: PathBuf,
    pub base: String,
    pub login: Option<Login>,
    pub headers: Vec<Header>,
}

/// The operation that gives a bearer token.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Login {
    pub path: String,
    /// A form body (else JSON).
    pub form: bool,
    /// Body field → the credential it takes (normalised, see [`key`]).
    pub fields: Vec<(String, String)>,
}

/// A header sent with every request.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    /// `Bearer <the login's token>`.
    pub bearer: bool,
    /// Else the credential of this (normalised) name.
    pub credential: Option<String>,
}

/// The plan for every provider of the workspace at `root`.
pub fn plans(root: &Path) -> Result<Vec<Plan>> {
    codegen::providers(root)?
        .into_iter()
        .map(|provider| {
            let spec = codegen::spec_path(root, &provider);
            let text =
                std::fs::read_to_string(&spec).with_context(|| format!("{}", spec.display()))?;
            let doc: Value = serde_yaml::from_str(&text)
                .with_context(|| format!("{} is not YAML", spec.display()))?;
            plan(&provider, spec, &doc).with_context(|| format!("specs/{provider}.yaml"))
        })
        .collect()
}

/// A credential's or a field's name without case or separators.
pub fn key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Scheme {
    Bearer,
    ApiKeyHeader(String),
    /// Basic, query, OAuth…: not sent by the driver.
    Other,
}

fn plan(provider: &str, spec: PathBuf, doc: &Value) -> Result<Plan> {
    let server = doc["servers"][0]["url"]
        .as_str()
        .context("no servers[0].url")?;
    let after_scheme = server.split_once("://").map_or(server, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |at| &after_scheme[at..]);
    let base = format!("/{provider}{}", path.trim_end_matches('/'));

    let scheme = |name: &str| -> Scheme {
        let s = &doc["components"]["securitySchemes"][name];
        match (s["type"].as_str(), s["scheme"].as_str(), s["in"].as_str()) {
            (Some("http"), Some(kind), _) if kind.eq_ignore_ascii_case("bearer") => Scheme::Bearer,
            (Some("apiKey"), _, Some("header")) => {
                Scheme::ApiKeyHeader(s["name"].as_str().unwrap_or_default().to_string())
            }
            _ => Scheme::Other,
        }
    };
    let mut sent: Vec<Scheme> = Vec::new();
    for (_, op) in operations(doc) {
        let alternatives: Vec<Vec<Scheme>> = op["security"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .map(|req| req.keys().map(|name| scheme(name)).collect())
            .collect();
        let no_login = |alt: &&Vec<Scheme>| {
            !alt.is_empty() && alt.iter().all(|s| matches!(s, Scheme::ApiKeyHeader(_)))
        };
        let headers_only =
            |alt: &&Vec<Scheme>| !alt.is_empty() && alt.iter().all(|s| *s != Scheme::Other);
        let chosen = alternatives
            .iter()
            .find(no_login)
            .or_else(|| alternatives.iter().find(headers_only));
        for s in chosen.into_iter().flatten() {
            if !sent.contains(s) {
                sent.push(s.clone());
            }
        }
    }
    let login = if sent.contains(&Scheme::Bearer) {
        Some(login(doc).context("its operations need a bearer token, and no operation with `security: []` and a request body gives one")?)
    } else {
        None
    };
    let headers = sent
        .into_iter()
        .map(|s| match s {
            Scheme::Bearer => Header {
                name: "Authorization".to_string(),
                bearer: true,
                credential: None,
            },
            Scheme::ApiKeyHeader(name) => Header {
                credential: Some(key(&name)),
                name,
                bearer: false,
            },
            Scheme::Other => unreachable!("never chosen"),
        })
        .collect();
    Ok(Plan {
        provider: provider.to_string(),
        spec,
        base,
        login,
        headers,
    })
}

/// Every operation of the spec with its path, in document order.
fn operations(doc: &Value) -> Vec<(&String, &Value)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter_map(move |m| item.get(*m).map(|op| (path, op)))
        })
        .collect()
}

fn login(doc: &Value) -> Result<Login> {
    let deref = |schema: &Value| -> Value {
        let mut schema = schema;
        for _ in 0..16 {
            let Some(target) = schema["$ref"].as_str().and_then(|r| r.strip_prefix('#')) else {
                break;
            };
            match doc.pointer(target) {
                Some(next) => schema = next,
                None => break,
            }
        }
        schema.clone()
    };
    for (path, op) in operations(doc) {
        if op["security"].as_array().is_none_or(|s| !s.is_empty()) {
            continue;
        }
        let Some((media_type, media)) = op["requestBody"]["content"]
            .as_object()
            .and_then(|c| c.iter().next())
        else {
            continue;
        };
        let mut schema = deref(&media["schema"]);
        // Alternative shapes of one body: the first is the documented one.
        for alternatives in ["oneOf", "anyOf"] {
            if let Some(first) = schema[alternatives].get(0) {
                schema = deref(first);
            }
        }
        let names: Vec<&str> = match schema["required"].as_array() {
            Some(required) => required.iter().filter_map(Value::as_str).collect(),
            None => schema["properties"]
                .as_object()
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default(),
        };
        if names.is_empty() {
            continue;
        }
        return Ok(Login {
            path: path.clone(),
            form: media_type == "application/x-www-form-urlencoded",
            fields: names.iter().map(|n| (n.to_string(), key(n))).collect(),
        });
    }
    bail!("no login operation")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, credential: Option<&str>) -> Header {
        Header {
            name: name.to_string(),
            bearer: credential.is_none(),
            credential: credential.map(str::to_string),
        }
    }

    fn fields(names: &[&str]) -> Vec<(String, String)> {
        names.iter().map(|n| (n.to_string(), key(n))).collect()
    }

    /// What the driver used to hard-code, per provider, now read from the
    /// specs; and every spec is in it.
    #[test]
    fn every_spec_gets_a_plan_read_from_it() {
        let root = codegen::workspace_root();
        let plans = plans(&root).expect("the specs make a plan");
        let providers: Vec<&str> = plans.iter().map(|p| p.provider.as_str()).collect();
        assert_eq!(providers, codegen::providers(&root).unwrap());
        let by = |p: &str| plans.iter().find(|x| x.provider == p).expect(p);

        let exirom = by("exirom");
        assert_eq!(exirom.base, "/exirom/api");
        assert_eq!(exirom.headers, [header("Authorization", None)]);
        let login = exirom.login.as_ref().expect("exirom logs in");
        assert_eq!(login.path, "/v1/auth");
        assert!(!login.form);
        assert_eq!(login.fields, fields(&["merchantKey", "merchantSecret"]));

        let institution = by("institution");
        assert_eq!(institution.base, "/institution");
        assert_eq!(institution.headers, [header("Api-key", Some("apikey"))]);
        assert_eq!(institution.login, None);

        let pledg = by("pledg");
        assert_eq!(pledg.base, "/pledg");
        assert!(pledg.headers.is_empty() && pledg.login.is_none());

        let bursagb = by("bursagb");
        assert_eq!(bursagb.base, "/bursagb");
        assert_eq!(
            bursagb.headers,
            [
                header("Authorization", None),
                header("ApiKey", Some("apikey"))
            ]
        );
        let login = bursagb.login.as_ref().expect("bursagb logs in");
        assert_eq!(login.path, "/Login/Customer/Api/Verify");
        assert_eq!(login.fields, fields(&["Email", "Password"]));

        let axept = by("axept");
        assert_eq!(axept.base, "/axept");
        assert_eq!(axept.headers, [header("Authorization", None)]);
        let login = axept.login.as_ref().expect("axept logs in");
        assert_eq!(login.path, "/api/authenticate");
        assert_eq!(login.fields, fields(&["merchantId", "keyId", "key"]));
    }

    #[test]
    fn a_spec_whose_bearer_has_no_login_is_refused() {
        let doc: Value = serde_json::json!({
            "servers": [{"url": "https://x.example/v2"}],
            "components": {"securitySchemes": {"b": {"type": "http", "scheme": "bearer"}}},
            "paths": {"/things": {"get": {"security": [{"b": []}]}}},
        });
        let err = plan("x", PathBuf::from("x.yaml"), &doc).unwrap_err();
        assert!(format!("{err:#}").contains("bearer"), "{err:#}");
        assert_eq!(key("Api-key"), "apikey");
        assert_eq!(key("merchant_key"), key("merchantKey"));
    }
}
