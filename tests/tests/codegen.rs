//! The generator's output: snapshots of every provider's client (a spec
//! change shows as a readable diff under `cargo insta review`), the
//! committed files are fresh, generation is deterministic, and a generator
//! failure names the spec and the operation.

use codegen::{Mode, REGEN_COMMAND, generate, regen, spec_path, workspace_root};

/// The providers, as every check takes them: one per spec.
fn providers() -> Vec<String> {
    codegen::providers(&workspace_root()).unwrap_or_else(|e| panic!("{e}"))
}

fn spec(provider: &str) -> String {
    std::fs::read_to_string(spec_path(&workspace_root(), provider)).expect("spec readable")
}

#[test]
fn generated_code_snapshots() {
    for provider in &providers() {
        let code = generate(&format!("specs/{provider}.yaml"), &spec(provider))
            .unwrap_or_else(|e| panic!("{e}"));
        insta::with_settings!({
            description => format!("sdks/{provider}/src/generated.rs, from specs/{provider}.yaml. \
                If the change is intended: `cargo insta review`, then `{REGEN_COMMAND}`."),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(provider.as_str(), code);
        });
    }
}

#[test]
fn committed_generated_code_is_fresh() {
    let report = regen(&workspace_root(), &[], Mode::Check).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.stale.is_empty(), "{report}");
    // One generated file per provider, and the README's list of assumptions.
    assert_eq!(report.fresh.len(), providers().len() + 1);
}

/// The README's list of the specs' assumptions is regenerated from them:
/// an `x-assumption` added to a spec makes it stale until `regen` runs.
#[test]
fn the_readme_lists_every_assumption_of_the_specs() {
    let root = workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut total = 0;
    for provider in &providers() {
        let doc: serde_json::Value = serde_yaml::from_str(&spec(provider)).unwrap();
        for a in codegen::assumptions::collect(&doc) {
            total += 1;
            assert!(
                readme.contains(&format!("- {}: {}", a.place, a.text)),
                "{provider} {}: not in the README",
                a.pointer
            );
        }
    }
    assert!(total >= 40, "only {total} assumptions");
    // A changed spec changes the section.
    let providers = providers();
    let mut specs: Vec<(&str, serde_json::Value)> = providers
        .iter()
        .map(|p| (p.as_str(), serde_yaml::from_str(&spec(p)).unwrap()))
        .collect();
    let exirom = specs.iter().position(|(p, _)| *p == "exirom").unwrap();
    specs[exirom].1["paths"]["/v1/auth"]["post"]["x-assumption"] = "a new guess".into();
    let section = codegen::assumptions::readme_section(&specs);
    assert!(section.contains("`POST /v1/auth`: a new guess"));
    assert_ne!(
        codegen::assumptions::replace_section(&readme, &section).unwrap(),
        readme
    );
}

/// progenitor's `api-version` header is taken out by the generator
/// (`codegen::tidy`): no provider wants it, and the map it was built in
/// cost every call two allocations.
#[test]
fn no_operation_sends_api_version() {
    for provider in &providers() {
        let code = generate(&format!("specs/{provider}.yaml"), &spec(provider))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!code.contains("\"api-version\""), "{provider}");
        // Header parameters still reach their map.
        assert_eq!(
            code.matches("header_map.append(").count(),
            code.matches("header_map").count() - 2 * code.matches("let mut header_map").count(),
            "{provider}: every header map is built and used"
        );
    }
}

/// Every operation makes one runtime call (`codegen::tidy`), not
/// progenitor's three hook futures, hands it a closure that builds the
/// request (called again only for a retry or after a 401), and decodes
/// with the runtime's `response::json` (header map moved, not copied).
#[test]
fn every_operation_is_one_runtime_call() {
    for provider in &providers() {
        let code = generate(&format!("specs/{provider}.yaml"), &spec(provider))
            .unwrap_or_else(|e| panic!("{e}"));
        let sends = code.matches("pub async fn send(").count();
        assert!(sends > 0, "{provider}");
        assert_eq!(
            code.matches("client.auth_call(&build, ").count(),
            sends,
            "{provider}: every operation"
        );
        assert_eq!(
            code.matches("let build = || -> ::std::result::Result<")
                .count(),
            sends,
            "{provider}: every operation"
        );
        assert!(!code.contains("client.pre("), "{provider}");
        assert!(
            !code.contains("ResponseValue::from_response("),
            "{provider}"
        );
    }
}

