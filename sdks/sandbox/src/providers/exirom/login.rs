//! exirom's login (`POST /v1/auth`) and its sandbox-only protected route.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::answers::{bearer, body_error, error, validation};
use super::config::ExiromConfig;
use crate::http::reply::Reply;
use crate::http::request::{Ctx, str_field};
use crate::provider::Provider;
use crate::state::Inner;
use crate::variant::Variant;

const ISSUER: &str = "https://sandbox.api.exirom.com";

pub(super) async fn login(st: &Inner, ctx: Ctx) -> Reply {
    let obj = match ctx.json_object() {
        Ok(o) => o,
        Err(e) => return body_error(e),
    };
    let mut errors = Vec::new();
    let mut field = |name: &str| match str_field(&obj, name) {
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
    let (ok, lifetime, variant) = st.live(|c: &ExiromConfig| {
        (
            c.merchant_key == key && c.merchant_secret == secret,
            c.token_lifetime,
            c.variant,
        )
    });
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
            lifetime,
            ctx.token_mode,
            extra,
        )
        .await;
    let body = if variant == Variant::ExiromObject {
        json!({"merchantKey": key, "token": t.token})
    } else {
        Value::String(t.token)
    };
    Reply::ok(body).login(&key)
}

pub(super) async fn protected(st: &Inner, ctx: Ctx) -> Reply {
    match bearer(st, &ctx).await {
        Ok(v) => {
            Reply::ok(json!({"ok": true, "sub": v.sub(), "provider": "exirom"})).authenticated()
        }
        Err(r) => r,
    }
}
