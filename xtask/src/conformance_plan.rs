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
//!   login (`apiKey` headers and signed query JWTs only), else the first
//!   made of bearer, `apiKey` headers and signed query JWTs: the header
//!   schemes chosen are the headers sent. Basic schemes are not sent (a
//!   Basic scheme is a login's own), nor any other query scheme.
//! - The requests the SDKs sign, signed the same way by
//!   `conformance_hooks.py` with the secret the sandbox answers at
//!   `GET /__sandbox/signing/{provider}`: an operation whose chosen
//!   alternative has a query `apiKey` scheme with `x-signed-jwt` (a JWT
//!   over the body, as that query parameter), and an operation with
//!   `x-body-checksum` (an HMAC of some body fields, into another field).
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
    /// The operations signed as the SDKs sign them, in document order.
    pub signed: Vec<Signed>,
}

/// An operation whose requests the driver signs.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Signed {
    /// `POST`.
    pub method: String,
    /// The spec's path template (`/api/purchase_link/`).
    pub path: String,
    pub signing: Signing,
}

/// How a request is signed, read from the spec's extensions. The secret
/// is the provider's signing secret (the sandbox's
/// `GET /__sandbox/signing/{provider}`).
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signing {
    /// [`codegen::SIGNED_JWT_EXTENSION`] on a query `apiKey` scheme: a JWT
    /// with the claims `{<claim>: <the JSON body>, iat, exp: iat +
    /// lifetime_secs}`, sent as the query parameter `param`.
    QueryJwt {
        param: String,
        algorithm: String,
        claim: String,
        lifetime_secs: u64,
    },
    /// [`codegen::BODY_CHECKSUM_EXTENSION`] on the operation:
    /// Base64(HMAC-SHA256(secret, the body's `parts` joined by
    /// `separator`)) written into the body's `field`; a string part as
    /// written, an integer as its decimal text.
    BodyChecksum {
        field: String,
        parts: Vec<String>,
        separator: String,
    },
}

/// The algorithms of [`Signing::QueryJwt`] the driver can sign with.
const JWT_ALGORITHMS: [&str; 1] = ["HS256"];

/// What the checksum's parts are joined with (the extension's meaning, as
/// the runtime computes it).
const CHECKSUM_SEPARATOR: &str = "|";

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
    /// A query `apiKey` scheme with [`codegen::SIGNED_JWT_EXTENSION`]: the
    /// driver signs (a [`Signing::QueryJwt`]).
    SignedJwt {
        param: String,
        algorithm: String,
        claim: String,
        lifetime_secs: u64,
    },
    /// A scheme whose [`codegen::SIGNED_JWT_EXTENSION`] the driver cannot
    /// sign with: the plan is refused if an operation needs it.
    BadJwt {
        name: String,
        why: String,
    },
    /// Basic, other query schemes, OAuth…: not sent by the driver.
    Other,
}

fn signed_jwt(name: &str, param: &str, ext: &Value) -> Scheme {
    let bad = |why: String| Scheme::BadJwt {
        name: name.to_string(),
        why,
    };
    let text = |field: &str| ext[field].as_str().map(str::to_string);
    let (Some(algorithm), Some(claim), Some(lifetime_secs)) = (
        text("algorithm"),
        text("claim"),
        ext["lifetime_secs"].as_u64(),
    ) else {
        return bad("wants `algorithm`, `claim` and `lifetime_secs`".to_string());
    };
    if !JWT_ALGORITHMS.contains(&algorithm.as_str()) {
        return bad(format!(
            "signs with {algorithm}; the driver signs with {JWT_ALGORITHMS:?} only"
        ));
    }
    Scheme::SignedJwt {
        param: param.to_string(),
        algorithm,
        claim,
        lifetime_secs,
    }
}

