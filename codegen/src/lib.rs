//! Spec → Rust: load an OpenAPI spec, lint it, generate a typed client with
//! progenitor, add what progenitor leaves out (the per-operation security
//! table, the hooks that hand every request to the token runtime, the
//! server list), and format it deterministically.
//!
//! `xtask` is the command line over this crate; the tests call it directly.
//!
//! ```no_run
//! let root = codegen::workspace_root();
//! let report = codegen::regen(&root, &[], codegen::Mode::Check).unwrap();
//! assert!(report.stale.is_empty(), "{}", report);
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use openapiv3::{OpenAPI, ReferenceOr, SecurityScheme};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub mod assumptions;
pub mod lint;
pub mod public_api;
pub mod secrets;
pub mod tidy;

/// The providers, in the order every listing uses. Each has
/// `specs/<name>.yaml` and `sdks/<name>/src/generated.rs`.
pub const PROVIDERS: &[&str] = &["exirom", "institution", "pledg", "bursagb", "axept"];

/// The command that rewrites generated files; every message about stale
/// output names it.
pub const REGEN_COMMAND: &str = "cargo xtask regen";

/// Everything that can go wrong between a spec and its generated client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown provider `{0}` (known: {known})", known = PROVIDERS.join(", "))]
    UnknownProvider(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file} fails lint:\n{}", .errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Lint {
        file: String,
        errors: Vec<lint::LintError>,
    },
    #[error("{file}: not an OpenAPI 3.0 document: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: progenitor failed{}: {message}", operation.as_ref().map(|o| format!(" on operation `{o}`")).unwrap_or_default())]
    Generator {
        file: String,
        operation: Option<String>,
        message: String,
    },
    #[error("{file}: generated code does not parse as Rust: {message}")]
    Unparsable { file: String, message: String },
}

/// Whether [`regen`] rewrites stale files or only reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    Check,
}

/// What [`regen`] found and did.
#[derive(Debug, Default)]
pub struct Report {
    /// Files whose content already matched the generator's output.
    pub fresh: Vec<PathBuf>,
    /// Files that differed (rewritten in [`Mode::Write`], untouched in [`Mode::Check`]).
    pub stale: Vec<Stale>,
    pub mode: Option<Mode>,
}

