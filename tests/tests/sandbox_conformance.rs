//! Spec conformance of the sandbox: every request-body example of every operation in
//! `specs/*.yaml` is driven through the sandbox (configured with the credentials the examples
//! show) under each security alternative of the operation; every answer must have a status the
//! operation documents and a body valid against the documented schema. Negative requests
//! (empty body, no credentials) must be documented and valid too.

use std::collections::BTreeMap;
use std::path::PathBuf;

use payauth_sandbox::{
    AxeptConfig, BursagbConfig, ExiromConfig, InstitutionConfig, Provider, Sandbox, SandboxConfig,
};
use reqwest::{Client, Method};
use serde_json::{Value, json};

fn specs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../specs")
}

fn load_specs() -> Vec<(Provider, Value)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir(specs_dir()) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    for path in paths {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let Ok(p) = stem.parse::<Provider>() else {
            eprintln!(
                "skipping {}: not one of the sandbox's providers",
                path.display()
            );
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: Value = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: invalid YAML: {e}", path.display()));
        out.push((p, doc));
    }
    out
}

/// Resolves a local `$ref` (`#/components/...`) once.
fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolvable $ref {r}")),
        None => v,
    }
}

fn examples_of(media: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(e) = media.get("example") {
        out.push(("example".to_owned(), e.clone()));
    }
    if let Some(Value::Object(m)) = media.get("examples") {
        for (name, ex) in m {
            if let Some(v) = ex.get("value") {
                out.push((name.clone(), v.clone()));
            }
        }
    }
    out
}

/// The request-body example of an operation, if any: (content type, example).
fn op_example<'a>(doc: &'a Value, op: &'a Value) -> Option<(String, Value)> {
    let body = deref(doc, op.get("requestBody")?);
    let content = body.get("content")?.as_object()?;
    for (ct, media) in content {
        if let Some((_, ex)) = examples_of(media).into_iter().next() {
            return Some((ct.clone(), ex));
        }
    }
    None
}

/// Sandbox accounts equal to the credentials the spec examples show.
fn config_from_examples(specs: &[(Provider, Value)]) -> SandboxConfig {
    let mut cfg = SandboxConfig::default();
    for (p, doc) in specs {
        let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
            continue;
        };
        for (path, item) in paths {
            let Some(op) = item.get("post") else { continue };
            let Some((_, ex)) = op_example(doc, op) else {
                continue;
            };
            let s = |k: &str| ex.get(k).and_then(Value::as_str).map(str::to_owned);
            match (*p, path.as_str()) {
                (Provider::Exirom, "/v1/auth") => {
                    if let (Some(k), Some(sec)) = (s("merchantKey"), s("merchantSecret")) {
                        cfg.provider_mut::<ExiromConfig>().merchant_key = k;
                        cfg.provider_mut::<ExiromConfig>().merchant_secret = sec;
                    }
                }
                (Provider::Institution, "/v2/auth/login") => {
                    if let (Some(e), Some(pw)) = (s("token"), s("password")) {
                        cfg.provider_mut::<InstitutionConfig>().email = e;
                        cfg.provider_mut::<InstitutionConfig>().password = pw;
                    }
                    for param in op
                        .get("parameters")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let param = deref(doc, param);
                        if param["name"] == "merchant_id"
                            && let Some(m) = param_value(param)
                        {
                            cfg.provider_mut::<InstitutionConfig>().merchant_id = m;
                        }
                    }
                }
                (Provider::Bursagb, "/Login/Customer/Api/Verify") => {
                    if let (Some(e), Some(pw)) = (s("Email"), s("Password")) {
                        cfg.provider_mut::<BursagbConfig>().reseller.email = e;
                        cfg.provider_mut::<BursagbConfig>().reseller.password = pw;
                    }
                }
                (Provider::Axept, "/api/authenticate") => {
                    if let (Some(m), Some(k), Some(key)) = (
                        ex.get("merchantId").and_then(Value::as_i64),
                        ex.get("keyId").and_then(Value::as_i64),
                        s("key"),
                    ) {
                        cfg.provider_mut::<AxeptConfig>().merchant_id = m;
                        cfg.provider_mut::<AxeptConfig>().key_id = k;
                        cfg.provider_mut::<AxeptConfig>().key = key;
                    }
                }
                _ => {}
            }
        }
    }
    cfg
}

