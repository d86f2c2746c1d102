//! The security table of a generated client: what each operation needs to
//! be authorized, read from the spec's `security` requirements and
//! `securitySchemes` (progenitor ignores both), with one requirement per
//! scheme for hand-made requests.

use std::collections::BTreeMap;

use openapiv3::{OpenAPI, ReferenceOr, SecurityScheme};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

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
            payauth_runtime::__private::SchemeKind::SignedQueryJwt {
                param: #param,
                claim: #claim,
                lifetime_secs: #lifetime_secs,
            }
        ),
        // Anything else is a scheme the runtime cannot apply.
        _ => quote!(payauth_runtime::__private::SchemeKind::Unsupported),
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

/// The generated `pub mod security { … }`.
pub(super) fn security_module(spec: &OpenAPI) -> TokenStream {
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
                    quote!(payauth_runtime::__private::SchemeKind::Bearer)
                }
                SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("basic") => {
                    quote!(payauth_runtime::__private::SchemeKind::Basic)
                }
                SecurityScheme::APIKey {
                    location: openapiv3::APIKeyLocation::Header,
                    name: header,
                    ..
                } => quote!(payauth_runtime::__private::SchemeKind::ApiKeyHeader(#header)),
                SecurityScheme::APIKey {
                    location: openapiv3::APIKeyLocation::Query,
                    name: param,
                    extensions,
                    ..
                } if extensions.contains_key(SIGNED_JWT_EXTENSION) => {
                    signed_jwt_kind(param, &extensions[SIGNED_JWT_EXTENSION])
                }
                _ => quote!(payauth_runtime::__private::SchemeKind::Unsupported),
            };
            Some((
                name.clone(),
                quote!(payauth_runtime::__private::Scheme { name: #name, kind: #kind }),
            ))
        })
        .collect();

    let mut operations = Vec::new();
    for (path, _, op) in spec.operations() {
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
                                    quote!(payauth_runtime::__private::Scheme { name: #name, kind: payauth_runtime::__private::SchemeKind::Unsupported })
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
                Some(quote!(Some(payauth_runtime::__private::BodyChecksum { field: #field, parts: &[#(#parts),*] })))
            })
            .unwrap_or_else(|| quote!(None));
        operations.push((
            id.to_string(),
            quote! {
                payauth_runtime::__private::OperationSecurity {
                    operation_id: #id,
                    alternatives: &[#(#alternatives),*],
                    idempotency_key: #idempotency_key,
                    body_checksum: #body_checksum,
                    url_template: Some(#path),
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
            (#name, payauth_runtime::__private::OperationSecurity {
                operation_id: #label,
                alternatives: &[&[#scheme]],
                idempotency_key: None,
                body_checksum: None,
                url_template: None,
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
            pub const #ident: payauth_runtime::__private::OperationSecurity = payauth_runtime::__private::OperationSecurity {
                operation_id: #label,
                alternatives: &[&[#scheme]],
                idempotency_key: None,
                body_checksum: None,
                url_template: None,
            };
        }
    });

    quote! {
        /// What each operation needs to be authorized, read from the spec's
        /// `security` requirements (progenitor itself ignores them).
        pub mod security {
            /// One entry per operation, sorted by operation id.
            pub static OPERATIONS: &[payauth_runtime::__private::OperationSecurity] = &[#(#operations),*];

            /// The requirement of one operation; unknown ids get none.
            pub fn for_operation(operation_id: &str) -> &'static payauth_runtime::__private::OperationSecurity {
                OPERATIONS
                    .iter()
                    .find(|op| op.operation_id == operation_id)
                    .unwrap_or(&payauth_runtime::__private::OperationSecurity::UNKNOWN)
            }

            /// One requirement per security scheme of the spec, by scheme name.
            pub static SCHEMES: &[(&str, payauth_runtime::__private::OperationSecurity)] = &[#(#by_scheme),*];

            /// The requirement "this scheme alone", for a hand-made request,
            /// by the scheme's name in the spec; [`schemes`] has one
            /// constant per scheme
            /// (`client.send_with(request, &security::schemes::…)`).
            pub fn scheme(name: &str) -> Option<&'static payauth_runtime::__private::OperationSecurity> {
                SCHEMES.iter().find(|(n, _)| *n == name).map(|(_, s)| s)
            }

            /// One requirement per security scheme of the spec, named after
            /// it.
            pub mod schemes {
                #(#scheme_constants)*
            }
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
