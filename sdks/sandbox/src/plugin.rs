//! The plug-in contract: what one emulated provider gives the shared machinery.
//!
//! A provider is a unit type implementing [`Plugin`] in its module under `providers/`,
//! listed once in `providers/mod.rs`. Everything else — the router, fault injection,
//! counters, the control plane, token issuing and checking, configuration — works from
//! what the trait returns, so no other file names a provider.

use axum::http::{Method, StatusCode};
use futures::future::BoxFuture;
use serde_json::Value;

use crate::config::AnyConfig;
use crate::credentials::Credentials;
use crate::error::SandboxError;
use crate::http::reply::Reply;
use crate::http::request::Ctx;
use crate::jwt::TokenFormat;
use crate::provider::Provider;
use crate::route::Route;
use crate::state::Inner;
use crate::variant::Variant;

/// A route's handler: the whole request in, the provider's answer out.
pub(crate) type Handler = for<'a> fn(&'a Inner, Ctx) -> BoxFuture<'a, Reply>;

/// `handler!(login)`: an `async fn(&Inner, Ctx) -> Reply` as a [`Handler`].
macro_rules! handler {
    ($f:path) => {{
        fn boxed<'a>(
            st: &'a $crate::state::Inner,
            ctx: $crate::http::request::Ctx,
        ) -> ::futures::future::BoxFuture<'a, $crate::http::reply::Reply> {
            Box::pin($f(st, ctx))
        }
        boxed as $crate::plugin::Handler
    }};
}
pub(crate) use handler;

/// One endpoint: the route it counts as, its method and path below the provider's base.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub route: Route,
    pub method: Method,
    /// e.g. `/v1/payments/card/status/{id}` (axum path syntax).
    pub path: &'static str,
    pub handler: Handler,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.method, self.path, self.route)
    }
}

/// One emulated provider.
pub(crate) trait Plugin: Send + Sync + 'static {
    /// Its name and identity.
    fn provider(&self) -> Provider;

    /// Path of its base URL below the sandbox root, shaped like the real base URL
    /// (e.g. `/exirom/api`).
    fn base_path(&self) -> &'static str;

    /// Every endpoint, `Route::Login` and `Route::Protected` included.
    fn endpoints(&self) -> &'static [Endpoint];

    /// How its tokens are made.
    fn token_format(&self) -> TokenFormat {
        TokenFormat::Hs256
    }

    /// Its response-shape variants, the default first (none for most providers).
    fn variants(&self) -> &'static [Variant] {
        &[]
    }

    /// Its default configuration (`config::default_of::<ItsConfig>()`).
    fn default_config(&self) -> Box<dyn AnyConfig>;

    /// Its configuration read from JSON (`config::parse_of::<ItsConfig>`).
    fn parse_config(&self, v: Value) -> Result<Box<dyn AnyConfig>, String>;

    /// An error in its own format, for answers no handler chose: injected faults, 404,
    /// 405, unreadable bodies. `route` is `None` outside every route.
    fn error(&self, route: Option<Route>, status: StatusCode, message: &str) -> Reply;

    /// The `sub` of a forged token that looks live (see `Sandbox::forge_token`).
    fn forged_subject(&self, st: &Inner) -> String;

    /// A shell command that logs in with `c` at `base_url`.
    fn login_example(&self, base_url: &str, c: &Credentials) -> String;

    /// More lines for `Sandbox::usage` (extra accounts and keys); none by default.
    fn notes(&self, _st: &Inner) -> Vec<String> {
        Vec::new()
    }

    /// Signing material the control plane's `GET /__sandbox/signing` shows.
    fn signing_material(&self, _st: &Inner) -> Vec<(&'static str, Value)> {
        Vec::new()
    }

    /// The secret its signed requests are signed with (a JWT over the body, a checksum in
    /// it), the current one: `Sandbox::signing_secret` and the control plane's
    /// `GET /__sandbox/signing/{provider}`. `None` when it signs no request.
    fn signing_secret(&self, _st: &Inner) -> Option<String> {
        None
    }

    /// Moves its object `id` to `status` as the provider would (settled, declined,
    /// completed) and sends the callback its request asked for (`Sandbox::settle`). Its
    /// objects do not change this way by default.
    fn settle(&self, _st: &Inner, _id: &str, _status: &str) -> Result<(), SandboxError> {
        Err(SandboxError::CannotSettle {
            provider: self.provider(),
            reason: "its objects do not change by settling".into(),
        })
    }
}