fn param_value(param: &Value) -> Option<String> {
    let v = param
        .get("example")
        .or_else(|| param.pointer("/schema/default"))
        .or_else(|| param.pointer("/schema/example"))?;
    Some(match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn client() -> Client {
    Client::builder().no_proxy().build().unwrap()
}

fn api_key(sb: &Sandbox, p: Provider) -> String {
    let creds = sb.credentials(p);
    match creds.get("api_key").and_then(Value::as_str) {
        Some(key) => key.to_owned(),
        None => panic!("{p} has no API key: {creds:?}"),
    }
}

/// How one security alternative is satisfied: header name → value.
#[derive(Debug, Clone)]
enum Auth {
    Anonymous,
    Headers(Vec<(String, String)>),
    Basic(String, String),
    /// A query parameter holding an HS256 JWT over `{"data": body}`
    /// (pledg's `signature`, `x-signed-jwt`), signed with this secret.
    SignedQuery(String, String),
}

async fn security_alternatives(
    sb: &Sandbox,
    p: Provider,
    doc: &Value,
    op: &Value,
) -> Vec<(String, Auth)> {
    let reqs = op
        .get("security")
        .or_else(|| doc.get("security"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if reqs.is_empty() {
        return vec![("anonymous".into(), Auth::Anonymous)];
    }
    let mut out = Vec::new();
    for req in reqs {
        let req = req.as_object().cloned().unwrap_or_default();
        if req.is_empty() {
            out.push(("anonymous".into(), Auth::Anonymous));
            continue;
        }
        let mut headers = Vec::new();
        let mut basic = None;
        let mut names = Vec::new();
        for name in req.keys() {
            names.push(name.clone());
            let scheme = doc
                .pointer(&format!("/components/securitySchemes/{name}"))
                .unwrap_or_else(|| panic!("{p}: unknown security scheme {name}"));
            match (
                scheme["type"].as_str(),
                scheme["scheme"]
                    .as_str()
                    .map(str::to_ascii_lowercase)
                    .as_deref(),
            ) {
                (Some("http"), Some("bearer")) => headers.push((
                    "authorization".to_owned(),
                    format!("Bearer {}", workspace_tests::raw::login_token(sb, p).await),
                )),
                (Some("http"), Some("basic")) => {
                    let creds = sb.credentials(p);
                    let api_key = creds.text("api_key").to_owned();
                    let api_secret = creds.text("api_secret").to_owned();
                    basic = Some((api_key, api_secret));
                }
                (Some("apiKey"), _)
                    if scheme["in"] == "query" && scheme.get("x-signed-jwt").is_some() =>
                {
                    let param = scheme["name"].as_str().unwrap().to_owned();
                    out.push((
                        name.clone(),
                        Auth::SignedQuery(param, sb.pledg_secret_key()),
                    ));
                    continue;
                }
                (Some("apiKey"), _) if scheme["in"] == "header" => {
                    headers.push((scheme["name"].as_str().unwrap().to_owned(), api_key(sb, p)))
                }
                other => panic!("{p}: unsupported security scheme {name}: {other:?}"),
            }
        }
        let label = names.join("+");
        match basic {
            Some((u, pw)) => out.push((label, Auth::Basic(u, pw))),
            None => out.push((label, Auth::Headers(headers))),
        }
    }
    out
}

struct Outcome {
    status: u16,
    problems: Vec<String>,
}

/// Validates `instance` against an OpenAPI 3.0 schema of `doc` (its `#/components/...`
/// references resolve against a root holding the spec's components).
fn schema_errors(doc: &Value, schema: &Value, instance: &Value) -> Vec<String> {
    let root = json!({
        "allOf": [schema],
        "components": doc.get("components").cloned().unwrap_or(json!({})),
    });
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}"));
    validator
        .iter_errors(instance)
        .map(|e| format!("schema mismatch at `{}`: {e}", e.instance_path))
        .collect()
}

/// Sends one request and checks the answer against the operation's documented responses.
#[allow(clippy::too_many_arguments)]
async fn drive(
    sb: &Sandbox,
    p: Provider,
    doc: &Value,
    path: &str,
    method: &str,
    op: &Value,
    content_type: &str,
    body: &Value,
    auth: &Auth,
) -> Outcome {
    // Operations with `x-body-checksum` get the checksum the SDK would add.
    let checksummed;
    let creds = sb.credentials(p);
    let merchant_secret = creds.get("merchant_secret").and_then(Value::as_str);
    let body = match (op.get("x-body-checksum"), merchant_secret) {
        (Some(ext), Some(merchant_secret)) if body.is_object() => {
            let parts: Vec<&'static str> = ext["parts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| &*v.as_str().unwrap().to_owned().leak())
                .collect();
            let spec = payauth_runtime::provider::BodyChecksum {
                field: ext["field"].as_str().unwrap().to_owned().leak(),
                parts: parts.leak(),
            };
            checksummed = payauth_runtime::provider::signing::checksum_into_body(
                "exirom",
                &payauth_runtime::Secret::new(merchant_secret),
                &spec,
                body.to_string().as_bytes(),
            )
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
            .unwrap_or_else(|_| body.clone());
            &checksummed
        }
        _ => body,
    };
    let url = format!("{}{path}", sb.base_url(p));
    let mut rb = client().request(
        Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
        &url,
    );
    for param in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let param = deref(doc, param);
        if param["in"] == "header"
            && let Some(v) = param_value(param)
        {
            rb = rb.header(param["name"].as_str().unwrap(), v);
        }
    }
    match auth {
        Auth::Anonymous => {}
        Auth::Headers(hs) => {
            for (k, v) in hs {
                rb = rb.header(k, v);
            }
        }
        Auth::Basic(u, pw) => rb = rb.basic_auth(u, Some(pw)),
        Auth::SignedQuery(param, secret) => {
            let now = chrono::Utc::now().timestamp();
            let jwt = jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                &json!({"data": body, "iat": now, "exp": now + 3600}),
                &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
            )
            .unwrap();
            rb = rb.query(&[(param, jwt)]);
        }
    }
    rb = match content_type {
        "application/x-www-form-urlencoded" => {
            let pairs: Vec<(String, String)> = body
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v.as_str()
                                    .map(str::to_owned)
                                    .unwrap_or_else(|| v.to_string()),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            rb.form(&pairs)
        }
        ct => rb.header("content-type", ct).body(body.to_string()),
    };
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let resp_ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = resp.text().await.unwrap();
    let mut problems = Vec::new();
    let where_ = format!("{p} {method} {path} → {status}");
    let responses = op["responses"].as_object().cloned().unwrap_or_default();
    let documented = responses
        .get(&status.to_string())
        .or_else(|| responses.get(&format!("{}XX", status / 100)))
        .or_else(|| responses.get("default"));
    let Some(documented) = documented else {
        problems.push(format!("{where_}: status not documented (body {text})"));
        return Outcome { status, problems };
    };
    let documented = deref(doc, documented);
    let Some(content) = documented.get("content").and_then(Value::as_object) else {
        return Outcome { status, problems };
    };
    let essence = resp_ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some(media) = content.get(&essence).or_else(|| content.get("*/*")) else {
        problems.push(format!(
            "{where_}: content-type `{resp_ct}` not documented (documented: {:?})",
            content.keys().collect::<Vec<_>>()
        ));
        return Outcome { status, problems };
    };
    let Some(schema) = media.get("schema") else {
        return Outcome { status, problems };
    };
    let instance: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!("{where_}: body is not JSON ({e}): {text}"));
            return Outcome { status, problems };
        }
    };
    for e in schema_errors(doc, schema, &instance) {
        problems.push(format!("{where_}: {e} — body {instance}"));
    }
    Outcome { status, problems }
}

