//! axept's login (`POST /api/authenticate`) and its sandbox-only protected route.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::answers::{bearer, error, field_error, object_body};
use super::config::AxeptConfig;
use crate::http::reply::Reply;
use crate::http::request::Ctx;
use crate::provider::Provider;
use crate::state::Inner;
use crate::time_format::rfc3339_secs;
use crate::variant::Variant;

const ISSUER: &str = "https://sandbox-axeptconnectcloudmerchant.test";
const AUDIENCE: &str = "axeptConnectCloud-merchant-client";

fn int_field(obj: &Map<String, Value>, name: &str) -> Result<i64, Reply> {
    match obj.get(name) {
        None | Some(Value::Null) => {
            Err(field_error(name, &format!("The {name} field is required.")))
        }
        Some(v) => v
            .as_i64()
            .ok_or_else(|| field_error(name, &format!("The value '{v}' is not valid for {name}."))),
    }
}

pub(super) async fn authenticate(st: &Inner, ctx: Ctx) -> Reply {
    let obj = match object_body(&ctx) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let merchant_id = match int_field(&obj, "merchantId") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let key_id = match int_field(&obj, "keyId") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let key = match obj.get("key") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            return field_error("key", "The key field is required.");
        }
        Some(_) => return field_error("key", "The key field must be a string."),
    };
    let (ok, lifetime, variant) = st.live(|c: &AxeptConfig| {
        (
            c.merchant_id == merchant_id && c.key_id == key_id && c.key == key,
            c.token_lifetime,
            c.variant,
        )
    });
    if !ok {
        return error(
            StatusCode::UNAUTHORIZED,
            "The supplied merchantId, keyId and key are not valid.",
        );
    }
    let now = st.now_secs();
    let mut extra = Map::new();
    extra.insert("unique_name".into(), json!(merchant_id.to_string()));
    extra.insert("keyId".into(), json!(key_id));
    extra.insert("nbf".into(), json!(now));
    extra.insert("iss".into(), json!(ISSUER));
    extra.insert("aud".into(), json!(AUDIENCE));
    let t = st
        .issue(
            Provider::Axept,
            "access",
            merchant_id.to_string(),
            lifetime,
            ctx.token_mode,
            extra,
        )
        .await;
    let expires_at = rfc3339_secs(t.nominal_exp);
    let body = if variant == Variant::AxeptPascal {
        json!({"Token": t.token, "ExpiresAt": expires_at})
    } else {
        json!({"token": t.token, "expiresAt": expires_at})
    };
    Reply::ok(body).login(&format!("{merchant_id}:{key_id}"))
}

pub(super) async fn protected(st: &Inner, ctx: Ctx) -> Reply {
    match bearer(st, &ctx).await {
        Ok(v) => {
            Reply::ok(json!({"ok": true, "sub": v.sub(), "provider": "axept"})).authenticated()
        }
        Err(r) => r,
    }
}