/// Every operation's docs say which credentials it needs and which
/// failures the spec documents, and show a call that compiles (a `no_run`
/// doctest), where progenitor wrote an `ignore` block.
#[test]
fn every_operation_documents_its_credentials_errors_and_a_compiling_example() {
    for provider in &providers() {
        let code = generate(&format!("specs/{provider}.yaml"), &spec(provider))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!code.contains("```ignore"), "{provider}");
        let sends = code.matches("pub async fn send(").count();
        let methods: Vec<&str> = code.split("(&self) -> builder::").collect();
        assert_eq!(
            methods.len() - 1,
            sends,
            "{provider}: one method per operation"
        );
        for before in &methods[..methods.len() - 1] {
            // The doc comment just before the method.
            let doc = &before[before.rfind("/**").unwrap_or(0)..];
            let name = before.rsplit("pub fn ").next().unwrap_or_default();
            for section in ["# Credentials", "# Errors", "# Example", "```no_run"] {
                assert!(doc.contains(section), "{provider} `{name}`: no {section}");
            }
            assert!(
                doc.contains(&format!(
                    "async fn {name}(\n    client: &{provider}::Client,"
                )),
                "{provider} `{name}`: the example calls it"
            );
        }
    }
}

/// The kinds the generated docs give each documented status are the ones
/// the runtime gives it.
#[test]
fn documented_error_kinds_are_the_runtimes() {
    for status in 100..=599u16 {
        let runtime = payauth_runtime::Error::from_operation_status("p", status, 1).kind();
        assert_eq!(
            codegen::operation_status_kind(status),
            format!("{runtime:?}"),
            "HTTP {status}"
        );
    }
}

#[test]
fn generation_is_deterministic() {
    for provider in &providers() {
        let file = format!("specs/{provider}.yaml");
        let a = generate(&file, &spec(provider)).unwrap();
        let b = generate(&file, &spec(provider)).unwrap();
        assert!(a == b, "{provider}: two runs differ");
        assert!(a.starts_with(&format!("// @generated by `{REGEN_COMMAND}` from {file}")));
    }
}

#[test]
fn a_stale_file_is_named_with_the_command_to_fix_it() {
    let dir = std::env::temp_dir().join(format!("codegen-stale-{}", std::process::id()));
    let root = dir.as_path();
    std::fs::create_dir_all(root.join("specs")).unwrap();
    std::fs::create_dir_all(root.join("sdks/pledg/src")).unwrap();
    // A provider is a spec and its crate.
    std::fs::write(root.join("sdks/pledg/Cargo.toml"), "").unwrap();
    // Rename one field in one spec: the committed output is now stale.
    let renamed = spec("pledg").replace("access_token", "accessToken");
    assert_ne!(renamed, spec("pledg"));
    std::fs::write(root.join("specs/pledg.yaml"), renamed).unwrap();
    std::fs::copy(
        workspace_root().join("sdks/pledg/src/generated.rs"),
        root.join("sdks/pledg/src/generated.rs"),
    )
    .unwrap();
    let report = regen(root, &["pledg".to_string()], Mode::Check).unwrap();
    let text = report.to_string();
    assert_eq!(report.stale.len(), 1);
    assert!(text.contains("sdks/pledg/src/generated.rs"), "{text}");
    assert!(text.contains(REGEN_COMMAND), "{text}");
    assert!(
        text.contains("accessToken"),
        "the diff shows the change: {text}"
    );
    // Check mode wrote nothing; write mode fixes it.
    let before = std::fs::read_to_string(root.join("sdks/pledg/src/generated.rs")).unwrap();
    assert!(!before.contains("accessToken"));
    regen(root, &["pledg".to_string()], Mode::Write).unwrap();
    assert!(
        regen(root, &["pledg".to_string()], Mode::Check)
            .unwrap()
            .stale
            .is_empty()
    );
    std::fs::remove_dir_all(root).ok();
}

#[test]
fn a_generator_panic_names_the_spec_and_operation() {
    // Two different error schemas on one operation make progenitor panic
    // (lint rejects it first; here the generator is called past lint).
    let yaml = r##"
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /fine:
    get:
      operationId: fine
      security: []
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}
  /broken:
    get:
      operationId: broken_op
      security: []
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}
        '400': {description: bad, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}
        '500': {description: err, content: {application/json: {schema: {$ref: '#/components/schemas/B'}}}}
components:
  schemas:
    A: {type: object, properties: {x: {type: string}}}
    B: {type: object, properties: {y: {type: integer}}}
"##;
    let spec: openapiv3::OpenAPI = serde_yaml::from_str(yaml).unwrap();
    let err = codegen::generate_from("specs/broken.yaml", &spec).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("specs/broken.yaml"), "{text}");
    assert!(text.contains("`broken_op`"), "{text}");
    let unknown = regen(&workspace_root(), &["nope".to_string()], Mode::Check).unwrap_err();
    assert!(unknown.to_string().contains("unknown provider `nope`"));
}

#[test]
fn lint_failures_stop_generation_with_file_pointer_and_rule() {
    let yaml = spec("axept").replace("openapi: 3.0.3", "openapi: 3.1.0");
    let err = generate("specs/axept.yaml", &yaml).unwrap_err().to_string();
    assert!(err.contains("specs/axept.yaml"), "{err}");
    assert!(err.contains("openapi-version"), "{err}");
}

