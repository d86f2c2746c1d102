//! axept Cloud Connect: `POST {base}/api/authenticate` with `{merchantId: int, keyId: int,
//! key: str}` → HS256 token (30 min) as `{token, expiresAt}` or `{Token, ExpiresAt}`.
//! Errors: `{"message": str}` (400 malformed, 401 wrong merchantId/keyId/key).

use axum::http::{StatusCode, header};
use serde_json::{Map, Value, json};

use super::{Bearer, Ctx, Reply};
use crate::jwt::TokenError;
use crate::state::{Inner, rfc3339_secs};
use crate::types::{Provider, Variant};

const ISSUER: &str = "https://sandbox-axeptconnectcloudmerchant.test";
const AUDIENCE: &str = "axeptConnectCloud-merchant-client";

pub(crate) fn error(status: StatusCode, message: &str) -> Reply {
    Reply::json(status, json!({"message": message}))
}

fn bad_request(message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, message)
}

/// ASP.NET-style validation answer: `{"message", "errors": {field: [problem]}}`.
fn field_error(field: &str, problem: &str) -> Reply {
    Reply::json(
        StatusCode::BAD_REQUEST,
        json!({"message": "The request is invalid.", "errors": {field: [problem]}}),
    )
}

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

pub(crate) async fn authenticate(st: &Inner, ctx: Ctx) -> Reply {
    if !ctx.is_json() {
        return bad_request("Content-Type must be application/json");
    }
    let obj = match ctx.json() {
        Ok(Value::Object(o)) => o,
        Ok(_) => return bad_request("The request body must be a JSON object."),
        Err(e) => return bad_request(&e),
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
    let ok = st.with_accounts(|a| {
        a.axept_merchant_id == merchant_id && a.axept_key_id == key_id && a.axept_key == key
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
            st.cfg.axept.token_lifetime,
            ctx.token_mode,
            extra,
        )
        .await;
    let expires_at = rfc3339_secs(t.nominal_exp);
    let body = match st.axept_variant() {
        Variant::AxeptPascal => json!({"Token": t.token, "ExpiresAt": expires_at}),
        _ => json!({"token": t.token, "expiresAt": expires_at}),
    };
    Reply::ok(body).login(&format!("{merchant_id}:{key_id}"))
}

pub(crate) async fn protected(st: &Inner, ctx: Ctx) -> Reply {
    let unauthorized = |msg: &str, challenge: &str| {
        error(StatusCode::UNAUTHORIZED, msg).header(header::WWW_AUTHENTICATE, challenge)
    };
    let token = match ctx.bearer() {
        Bearer::Token(t) => t,
        _ => return unauthorized("Unauthorized", "Bearer"),
    };
    match st.verify(Provider::Axept, &token, "access").await {
        Ok(v) => {
            Reply::ok(json!({"ok": true, "sub": v.sub(), "provider": "axept"})).authenticated()
        }
        Err(TokenError::Expired { exp }) => unauthorized(
            "Unauthorized",
            &format!(
                r#"Bearer error="invalid_token", error_description="The token expired at '{}'""#,
                rfc3339_secs(exp)
            ),
        ),
        Err(_) => unauthorized(
            "Unauthorized",
            r#"Bearer error="invalid_token", error_description="The signature is invalid""#,
        ),
    }
}