#[tokio::test]
async fn every_spec_example_conforms() {
    let specs = load_specs();
    if specs.is_empty() {
        eprintln!("no specs in {}: nothing to check", specs_dir().display());
        return;
    }
    let sb = Sandbox::start_with(config_from_examples(&specs))
        .await
        .unwrap();
    let mut problems = Vec::new();
    let mut driven = 0;
    let mut ops_without_success = Vec::new();
    // Round 0 with the default response shapes, round 1 with the other variants.
    for round in 0..2 {
        if round == 1 {
            sb.set_variant(payauth_sandbox::Variant::ExiromObject);
            sb.set_variant(payauth_sandbox::Variant::AxeptPascal);
        }
        for (p, doc) in &specs {
            let paths = doc["paths"].as_object().cloned().unwrap_or_default();
            for (path, item) in &paths {
                for (method, op) in item.as_object().cloned().unwrap_or_default() {
                    if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                        continue;
                    }
                    let Some((ct, example)) = op_example(doc, &op) else {
                        continue;
                    };
                    let mut bodies = vec![("example".to_owned(), example.clone())];
                    // Examples that carry a token of the real provider: also try a live one.
                    if let Some(Value::String(rt)) = example.get("refreshToken")
                        && rt.starts_with("eyJ")
                    {
                        let login = client().post(format!("{}/v2/auth/login", sb.base_url(*p)));
                        let creds = sb.credentials(*p);
                        let email = creds.text("email").to_owned();
                        let password = creds.text("password").to_owned();
                        let merchant_id = creds.text("merchant_id").to_owned();
                        let v: Value = login
                            .header("merchant_id", merchant_id)
                            .json(&json!({"token": email, "password": password}))
                            .send()
                            .await
                            .unwrap()
                            .json()
                            .await
                            .unwrap();
                        let mut live = example.clone();
                        live["refreshToken"] = v["data"]["refreshToken"].clone();
                        bodies.push(("example with a live refresh token".into(), live));
                    }
                    let mut succeeded = false;
                    let alternatives = security_alternatives(&sb, *p, doc, &op).await;
                    for (label, auth) in &alternatives {
                        for (what, body) in &bodies {
                            let o = drive(&sb, *p, doc, path, &method, &op, &ct, body, auth).await;
                            driven += 1;
                            succeeded |= (200..300).contains(&o.status);
                            eprintln!("{p} {method} {path} [{label}, {what}] → {}", o.status);
                            problems.extend(o.problems);
                        }
                        // Negative: an empty body under the same credentials.
                        let o =
                            drive(&sb, *p, doc, path, &method, &op, &ct, &json!({}), auth).await;
                        driven += 1;
                        eprintln!("{p} {method} {path} [{label}, empty body] → {}", o.status);
                        problems.extend(o.problems);
                    }
                    // Negative: no credentials, then forged ones, on a secured operation.
                    if !alternatives
                        .iter()
                        .any(|(_, a)| matches!(a, Auth::Anonymous))
                    {
                        let mut negatives = vec![("no credentials".to_owned(), Auth::Anonymous)];
                        for (label, auth) in &alternatives {
                            let forged = match auth {
                                Auth::Headers(hs) => Auth::Headers(
                                    hs.iter()
                                        .map(|(k, v)| {
                                            let v = if k == "authorization" {
                                                format!(
                                                    "Bearer {}",
                                                    sb.forge_token(
                                                        *p,
                                                        payauth_sandbox::Forgery::WrongKey
                                                    )
                                                )
                                            } else {
                                                format!("{v}-forged")
                                            };
                                            (k.clone(), v)
                                        })
                                        .collect(),
                                ),
                                Auth::Basic(u, _) => Auth::Basic(u.clone(), "wrong-secret".into()),
                                Auth::SignedQuery(param, _) => {
                                    Auth::SignedQuery(param.clone(), "wrong-secret".into())
                                }
                                Auth::Anonymous => continue,
                            };
                            negatives.push((format!("forged {label}"), forged));
                        }
                        for (label, auth) in negatives {
                            let o =
                                drive(&sb, *p, doc, path, &method, &op, &ct, &example, &auth).await;
                            driven += 1;
                            eprintln!("{p} {method} {path} [{label}] → {}", o.status);
                            if o.status != 401 {
                                problems.push(format!(
                                    "{p} {method} {path} [{label}]: expected 401, got {}",
                                    o.status
                                ));
                            }
                            problems.extend(o.problems);
                        }
                    }
                    if !succeeded {
                        ops_without_success.push(format!("{p} {method} {path} (round {round})"));
                    }
                }
            }
        }
    }
    assert!(driven > 0, "no request-body example found in the specs");
    assert!(
        ops_without_success.is_empty(),
        "operations whose examples never succeeded: {ops_without_success:#?}"
    );
    let by_text: BTreeMap<_, _> = problems.iter().map(|p| (p.clone(), ())).collect();
    assert!(
        problems.is_empty(),
        "{} conformance problem(s):\n{}",
        by_text.len(),
        by_text.keys().cloned().collect::<Vec<_>>().join("\n")
    );
}

/// The validator really rejects a body that does not match (guards against a vacuous pass).
#[test]
fn schema_check_is_not_vacuous() {
    let doc = json!({
        "components": {"schemas": {
            "E": {"type": "object", "required": ["message"],
                  "properties": {"message": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}},
        }},
    });
    let schema = json!({"$ref": "#/components/schemas/E"});
    assert!(schema_errors(&doc, &schema, &json!({"message": "x"})).is_empty());
    assert!(!schema_errors(&doc, &schema, &json!({"message": 1})).is_empty());
    assert!(!schema_errors(&doc, &schema, &json!({})).is_empty());
    assert!(!schema_errors(&doc, &schema, &json!({"message": "x", "at": "yesterday"})).is_empty());
}
