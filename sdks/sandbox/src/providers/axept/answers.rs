//! axept's answers: `{"message"}` errors, ASP.NET-style validation errors, and the bearer
//! check of its operations (`WWW-Authenticate` as the platform words it).

use axum::http::{StatusCode, header};
use serde_json::{Map, Value, json};

use crate::emulation::bearer::{self, Refusal};
use crate::http::reply::Reply;
use crate::http::request::{BodyError, Ctx};
use crate::jwt::{TokenError, Verified};
use crate::provider::Provider;
use crate::state::Inner;
use crate::time_format::rfc3339_secs;

pub(super) fn error(status: StatusCode, message: &str) -> Reply {
    Reply::json(status, json!({"message": message}))
}

pub(super) fn bad_request(message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, message)
}

/// ASP.NET-style validation answer: `{"message", "errors": {field: [problem]}}`.
pub(super) fn field_error(field: &str, problem: &str) -> Reply {
    Reply::json(
        StatusCode::BAD_REQUEST,
        json!({"message": "The request is invalid.", "errors": {field: [problem]}}),
    )
}

/// The body as a JSON object, or the 400.
pub(super) fn object_body(ctx: &Ctx) -> Result<Map<String, Value>, Reply> {
    ctx.json_object().map_err(|e| match e {
        BodyError::ContentType => bad_request("Content-Type must be application/json"),
        BodyError::NotObject => bad_request("The request body must be a JSON object."),
        BodyError::Unparseable(e) => bad_request(&e),
    })
}

/// The bearer check of every axept operation.
pub(super) async fn bearer(st: &Inner, ctx: &Ctx) -> Result<Verified, Reply> {
    let unauthorized = |challenge: &str| {
        error(StatusCode::UNAUTHORIZED, "Unauthorized").header(header::WWW_AUTHENTICATE, challenge)
    };
    bearer::check_or(st, Provider::Axept, ctx, |e| match e {
        Refusal::Missing | Refusal::OtherScheme => unauthorized("Bearer"),
        Refusal::Token(TokenError::Expired { exp }) => unauthorized(&format!(
            r#"Bearer error="invalid_token", error_description="The token expired at '{}'""#,
            rfc3339_secs(exp)
        )),
        Refusal::Token(_) => unauthorized(
            r#"Bearer error="invalid_token", error_description="The signature is invalid""#,
        ),
    })
    .await
}