fn body_checksum(ext: &Value) -> Result<Signing> {
    let field = ext["field"].as_str();
    let parts: Option<Vec<String>> = ext["parts"].as_array().and_then(|parts| {
        parts
            .iter()
            .map(|p| p.as_str().map(str::to_string))
            .collect()
    });
    match (field, parts) {
        (Some(field), Some(parts)) if !parts.is_empty() => Ok(Signing::BodyChecksum {
            field: field.to_string(),
            parts,
            separator: CHECKSUM_SEPARATOR.to_string(),
        }),
        _ => bail!(
            "`{}` wants a `field` and a list of `parts`",
            codegen::BODY_CHECKSUM_EXTENSION
        ),
    }
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
        let param = s["name"].as_str().unwrap_or_default();
        let jwt = s.get(codegen::SIGNED_JWT_EXTENSION);
        match (s["type"].as_str(), s["scheme"].as_str(), s["in"].as_str()) {
            (Some("http"), Some(kind), _) if kind.eq_ignore_ascii_case("bearer") => Scheme::Bearer,
            (Some("apiKey"), _, Some("header")) => Scheme::ApiKeyHeader(param.to_string()),
            (Some("apiKey"), _, Some("query")) => match jwt {
                Some(ext) => signed_jwt(name, param, ext),
                None => Scheme::Other,
            },
            _ => Scheme::Other,
        }
    };
    let mut sent: Vec<Scheme> = Vec::new();
    let mut signed: Vec<Signed> = Vec::new();
    for (path, method, op) in operations(doc) {
        let signed_op = |signing| Signed {
            method: method.to_ascii_uppercase(),
            path: path.clone(),
            signing,
        };
        let alternatives: Vec<Vec<Scheme>> = op["security"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .map(|req| req.keys().map(|name| scheme(name)).collect())
            .collect();
        let no_login = |alt: &&Vec<Scheme>| {
            !alt.is_empty()
                && alt.iter().all(|s| {
                    matches!(
                        s,
                        Scheme::ApiKeyHeader(_) | Scheme::SignedJwt { .. } | Scheme::BadJwt { .. }
                    )
                })
        };
        let headers_only =
            |alt: &&Vec<Scheme>| !alt.is_empty() && alt.iter().all(|s| *s != Scheme::Other);
        let chosen = alternatives
            .iter()
            .find(no_login)
            .or_else(|| alternatives.iter().find(headers_only));
        for s in chosen.into_iter().flatten() {
            match s {
                Scheme::SignedJwt {
                    param,
                    algorithm,
                    claim,
                    lifetime_secs,
                } => signed.push(signed_op(Signing::QueryJwt {
                    param: param.clone(),
                    algorithm: algorithm.clone(),
                    claim: claim.clone(),
                    lifetime_secs: *lifetime_secs,
                })),
                Scheme::BadJwt { name, why } => bail!(
                    "{} {path}: the `{}` of scheme `{name}` {why}",
                    method.to_ascii_uppercase(),
                    codegen::SIGNED_JWT_EXTENSION
                ),
                _ if !sent.contains(s) => sent.push(s.clone()),
                _ => {}
            }
        }
        if let Some(ext) = op.get(codegen::BODY_CHECKSUM_EXTENSION) {
            let signing = body_checksum(ext)
                .with_context(|| format!("{} {path}", method.to_ascii_uppercase()))?;
            signed.push(signed_op(signing));
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
            _ => unreachable!("only header schemes are sent"),
        })
        .collect();
    Ok(Plan {
        provider: provider.to_string(),
        spec,
        base,
        login,
        headers,
        signed,
    })
}

/// Every operation of the spec with its path and method, in document order.
fn operations(doc: &Value) -> Vec<(&String, &'static str, &Value)> {
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
                .filter_map(move |m| item.get(*m).map(|op| (path, *m, op)))
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
    for (path, _, op) in operations(doc) {
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
        assert_eq!(
            exirom.signed,
            [Signed {
                method: "POST".to_string(),
                path: "/v1/payments/apm".to_string(),
                signing: Signing::BodyChecksum {
                    field: "checksum".to_string(),
                    parts: ["accountId", "amount", "currency", "requestId"]
                        .map(str::to_string)
                        .to_vec(),
                    separator: "|".to_string(),
                },
            }]
        );

        let institution = by("institution");
        assert_eq!(institution.base, "/institution");
        assert_eq!(institution.headers, [header("Api-key", Some("apikey"))]);
        assert_eq!(institution.login, None);

        let pledg = by("pledg");
        assert_eq!(pledg.base, "/pledg");
        assert!(pledg.headers.is_empty() && pledg.login.is_none());
        assert_eq!(
            pledg.signed,
            [Signed {
                method: "POST".to_string(),
                path: "/api/purchase_link/".to_string(),
                signing: Signing::QueryJwt {
                    param: "signature".to_string(),
                    algorithm: "HS256".to_string(),
                    claim: "data".to_string(),
                    lifetime_secs: 86_400,
                },
            }]
        );
        assert!(institution.signed.is_empty());

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
        assert!(bursagb.signed.is_empty());

        let axept = by("axept");
        assert!(axept.signed.is_empty());
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

    /// Signing read from a spec that is no provider's: a signed query JWT
    /// chosen with a bearer, a body checksum, and an algorithm the driver
    /// cannot sign with refused.
    #[test]
    fn signing_is_read_from_the_extensions() {
        let spec = |algorithm: &str| {
            serde_json::json!({
                "servers": [{"url": "https://x.example"}],
                "components": {"securitySchemes": {
                    "b": {"type": "http", "scheme": "bearer"},
                    "sig": {"type": "apiKey", "in": "query", "name": "s",
                            "x-signed-jwt": {"algorithm": algorithm, "claim": "payload", "lifetime_secs": 60}},
                }},
                "paths": {
                    "/login": {"post": {"security": [], "requestBody": {"content": {"application/json": {
                        "schema": {"required": ["user"]}}}}}},
                    "/signed": {"put": {"security": [{"b": [], "sig": []}]}},
                    "/summed": {"post": {"security": [{"b": []}],
                        "x-body-checksum": {"field": "mac", "parts": ["a", "b"]}}},
                },
            })
        };
        let read = plan("x", PathBuf::from("x.yaml"), &spec("HS256")).unwrap();
        assert_eq!(read.headers, [header("Authorization", None)]);
        assert_eq!(
            read.signed,
            [
                Signed {
                    method: "PUT".to_string(),
                    path: "/signed".to_string(),
                    signing: Signing::QueryJwt {
                        param: "s".to_string(),
                        algorithm: "HS256".to_string(),
                        claim: "payload".to_string(),
                        lifetime_secs: 60,
                    },
                },
                Signed {
                    method: "POST".to_string(),
                    path: "/summed".to_string(),
                    signing: Signing::BodyChecksum {
                        field: "mac".to_string(),
                        parts: vec!["a".to_string(), "b".to_string()],
                        separator: "|".to_string(),
                    },
                },
            ]
        );
        let err = plan("x", PathBuf::from("x.yaml"), &spec("RS256")).unwrap_err();
        let err = format!("{err:#}");
        assert!(
            err.contains("PUT /signed") && err.contains("RS256"),
            "{err}"
        );
    }
}
