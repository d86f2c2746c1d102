//! [`SandboxError`]: errors of the Rust and HTTP control API.

use crate::provider::Provider;
use crate::route::Route;

/// Errors of the Rust and HTTP control API (never of the emulated providers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    /// A provider name the sandbox does not emulate (the name given).
    #[error("unknown provider `{0}` (expected one of {list})", list = provider_names())]
    UnknownProvider(String),
    /// A route name no provider has (the name given).
    #[error("unknown route `{0}` (expected one of {list})", list = route_names())]
    UnknownRoute(String),
    /// A route this provider does not offer (a fault injected there would
    /// never fire).
    #[error("provider {provider} has no route {route}")]
    RouteNotOffered {
        /// The provider named.
        provider: Provider,
        /// The route it lacks.
        route: Route,
    },
    /// A variant name the sandbox does not know (the name given).
    #[error("unknown variant `{0}` (expected one of {list})", list = variant_names())]
    UnknownVariant(String),
    /// A configuration the sandbox refuses, and why.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// No object (payment, transaction, purchase) of this id.
    #[error("{provider} has no object `{id}`")]
    UnknownObject {
        /// The provider asked.
        provider: Provider,
        /// The id asked for.
        id: String,
    },
    /// The object cannot move to the asked status (already final, or a
    /// status the provider does not have).
    #[error("{provider}: {reason}")]
    CannotSettle {
        /// The provider asked.
        provider: Provider,
        /// Why not, in words.
        reason: String,
    },
}

fn provider_names() -> String {
    Provider::all()
        .map(Provider::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn route_names() -> String {
    Route::all()
        .into_iter()
        .map(Route::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn variant_names() -> String {
    Provider::all()
        .flat_map(Provider::variants)
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
