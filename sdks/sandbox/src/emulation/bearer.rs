//! The bearer check of an operation: `Authorization: Bearer <token>`, then the token's
//! signature (or lookup), type, expiry and revocation. Each provider words the refusal.

use crate::http::reply::Reply;
use crate::http::request::{Bearer, Ctx};
use crate::jwt::{TokenError, Verified};
use crate::provider::Provider;
use crate::state::Inner;

/// Why a request's bearer token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `Authorization` header (or an empty one).
    Missing,
    /// Another scheme, or the bare token without `Bearer`.
    OtherScheme,
    /// A bearer token the provider did not accept.
    Token(TokenError),
}

/// The claims of `p`'s access token presented as `Authorization: Bearer …`.
pub(crate) async fn check(st: &Inner, p: Provider, ctx: &Ctx) -> Result<Verified, Refusal> {
    let token = match ctx.bearer() {
        Bearer::Token(t) => t,
        Bearer::Missing => return Err(Refusal::Missing),
        Bearer::OtherScheme => return Err(Refusal::OtherScheme),
    };
    st.verify(p, &token, "access").await.map_err(Refusal::Token)
}

/// [`check`], a refusal answered as `word` puts it and noted for the request's event.
pub(crate) async fn check_or(
    st: &Inner,
    p: Provider,
    ctx: &Ctx,
    word: impl FnOnce(Refusal) -> Reply,
) -> Result<Verified, Reply> {
    check(st, p, ctx).await.map_err(|e| {
        let note = e.note();
        word(e).decided(note)
    })
}

impl Refusal {
    /// The refusal in a few words, for the request's event.
    pub(crate) fn note(&self) -> &'static str {
        match self {
            Refusal::Missing | Refusal::Token(TokenError::Missing) => "no bearer token",
            Refusal::OtherScheme => "not a bearer token",
            Refusal::Token(e) => e.note(),
        }
    }
}

impl TokenError {
    /// The refusal in a few words, for the request's event.
    pub(crate) fn note(&self) -> &'static str {
        match self {
            TokenError::Missing => "no token",
            TokenError::Expired { .. } => "token expired",
            TokenError::Revoked => "token revoked",
            TokenError::Invalid(why) => why,
        }
    }
}
