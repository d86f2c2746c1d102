//! bursagb's answers: the `{"success", "message", "code"}` envelope and the bearer check.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::emulation::bearer::{self, Refusal};
use crate::http::reply::Reply;
use crate::http::request::{BodyError, Ctx};
use crate::jwt::{TokenError, Verified};
use crate::provider::Provider;
use crate::state::Inner;

// Only `-23` (the ApiKey's 401) is a documented code; the others are our design,
// marked as such on `ErrorResponse.code` in specs/bursagb.yaml.
pub(super) const CODE_VALIDATION: i64 = -1;
pub(super) const CODE_REGION: i64 = -2;
pub(super) const CODE_BAD_CREDENTIALS: i64 = -10;
pub(super) const CODE_API_KEY: i64 = -23;
pub(super) const CODE_UNAUTHORIZED: i64 = -401;
pub(super) const CODE_FORBIDDEN: i64 = -403;

pub(super) fn error(status: StatusCode, message: &str, code: i64) -> Reply {
    Reply::json(
        status,
        json!({"success": false, "message": message, "code": code}),
    )
}

pub(super) fn ok(data: Value) -> Reply {
    Reply::ok(json!({"data": data, "success": true, "message": "OK"}))
}

pub(super) fn bad_request(message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, message, CODE_VALIDATION)
}

pub(super) fn body_error(e: BodyError) -> Reply {
    match e {
        BodyError::ContentType => bad_request("Content-Type must be application/json"),
        BodyError::NotObject => bad_request("Request body must be a JSON object"),
        BodyError::Unparseable(e) => bad_request(&e),
    }
}

pub(super) fn unauthorized(message: &str) -> Reply {
    error(StatusCode::UNAUTHORIZED, message, CODE_UNAUTHORIZED)
}

/// Checks the `Authorization: Bearer` header; the raw token without prefix is refused.
pub(super) async fn bearer(st: &Inner, ctx: &Ctx) -> Result<Verified, Reply> {
    bearer::check_or(st, Provider::Bursagb, ctx, |e| match e {
        Refusal::Missing | Refusal::Token(TokenError::Missing) => {
            unauthorized("Authorization header is missing")
        }
        Refusal::OtherScheme => unauthorized("Authorization header must use the Bearer scheme"),
        Refusal::Token(TokenError::Expired { .. }) => unauthorized("Token has expired"),
        Refusal::Token(TokenError::Revoked) => unauthorized("Token has been revoked"),
        Refusal::Token(TokenError::Invalid(_)) => unauthorized("Invalid token"),
    })
    .await
}
