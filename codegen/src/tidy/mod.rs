//! Passes over progenitor's output before it is written.
//!
//! progenitor (0.15) puts `api-version: <info.version>` on every request
//! (see `../shared/notes/progenitor.md`); no provider wants it, and it cost
//! every call a header map of its own (two allocations), a merge into the
//! request's headers and a removal in the runtime. The pass deletes the
//! `header_map.append(HeaderName::from_static("api-version"), …)`
//! statement; a `header_map` then left empty is not built at all, and its
//! `.headers(header_map)` is dropped from the request chain. Header
//! parameters of an operation keep their map, sized for them alone.
//!
//! Adjacent `match` arms with literal patterns and the same body are
//! merged (`400u16 | 401u16 | 403u16 => …`): progenitor writes one arm per
//! documented status, each its own copy of the same decoding future.
//!
//! progenitor's `pre`, `exec` and `post` hook calls (three futures, an
//! `OperationInfo`, the request moved between them) become one runtime
//! call, and the statements that build the request a closure it is given
//! (`rebuildable`): `client.auth_call(&build, "operation_id")`, the
//! runtime's `Session::call_built`, which does what the hooks did and
//! builds the request once, and again only for a retry or after a 401 —
//! no copy of every request is kept in case.
//!
//! An operation builder's body is kept as the value given to `.body(…)`
//! (`kept_body`), not converted to its builder type and back.
//!
//! `ResponseValue::from_response(response)` becomes
//! `payauth_runtime::__private::response::json(response)`: the same value, status and
//! errors, with the response's header map moved instead of copied.
//!
//! Every `send` then fails with the runtime's `OperationError<E>`
//! (`typed_errors`), and the error arms it makes alike are merged again.
//!
//! The types that hold a secret the spec marks (`x-secret`) get a `Debug`
//! that redacts it (`redact`).
//!
//! Last, every public item gets its docs (`documented`): each operation
//! the credentials it needs and the failures the spec documents, with an
//! example that compiles; the builders, variants and fields what they are.

pub(crate) mod documented;
mod kept_body;
mod merge_arms;
mod no_api_version;
mod one_call;
mod rebuildable;
mod redact;
mod runtime_response;
mod syntax_text;
mod typed_errors;

/// Apply every pass to `file`, redacting what `secrets` marks; returns
/// the marked schemas no generated type was found for.
pub fn tidy_with(
    file: &mut syn::File,
    secrets: &crate::secrets::Secrets,
) -> std::collections::BTreeSet<String> {
    tidy(file);
    redact::redact(file, secrets)
}

/// Apply every pass but the redaction (which needs the spec) to `file`.
pub fn tidy(file: &mut syn::File) {
    no_api_version::no_api_version(file);
    merge_arms::merge_arms(file);
    runtime_response::runtime_response(file);
    one_call::one_call(file);
    rebuildable::build_again(file);
    kept_body::keep_given_bodies(file);
    typed_errors::typed_errors(file);
    merge_arms::merge_arms(file);
}

#[cfg(test)]
mod tests {
    use super::syntax_text::after;
    use super::tidy;

    fn tidied(src: &str) -> String {
        after(src, tidy)
    }

    #[test]
    fn the_three_hooks_become_one_call() {
        let out = tidied(
            r#"async fn send() {
                let mut request = client.client.get(url).build()?;
                let info = OperationInfo {
                    operation_id: "list_things",
                };
                client.pre(&mut request, &info).await?;
                let result = client.exec(request, &info).await;
                client.post(&result, &info).await?;
                let response = result?;
                match response.status().as_u16() {
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }"#,
        );
        assert!(!out.contains("client.pre"), "{out}");
        assert!(!out.contains("OperationInfo"), "{out}");
        assert!(
            out.contains(r#"let response = client.auth_call(request, "list_things").await?;"#),
            "{out}"
        );
        assert!(out.contains("match response.status()"), "{out}");
    }

    #[test]
    fn hooks_in_another_order_are_left_alone() {
        let src = r#"async fn send() {
                let info = OperationInfo {
                    operation_id: "x",
                };
                let result = client.exec(request, &info).await;
                client.pre(&mut request, &info).await?;
                client.post(&result, &info).await?;
                let response = result?;
                response
            }"#;
        let out = tidied(src);
        assert!(out.contains("client.pre"), "{out}");
        assert!(!out.contains("auth_call"), "{out}");
    }

    #[test]
    fn responses_are_decoded_by_the_runtime() {
        let out = tidied(
            r#"async fn send() {
                match response.status().as_u16() {
                    200u16 => ResponseValue::from_response(response).await,
                    _ => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                }
            }"#,
        );
        assert!(!out.contains("from_response"), "{out}");
        assert_eq!(
            out.matches("payauth_runtime::__private::response::json(response)")
                .count(),
            2,
            "{out}"
        );
    }

    #[test]
    fn a_map_holding_only_api_version_goes_with_its_use() {
        let out = tidied(
            r#"async fn send() {
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                );
                let mut request = client.client.post(url).json(&body).headers(header_map).build()?;
            }"#,
        );
        assert!(!out.contains("api-version"), "{out}");
        assert!(!out.contains("header_map"), "{out}");
        assert!(out.contains(".json(&body)"), "{out}");
        assert!(out.contains(".build()?"), "{out}");
    }

    #[test]
    fn header_parameters_keep_their_map() {
        let out = tidied(
            r#"async fn send() {
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                );
                header_map.append("x-idempotency-key", key.to_string().try_into()?);
                let mut request = client.client.post(url).headers(header_map).build()?;
            }"#,
        );
        assert!(!out.contains("api-version"), "{out}");
        assert!(out.contains("with_capacity(1usize)"), "{out}");
        assert!(out.contains(".headers(header_map)"), "{out}");
        assert!(out.contains("x-idempotency-key"), "{out}");
    }

    #[test]
    fn equal_adjacent_status_arms_merge_and_nothing_else_does() {
        let out = tidied(
            r#"async fn send() {
                match response.status().as_u16() {
                    200u16 => ResponseValue::from_response(response).await,
                    400u16 => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                    401u16 => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                    403u16 => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                    404u16 => Ok(ResponseValue::empty(response)),
                    409u16 if x => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }"#,
        );
        assert!(out.contains("400u16 | 401u16 | 403u16 =>"), "{out}");
        assert_eq!(out.matches("=>").count(), 5, "{out}");
        assert!(out.contains("409u16 if x =>"), "{out}");
    }
}
