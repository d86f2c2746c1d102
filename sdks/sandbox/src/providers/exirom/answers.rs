//! exirom's answers: its error shape, the bearer check of its operations, JSON bodies.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::emulation::bearer::{self, Refusal};
use crate::http::reply::Reply;
use crate::http::request::{BodyError, Ctx};
use crate::jwt::{TokenError, Verified};
use crate::provider::Provider;
use crate::state::Inner;

/// `{"message", "errors": [{"field", "message"}]}`.
pub(super) fn error(status: StatusCode, message: &str, errors: Vec<(String, String)>) -> Reply {
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|(field, message)| json!({"field": field, "message": message}))
        .collect();
    Reply::json(status, json!({"message": message, "errors": errors}))
}

pub(super) fn validation(errors: Vec<(String, String)>) -> Reply {
    error(StatusCode::BAD_REQUEST, "Validation failed", errors)
}

pub(super) fn unauthorized(message: &str) -> Reply {
    error(StatusCode::UNAUTHORIZED, message, Vec::new())
}

/// A 400 for a body that is not a JSON object.
pub(super) fn body_error(e: BodyError) -> Reply {
    match e {
        BodyError::ContentType => validation(vec![(
            "Content-Type".into(),
            "must be application/json".into(),
        )]),
        BodyError::NotObject => validation(vec![("body".into(), "must be a JSON object".into())]),
        BodyError::Unparseable(e) => validation(vec![("body".into(), e)]),
    }
}

/// A JSON object body of an authenticated call, or the 400 to answer.
fn json_body(ctx: &Ctx) -> Result<Map<String, Value>, Reply> {
    ctx.json_object().map_err(|e| body_error(e).authenticated())
}

/// The JSON object body of a bearer call; else the provider's answer (the
/// bearer's 401 first, then the body's 400).
pub(super) async fn bearer_body(st: &Inner, ctx: &Ctx) -> Result<Map<String, Value>, Reply> {
    bearer(st, ctx).await?;
    json_body(ctx)
}

/// The bearer check every exirom operation makes.
pub(super) async fn bearer(st: &Inner, ctx: &Ctx) -> Result<Verified, Reply> {
    bearer::check_or(st, Provider::Exirom, ctx, |e| match e {
        Refusal::Missing | Refusal::Token(TokenError::Missing) => {
            unauthorized("Authorization header is missing")
        }
        Refusal::OtherScheme => unauthorized("Authorization header must be 'Bearer {token}'"),
        Refusal::Token(TokenError::Expired { .. }) => unauthorized("Token has expired"),
        Refusal::Token(TokenError::Revoked) => unauthorized("Token has been revoked"),
        Refusal::Token(TokenError::Invalid(_)) => unauthorized("Invalid token"),
    })
    .await
}