/// `api/<crate>.txt` is the public API as the sources declare it now
/// (`cargo xtask public-api`): a change to the API shows in review.
#[test]
fn the_public_api_listings_are_fresh() {
    let root = workspace_root();
    for member in codegen::publishable(&root).unwrap() {
        let krate = member.name.as_str();
        let wanted = codegen::public_api::listing(&root, krate, &member.lib, &member.dir).unwrap();
        let committed = std::fs::read_to_string(codegen::public_api::listing_path(&root, krate))
            .unwrap_or_default();
        assert!(
            committed == wanted,
            "api/{krate}.txt is stale: run `cargo xtask public-api` and commit it"
        );
    }
    let runtime = std::fs::read_to_string(root.join("api/payauth-runtime.txt")).unwrap();
    for item in [
        "pub struct OperationError<E>",
        "impl<E> OperationError<E> { pub fn kind(&self) -> ErrorKind }",
        "impl<P: Provider> Builder<P> { pub fn build(self) -> Result<P::Client, Error> }",
    ] {
        assert!(runtime.contains(item), "{item} not listed");
    }
    let pledg = std::fs::read_to_string(root.join("api/payauth-pledg.txt")).unwrap();
    assert!(pledg.contains("pub trait DashboardExt"));
}

/// No provider can be left out of a check: the providers are the specs,
/// each has its crate (a workspace member by the `sdks/*` glob) and no
/// crate with generated code lacks a spec; every provider crate is
/// publishable, so the public-API listing and the package check (which
/// take the publishable crates from the workspace) cover it; and every
/// publishable crate has its committed listing. (The conformance plan's
/// list is checked against the same providers in xtask's tests.)
#[test]
fn no_provider_is_left_out_of_a_check() {
    let root = workspace_root();
    let providers = providers();
    let mut specs: Vec<String> = std::fs::read_dir(root.join("specs"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".yaml")
                .map(str::to_string)
        })
        .collect();
    specs.sort();
    assert_eq!(providers, specs);
    let members = codegen::members(&root).unwrap();
    // Each provider's library is named after its spec (the generated
    // docs' examples name it so: `use exirom::…`).
    let with_generated_code: Vec<String> = members
        .iter()
        .filter(|m| root.join(&m.dir).join("src/generated.rs").is_file())
        .map(|m| m.lib.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        with_generated_code, providers,
        "a crate per spec, a spec per crate, the library named after the spec"
    );
    let published = codegen::publishable(&root).unwrap();
    let publishable: Vec<String> = published.iter().map(|m| m.name.clone()).collect();
    for p in &providers {
        assert!(
            published.iter().any(|m| &m.lib == p),
            "{p} is not publishable: no API listing, no package check"
        );
    }
    // One family on the registry: every published package's name says so.
    for krate in &publishable {
        assert!(
            krate.starts_with("payauth-"),
            "{krate}: not a payauth- name"
        );
    }
    for krate in &publishable {
        assert!(
            codegen::public_api::listing_path(&root, krate).is_file(),
            "api/{krate}.txt is missing: run `cargo xtask public-api`"
        );
    }
    // The runtime and the sandbox are published with the providers.
    for krate in ["payauth-runtime", "payauth-sandbox"] {
        assert!(publishable.iter().any(|p| p == krate), "{krate}");
    }
}

/// A spec without its crate, or a crate with generated code and no spec,
/// stops every command that lists the providers.
#[test]
fn a_spec_without_its_crate_or_a_crate_without_its_spec_is_refused() {
    let dir = std::env::temp_dir().join(format!("codegen-providers-{}", std::process::id()));
    let root = dir.as_path();
    std::fs::create_dir_all(root.join("specs")).unwrap();
    std::fs::create_dir_all(root.join("sdks/alpha/src")).unwrap();
    std::fs::write(root.join("specs/alpha.yaml"), "").unwrap();
    std::fs::write(root.join("sdks/alpha/Cargo.toml"), "").unwrap();
    assert_eq!(codegen::providers(root).unwrap(), ["alpha"]);
    std::fs::write(root.join("specs/beta.yaml"), "").unwrap();
    let no_crate = codegen::providers(root).unwrap_err().to_string();
    assert!(
        no_crate.contains("specs/beta.yaml has no crate sdks/beta/"),
        "{no_crate}"
    );
    std::fs::remove_file(root.join("specs/beta.yaml")).unwrap();
    std::fs::create_dir_all(root.join("sdks/gamma/src")).unwrap();
    std::fs::write(root.join("sdks/gamma/src/generated.rs"), "").unwrap();
    let no_spec = codegen::providers(root).unwrap_err().to_string();
    assert!(
        no_spec.contains("sdks/gamma/src/generated.rs has no spec specs/gamma.yaml"),
        "{no_spec}"
    );
    std::fs::remove_dir_all(root).ok();
}