/// One generated file that is not what its spec produces.
#[derive(Debug)]
pub struct Stale {
    pub path: PathBuf,
    /// A short unified diff, on-disk → expected.
    pub diff: String,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stale.is_empty() {
            return write!(f, "{} generated file(s) up to date", self.fresh.len());
        }
        match self.mode {
            Some(Mode::Write) => {
                for s in &self.stale {
                    writeln!(f, "updated {}", s.path.display())?;
                }
                Ok(())
            }
            _ => {
                writeln!(
                    f,
                    "{} generated file(s) are stale; run `{REGEN_COMMAND}` and commit the result:",
                    self.stale.len()
                )?;
                for s in &self.stale {
                    writeln!(f, "  stale: {}", s.path.display())?;
                }
                for s in &self.stale {
                    writeln!(
                        f,
                        "\n--- {} (first differences)\n{}",
                        s.path.display(),
                        s.diff
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `specs/<provider>.yaml` under `root`.
pub fn spec_path(root: &Path, provider: &str) -> PathBuf {
    root.join("specs").join(format!("{provider}.yaml"))
}

/// `sdks/<provider>/src/generated.rs` under `root`.
pub fn output_path(root: &Path, provider: &str) -> PathBuf {
    root.join("sdks")
        .join(provider)
        .join("src")
        .join("generated.rs")
}

/// Regenerate (or check) the given providers; an empty list means all.
pub fn regen(root: &Path, providers: &[String], mode: Mode) -> Result<Report, Error> {
    let selected: Vec<&str> = if providers.is_empty() {
        PROVIDERS.to_vec()
    } else {
        providers
            .iter()
            .map(|p| {
                PROVIDERS
                    .iter()
                    .copied()
                    .find(|k| k == p)
                    .ok_or_else(|| Error::UnknownProvider(p.clone()))
            })
            .collect::<Result<_, _>>()?
    };
    let mut report = Report {
        mode: Some(mode),
        ..Report::default()
    };
    for provider in selected {
        let spec = spec_path(root, provider);
        let yaml = read(&spec)?;
        let code = generate(&relative(root, &spec), &yaml)?;
        let out = output_path(root, provider);
        let current = std::fs::read_to_string(&out).unwrap_or_default();
        if current == code {
            report.fresh.push(out);
            continue;
        }
        let diff = short_diff(&current, &code, &out);
        if mode == Mode::Write {
            std::fs::write(&out, &code).map_err(|source| Error::Io {
                path: out.display().to_string(),
                source,
            })?;
        }
        report.stale.push(Stale { path: out, diff });
    }
    if providers.is_empty() {
        readme_assumptions(root, mode, &mut report)?;
    }
    Ok(report)
}

/// The README's list of the specs' assumptions (`assumptions::BEGIN` …
/// `END`), rewritten or checked like a generated file.
fn readme_assumptions(root: &Path, mode: Mode, report: &mut Report) -> Result<(), Error> {
    let mut specs = Vec::new();
    for provider in PROVIDERS {
        let path = spec_path(root, provider);
        let doc: serde_json::Value =
            serde_yaml::from_str(&read(&path)?).map_err(|e| Error::Parse {
                file: relative(root, &path),
                message: e.to_string(),
            })?;
        specs.push((*provider, doc));
    }
    let section = assumptions::readme_section(&specs);
    let out = root.join("README.md");
    let current = read(&out)?;
    let Some(wanted) = assumptions::replace_section(&current, &section) else {
        return Err(Error::Parse {
            file: "README.md".to_string(),
            message: format!(
                "the markers of the assumptions section are missing: `{}` … `{}`",
                assumptions::BEGIN,
                assumptions::END
            ),
        });
    };
    if wanted == current {
        report.fresh.push(out);
        return Ok(());
    }
    let diff = short_diff(&current, &wanted, &out);
    if mode == Mode::Write {
        std::fs::write(&out, &wanted).map_err(|source| Error::Io {
            path: out.display().to_string(),
            source,
        })?;
    }
    report.stale.push(Stale { path: out, diff });
    Ok(())
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn short_diff(old: &str, new: &str, path: &Path) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header(
            &format!("{} (on disk)", path.display()),
            "generated from the spec",
        )
        .to_string();
    const MAX_LINES: usize = 40;
    let mut lines: Vec<&str> = text.lines().take(MAX_LINES + 1).collect();
    if lines.len() > MAX_LINES {
        lines.truncate(MAX_LINES);
        lines.push("  … (diff truncated)");
    }
    lines.join("\n")
}

/// Lint, parse and generate the full `generated.rs` text for one spec.
///
/// `file` is the name used in messages (e.g. `specs/pledg.yaml`).
pub fn generate(file: &str, yaml: &str) -> Result<String, Error> {
    let errors = lint::lint_str(file, yaml);
    if !errors.is_empty() {
        return Err(Error::Lint {
            file: file.to_string(),
            errors,
        });
    }
    let spec: OpenAPI = serde_yaml::from_str(yaml).map_err(|e| Error::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    generate_from(file, &spec)
}

/// Generate from an already parsed spec, without lint. [`generate`] is
/// what callers want; this is the step after lint, open for tests of the
/// generator's failure reporting.
pub fn generate_from(file: &str, spec: &OpenAPI) -> Result<String, Error> {
    let spec = spec.clone();
    let client = progenitor_tokens(file, &spec)?;
    let extras = extras(&spec);
    let tokens = quote! { #client #extras };
    let mut syntax: syn::File = syn::parse2(tokens).map_err(|e| Error::Unparsable {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let missing = tidy::tidy_with(&mut syntax, &secrets::of(&spec));
    if !missing.is_empty() {
        return Err(Error::Generator {
            file: file.to_string(),
            operation: None,
            message: format!(
                "no generated type found for the schemas marked `x-secret`: {}",
                missing.into_iter().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    syntax.items.push(debug_of(&syntax, &spec));
    let body = prettyplease::unparse(&syntax);
    Ok(format!(
        "// @generated by `{REGEN_COMMAND}` from {file}. Do not edit by hand:\n\
         // change the spec and run `{REGEN_COMMAND}`.\n\n{body}"
    ))
}

fn settings() -> progenitor::GenerationSettings {
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_hooks(progenitor::HooksMode::Expected)
        .with_inner_type(quote!(auth_runtime::Session))
        .with_derive("schemars::JsonSchema");
    settings
}

/// Run progenitor, turning a panic into an error that names the spec and,
/// when it can be found, the operation that triggers it.
fn progenitor_tokens(file: &str, spec: &OpenAPI) -> Result<TokenStream, Error> {
    match run_progenitor(spec) {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(message)) => Err(Error::Generator {
            file: file.to_string(),
            operation: culprit(spec),
            message,
        }),
        Err(message) => Err(Error::Generator {
            file: file.to_string(),
            operation: culprit(spec),
            message: format!("generator panicked: {message}"),
        }),
    }
}

/// `Err` is a panic message, `Ok(Err)` a generator error.
fn run_progenitor(spec: &OpenAPI) -> Result<Result<TokenStream, String>, String> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut generator = progenitor::Generator::new(&settings());
        generator.generate_tokens(spec).map_err(|e| e.to_string())
    }));
    std::panic::set_hook(previous);
    result.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".to_string())
    })
}

/// Find the first operation that fails on its own (the rest of the spec
/// stripped), so a generator failure names it.
fn culprit(spec: &OpenAPI) -> Option<String> {
    for (path, item) in spec.paths.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, op) in item.iter() {
            let mut single = spec.clone();
            let mut only = item.clone();
            for (m, _) in item.iter() {
                if m != method {
                    clear_method(&mut only, m);
                }
            }
            single.paths.paths.clear();
            single
                .paths
                .paths
                .insert(path.clone(), ReferenceOr::Item(only));
            if !matches!(run_progenitor(&single), Ok(Ok(_))) {
                return Some(
                    op.operation_id
                        .clone()
                        .unwrap_or_else(|| format!("{} {path}", method.to_uppercase())),
                );
            }
        }
    }
    None
}

fn clear_method(item: &mut openapiv3::PathItem, method: &str) {
    let slot = match method {
        "get" => &mut item.get,
        "put" => &mut item.put,
        "post" => &mut item.post,
        "delete" => &mut item.delete,
        "options" => &mut item.options,
        "head" => &mut item.head,
        "patch" => &mut item.patch,
        "trace" => &mut item.trace,
        _ => return,
    };
    *slot = None;
}

/// Operation extension naming the top-level body field that is the
/// provider's idempotency key (`x-idempotency-key: requestId`).
pub const IDEMPOTENCY_KEY_EXTENSION: &str = "x-idempotency-key";

/// Operation extension: a checksum field the runtime computes into the JSON
/// body at send time, `x-body-checksum: {field: checksum, parts: [accountId,
/// amount, currency, requestId]}` (HMAC-SHA256 with the signing secret).
pub const BODY_CHECKSUM_EXTENSION: &str = "x-body-checksum";

/// Security-scheme extension of a query `apiKey` scheme whose value is an
/// HS256 JWT over the body, computed at send time:
/// `x-signed-jwt: {algorithm: HS256, claim: data, lifetime_secs: 86400}`.
pub const SIGNED_JWT_EXTENSION: &str = "x-signed-jwt";

fn signed_jwt_kind(param: &str, ext: &serde_json::Value) -> TokenStream {
    let algorithm = ext.get("algorithm").and_then(|v| v.as_str());
    let claim = ext.get("claim").and_then(|v| v.as_str());
    let lifetime = ext.get("lifetime_secs").and_then(|v| v.as_u64());
    match (algorithm, claim, lifetime) {
        (Some("HS256"), Some(claim), Some(lifetime_secs)) => quote!(
            auth_runtime::__private::SchemeKind::SignedQueryJwt {
                param: #param,
                claim: #claim,
                lifetime_secs: #lifetime_secs,
            }
        ),
        // Anything else is a scheme the runtime cannot apply.
        _ => quote!(auth_runtime::__private::SchemeKind::Unsupported),
    }
}

/// `debug_of(schema, json)`: the `Debug` of the generated type of a
/// component schema (and of its builder, when it has one), decoded from
/// `json` — what the canary test prints for every generated type.
fn debug_of(syntax: &syn::File, spec: &OpenAPI) -> syn::Item {
    let builders: std::collections::BTreeSet<String> = syntax
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref(),
            _ => None,
        })
        .and_then(|(_, items)| {
            items.iter().find_map(|item| match item {
                syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
                _ => None,
            })
        })
        .map(|(_, items)| {
            items
                .iter()
                .filter_map(|item| match item {
                    syn::Item::Struct(s) => Some(s.ident.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let arms = spec
        .components
        .iter()
        .flat_map(|c| c.schemas.keys())
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|name| {
            let ident = format_ident!("{}", name);
            let builder = if builders.contains(name) {
                quote!(format!("{:?}", types::builder::#ident::from(v)))
            } else {
                quote!(String::new())
            };
            quote! {
                #name => Some(serde_json::from_value::<types::#ident>(value).map(|v| {
                    let shown = format!("{v:?}");
                    (shown, #builder)
                }))
            }
        });
    syn::parse_quote! {
        /// The `Debug` of a component schema's generated type decoded from
        /// `value`, and of its builder (empty when it has none), for the
        /// test that no secret is ever shown.
        #[doc(hidden)]
        pub fn debug_of(
            schema: &str,
            value: serde_json::Value,
        ) -> Option<Result<(String, String), serde_json::Error>> {
            match schema {
                #(#arms,)*
                _ => None,
            }
        }
    }
}

/// `dashboardBasic` → `DASHBOARD_BASIC`, `api-key` → `API_KEY`.
fn shouty(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        format!("SCHEME_{out}")
    } else {
        out
    }
}

/// What progenitor does not generate: the security table (progenitor
/// ignores `securitySchemes`), the hooks that route every request through
/// the token runtime, the documented servers, and a schema listing that the
/// drift test compares with the spec.
fn extras(spec: &OpenAPI) -> TokenStream {
    let schemes: BTreeMap<String, TokenStream> = spec
        .components
        .iter()
        .flat_map(|c| c.security_schemes.iter())
        .filter_map(|(name, scheme)| {
            let ReferenceOr::Item(scheme) = scheme else {
                return None;
            };
            let kind = match scheme {
                SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("bearer") => {
                    quote!(auth_runtime::__private::SchemeKind::Bearer)
                }
                SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("basic") => {
                    quote!(auth_runtime::__private::SchemeKind::Basic)
                }
                SecurityScheme::APIKey {
                    location: openapiv3::APIKeyLocation::Header,
                    name: header,
                    ..
                } => quote!(auth_runtime::__private::SchemeKind::ApiKeyHeader(#header)),
                SecurityScheme::APIKey {
                    location: openapiv3::APIKeyLocation::Query,
                    name: param,
                    extensions,
                    ..
                } if extensions.contains_key(SIGNED_JWT_EXTENSION) => {
                    signed_jwt_kind(param, &extensions[SIGNED_JWT_EXTENSION])
                }
                _ => quote!(auth_runtime::__private::SchemeKind::Unsupported),
            };
            Some((
                name.clone(),
                quote!(auth_runtime::__private::Scheme { name: #name, kind: #kind }),
            ))
        })
        .collect();

    let mut operations = Vec::new();
    for (_, _, op) in spec.operations() {
        let Some(id) = op.operation_id.as_deref() else {
            continue;
        };
        let alternatives = op
            .security
            .as_ref()
            .or(spec.security.as_ref())
            .map(|reqs| {
                reqs.iter()
                    .map(|req| {
                        let all = req
                            .keys()
                            .map(|name| {
                                schemes.get(name).cloned().unwrap_or_else(|| {
                                    quote!(auth_runtime::__private::Scheme { name: #name, kind: auth_runtime::__private::SchemeKind::Unsupported })
                                })
                            })
                            .collect::<Vec<_>>();
                        quote!(&[#(#all),*])
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let idempotency_key = match op
            .extensions
            .get(IDEMPOTENCY_KEY_EXTENSION)
            .and_then(|v| v.as_str())
        {
            Some(field) => quote!(Some(#field)),
            None => quote!(None),
        };
        let body_checksum = op
            .extensions
            .get(BODY_CHECKSUM_EXTENSION)
            .and_then(|ext| {
                let field = ext.get("field")?.as_str()?;
                let parts = ext
                    .get("parts")?
                    .as_array()?
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Option<Vec<_>>>()?;
                Some(quote!(Some(auth_runtime::__private::BodyChecksum { field: #field, parts: &[#(#parts),*] })))
            })
            .unwrap_or_else(|| quote!(None));
        operations.push((
            id.to_string(),
            quote! {
                auth_runtime::__private::OperationSecurity {
                    operation_id: #id,
                    alternatives: &[#(#alternatives),*],
                    idempotency_key: #idempotency_key,
                    body_checksum: #body_checksum,
                }
            },
        ));
    }
    operations.sort_by(|a, b| a.0.cmp(&b.0));
    let operations = operations.into_iter().map(|(_, t)| t);

    // One requirement per scheme, for hand-made requests that must choose
    // a scheme no operation of the spec names (pledg's dashboard Basic).
    let by_scheme = schemes.iter().map(|(name, scheme)| {
        let label = format!("(hand-made request: {name})");
        quote! {
            (#name, auth_runtime::__private::OperationSecurity {
                operation_id: #label,
                alternatives: &[&[#scheme]],
                idempotency_key: None,
                body_checksum: None,
            })
        }
    });

    // The same, one constant per scheme, for code that names a scheme
    // without a string (`security::schemes::DASHBOARD_BASIC`).
    let scheme_constants = schemes.iter().map(|(name, scheme)| {
        let label = format!("(hand-made request: {name})");
        let ident = format_ident!("{}", shouty(name));
        let doc = format!("The requirement \"`{name}` alone\", for a hand-made request.");
        quote! {
            #[doc = #doc]
            pub const #ident: auth_runtime::__private::OperationSecurity = auth_runtime::__private::OperationSecurity {
                operation_id: #label,
                alternatives: &[&[#scheme]],
                idempotency_key: None,
                body_checksum: None,
            };
        }
    });

    let servers = spec.servers.iter().map(|s| {
        let url = &s.url;
        let description = s.description.clone().unwrap_or_default();
        quote!(auth_runtime::__private::Server { url: #url, description: #description })
    });

    let schemas: Vec<(String, syn::Ident)> = spec
        .components
        .iter()
        .flat_map(|c| c.schemas.keys())
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|name| (name.clone(), format_ident!("{}", name)))
        .collect();
    let schema_entries = schemas
        .iter()
        .map(|(name, ident)| quote!((#name, schemars::schema_for!(types::#ident))));

    quote! {
        /// What each operation needs to be authorized, read from the spec's
        /// `security` requirements (progenitor itself ignores them).
        pub mod security {
            /// One entry per operation, sorted by operation id.
            pub static OPERATIONS: &[auth_runtime::__private::OperationSecurity] = &[#(#operations),*];

            /// The requirement of one operation; unknown ids get none.
            pub fn for_operation(operation_id: &str) -> &'static auth_runtime::__private::OperationSecurity {
                OPERATIONS
                    .iter()
                    .find(|op| op.operation_id == operation_id)
                    .unwrap_or(&auth_runtime::__private::OperationSecurity::UNKNOWN)
            }

            /// One requirement per security scheme of the spec, by scheme name.
            pub static SCHEMES: &[(&str, auth_runtime::__private::OperationSecurity)] = &[#(#by_scheme),*];

            /// The requirement "this scheme alone", for a hand-made request,
            /// by the scheme's name in the spec; [`schemes`] has one
            /// constant per scheme
            /// (`client.send_with(request, &security::schemes::…)`).
            pub fn scheme(name: &str) -> Option<&'static auth_runtime::__private::OperationSecurity> {
                SCHEMES.iter().find(|(n, _)| *n == name).map(|(_, s)| s)
            }

            /// One requirement per security scheme of the spec, named after
            /// it.
            pub mod schemes {
                #(#scheme_constants)*
            }
        }

        /// The servers the spec documents, in its order.
        pub static SERVERS: &[auth_runtime::__private::Server] = &[#(#servers),*];

        impl Client {
            /// One operation's call: what the `pre`, `exec` and `post`
            /// hooks do, in one future (`codegen::tidy` puts it in their
            /// place in every operation). `build` makes the request: once,
            /// and again only for a retry or after a 401.
            #[doc(hidden)]
            pub fn auth_call<'a, E, B>(
                &'a self,
                build: &'a B,
                operation_id: &'static str,
            ) -> impl std::future::Future<Output = std::result::Result<reqwest::Response, auth_runtime::OperationError<E>>> + Send + 'a
            where
                B: Fn() -> std::result::Result<reqwest::Request, Error<E>> + Send + Sync,
                E: Send + 'a,
            {
                self.inner
                    .call_built(&self.client, build, security::for_operation(operation_id))
            }

            /// What an operation's failures are classified with: this
            /// provider, this operation.
            #[doc(hidden)]
            pub fn auth_operation(&self, operation_id: &'static str) -> auth_runtime::__private::Operation {
                auth_runtime::__private::Operation::new(self.inner.provider(), operation_id)
            }
        }

        // progenitor's operations are generic over these hooks; none calls
        // them any more (`auth_call` does their work in one future). `pre`
        // still authorizes, so code that calls it never sends a request
        // without its credentials; `exec` is progenitor's default (one
        // plain send).
        impl ClientHooks<auth_runtime::Session> for Client {
            async fn pre<E>(
                &self,
                request: &mut reqwest::Request,
                info: &OperationInfo,
            ) -> std::result::Result<(), Error<E>> {
                self.inner
                    .authorize(request, security::for_operation(info.operation_id))
                    .await
                    .map_err(|e| Error::Custom(e.to_string()))
            }
        }

        /// Every component schema as the generated type describes it, for
        /// the spec-drift test.
        #[doc(hidden)]
        pub fn component_schemas() -> Vec<(&'static str, schemars::schema::RootSchema)> {
            vec![#(#schema_entries),*]
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn scheme_constants_are_named_after_the_scheme() {
        for (name, constant) in [
            ("dashboardBasic", "DASHBOARD_BASIC"),
            ("bearerAuth", "BEARER_AUTH"),
            ("apiKeyAuth", "API_KEY_AUTH"),
            ("api-key", "API_KEY"),
            ("signature", "SIGNATURE"),
            ("oauth2", "OAUTH2"),
            ("2fa", "SCHEME_2FA"),
        ] {
            assert_eq!(super::shouty(name), constant, "{name}");
        }
    }
}
