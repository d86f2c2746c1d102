//! [`SandboxError`]: errors of the Rust and HTTP control API.

use crate::provider::Provider;
use crate::route::Route;

/// Errors of the Rust and HTTP control API (never of the emulated providers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error("unknown provider `{0}` (expected one of {list})", list = provider_names())]
    UnknownProvider(String),
    #[error("unknown route `{0}` (expected one of {list})", list = route_names())]
    UnknownRoute(String),
    #[error("provider {provider} has no route {route}")]
    RouteNotOffered { provider: Provider, route: Route },
    #[error("unknown variant `{0}` (expected one of {list})", list = variant_names())]
    UnknownVariant(String),
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    #[error("{provider} has no object `{id}`")]
    UnknownObject { provider: Provider, id: String },
    #[error("{provider}: {reason}")]
    CannotSettle { provider: Provider, reason: String },
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
