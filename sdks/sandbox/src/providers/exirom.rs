//! exirom: `POST {base}/v1/auth` with `{merchantKey, merchantSecret}` → HS256 JWT (30 days).
//! Errors: `{"message": str, "errors": [{"field", "message"}]}`.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{Bearer, Ctx, Reply, str_field};
use crate::jwt::TokenError;
use crate::state::Inner;
use crate::types::{Provider, Variant};

const ISSUER: &str = "https://sandbox.api.exirom.com";

pub(crate) fn error(status: StatusCode, message: &str, errors: Vec<(String, String)>) -> Reply {
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|(field, message)| json!({"field": field, "message": message}))
        .collect();
    Reply::json(status, json!({"message": message, "errors": errors}))
}

fn validation(errors: Vec<(String, String)>) -> Reply {
    error(StatusCode::BAD_REQUEST, "Validation failed", errors)
}

pub(crate) async fn login(st: &Inner, ctx: Ctx) -> Reply {
    if !ctx.is_json() {
        return validation(vec![(
            "Content-Type".into(),
            "must be application/json".into(),
        )]);
    }
    let body = match ctx.json() {
        Ok(v) => v,
        Err(e) => return validation(vec![("body".into(), e)]),
    };
    let Some(obj) = body.as_object() else {
        return validation(vec![("body".into(), "must be a JSON object".into())]);
    };
    let mut errors = Vec::new();
    let mut field = |name: &str| match str_field(obj, name) {
        Ok(Some(s)) if !s.trim().is_empty() => Some(s.to_owned()),
        Ok(_) => {
            errors.push((name.to_owned(), "must not be blank".to_owned()));
            None
        }
        Err(e) => {
            errors.push((name.to_owned(), e.to_owned()));
            None
        }
    };
    let key = field("merchantKey");
    let secret = field("merchantSecret");
    let (Some(key), Some(secret)) = (key, secret) else {
        return validation(errors);
    };
    let ok = st.with_accounts(|a| a.exirom_key == key && a.exirom_secret == secret);
    if !ok {
        return error(
            StatusCode::UNAUTHORIZED,
            "Invalid merchant credentials",
            Vec::new(),
        );
    }
    let mut extra = Map::new();
    extra.insert("merchantKey".into(), json!(key));
    extra.insert("iss".into(), json!(ISSUER));
    let t = st
        .issue(
            Provider::Exirom,
            "access",
            key.clone(),
            st.cfg.exirom.token_lifetime,
            ctx.token_mode,
            extra,
        )
        .await;
    let body = match st.exirom_variant() {
        Variant::ExiromObject => json!({"merchantKey": key, "token": t.token}),
        _ => Value::String(t.token),
    };
    Reply::ok(body).login(&key)
}

pub(crate) async fn protected(st: &Inner, ctx: Ctx) -> Reply {
    let token = match ctx.bearer() {
        Bearer::Token(t) => t,
        Bearer::Missing => return unauthorized("Authorization header is missing"),
        Bearer::OtherScheme => {
            return unauthorized("Authorization header must be 'Bearer {token}'");
        }
    };
    match st.verify(Provider::Exirom, &token, "access").await {
        Ok(v) => {
            Reply::ok(json!({"ok": true, "sub": v.sub(), "provider": "exirom"})).authenticated()
        }
        Err(TokenError::Expired { .. }) => unauthorized("Token has expired"),
        Err(TokenError::Revoked) => unauthorized("Token has been revoked"),
        Err(TokenError::Missing) => unauthorized("Authorization header is missing"),
        Err(TokenError::Invalid(_)) => unauthorized("Invalid token"),
    }
}

fn unauthorized(message: &str) -> Reply {
    error(StatusCode::UNAUTHORIZED, message, Vec::new())
}
