//! What progenitor does not generate, emitted beside its output: the
//! security table (`security_table`), the documented servers, the hooks
//! that route every request through the token runtime, the schema listing
//! the drift test compares with the spec, and `debug_of` (`debug_of`), the
//! secrets canary's view of every generated type.

mod debug_of;
mod security_table;

use openapiv3::OpenAPI;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub(crate) use debug_of::debug_of;
pub use security_table::{
    BODY_CHECKSUM_EXTENSION, IDEMPOTENCY_KEY_EXTENSION, SIGNED_JWT_EXTENSION,
};

/// What progenitor does not generate: the security table (progenitor
/// ignores `securitySchemes`), the hooks that route every request through
/// the token runtime, the documented servers, and a schema listing that the
/// drift test compares with the spec.
pub(crate) fn extras(spec: &OpenAPI) -> TokenStream {
    let security = security_table::security_module(spec);

    let servers = spec.servers.iter().map(|s| {
        let url = &s.url;
        let description = s.description.clone().unwrap_or_default();
        quote!(payauth_runtime::__private::Server { url: #url, description: #description })
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
        #security


        /// The servers the spec documents, in its order.
        pub static SERVERS: &[payauth_runtime::__private::Server] = &[#(#servers),*];

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
            ) -> impl std::future::Future<Output = std::result::Result<reqwest::Response, payauth_runtime::OperationError<E>>> + Send + 'a
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
            pub fn auth_operation(&self, operation_id: &'static str) -> payauth_runtime::__private::Operation {
                payauth_runtime::__private::Operation::new(self.inner.provider(), operation_id)
            }
        }

        // progenitor's operations are generic over these hooks; none calls
        // them any more (`auth_call` does their work in one future). `pre`
        // still authorizes, so code that calls it never sends a request
        // without its credentials; `exec` is progenitor's default (one
        // plain send).
        impl ClientHooks<payauth_runtime::Session> for Client {
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
