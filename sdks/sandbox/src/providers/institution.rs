//! institution: `POST /v2/auth/login` (header `merchant_id`, `{token: email, password}`),
//! `POST /v2/auth/refresh` (rotating refresh tokens), `POST /v2/customer/create` (Bearer or
//! `Api-key`). RS256 tokens. Errors: `{"errors": [{"code", "message": str | object}]}`.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{Bearer, Ctx, Reply, str_field};
use crate::jwt::{TokenError, TokenMode, random_id};
use crate::state::{Inner, rfc3339_millis};
use crate::types::Provider;

/// User id of the (single) institution account, as in the provider's sample token.
const USER_ID: &str = "78a12644-a123-4c2b-8e2f-225f54e20b84";

pub(crate) fn error(status: StatusCode, code: &str, message: Value) -> Reply {
    Reply::json(
        status,
        json!({"errors": [{"code": code, "message": message}]}),
    )
}

fn validation(message: &str) -> Reply {
    error(
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        Value::String(message.to_owned()),
    )
}

pub(crate) fn unauthorized(message: Value) -> Reply {
    error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
}

pub(crate) fn invalid_token_object() -> Value {
    json!({"name": "JsonWebTokenError", "message": "invalid token"})
}

fn token_error(e: TokenError) -> Reply {
    match e {
        TokenError::Expired { exp } => unauthorized(json!({
            "name": "TokenExpiredError",
            "message": "jwt expired",
            "expiredAt": rfc3339_millis(exp),
        })),
        _ => unauthorized(invalid_token_object()),
    }
}

/// JSON object body, or the provider's 400.
fn object_body(ctx: &Ctx) -> Result<Map<String, Value>, Reply> {
    if !ctx.is_json() {
        return Err(validation("Content-Type must be application/json"));
    }
    match ctx.json() {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(validation("request body must be a JSON object")),
        Err(e) => Err(validation(&e)),
    }
}

fn merchant_header(ctx: &Ctx) -> Result<String, Reply> {
    match ctx.header("merchant_id").map(str::trim) {
        Some(m) if !m.is_empty() => Ok(m.to_owned()),
        _ => Err(validation("merchant_id header is required")),
    }
}

/// Issues an access + refresh token pair and answers the login/refresh body.
async fn token_pair(
    st: &Inner,
    merchant_id: &str,
    email: &str,
    mode: TokenMode,
) -> (Value, String) {
    let cfg = &st.cfg.institution;
    let mut access_claims = Map::new();
    access_claims.insert("id".into(), json!(USER_ID));
    access_claims.insert("email".into(), json!(email));
    access_claims.insert("role".into(), json!("Owner"));
    access_claims.insert("t".into(), json!("u"));
    access_claims.insert("merchantId".into(), json!(merchant_id));
    let access = st
        .issue(
            Provider::Institution,
            "access",
            USER_ID.to_owned(),
            cfg.access_token_lifetime,
            mode,
            access_claims,
        )
        .await;
    let mut refresh_claims = Map::new();
    refresh_claims.insert("id".into(), json!(USER_ID));
    refresh_claims.insert("merchantId".into(), json!(merchant_id));
    refresh_claims.insert("email".into(), json!(email));
    refresh_claims.insert("fingerprint".into(), json!(random_id().replace('-', "")));
    refresh_claims.insert(
        "sessionCreatedAt".into(),
        json!(st.now().timestamp_millis()),
    );
    let refresh = st
        .issue(
            Provider::Institution,
            "refresh",
            USER_ID.to_owned(),
            cfg.refresh_token_lifetime,
            TokenMode::Normal,
            refresh_claims,
        )
        .await;
    st.remember_refresh(&refresh.jti, refresh.nominal_exp);
    (
        json!({"data": {
            "accessToken": access.token,
            "expiresIn": access.nominal_exp,
            "refreshToken": refresh.token,
        }}),
        email.to_owned(),
    )
}

pub(crate) async fn login(st: &Inner, ctx: Ctx) -> Reply {
    let merchant = match merchant_header(&ctx) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let obj = match object_body(&ctx) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let email = match str_field(&obj, "token") {
        Ok(Some(s)) if s.contains('@') => s.to_owned(),
        Ok(Some(_)) => return validation("token must be an email"),
        Ok(None) => return validation("token should not be empty"),
        Err(_) => return validation("token must be a string"),
    };
    let password = match str_field(&obj, "password") {
        Ok(Some(s)) if !s.is_empty() => s.to_owned(),
        Ok(_) => return validation("password should not be empty"),
        Err(_) => return validation("password must be a string"),
    };
    let ok = st.with_accounts(|a| {
        a.inst_email.eq_ignore_ascii_case(&email)
            && a.inst_password == password
            && a.inst_merchant_id == merchant
    });
    if !ok {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            Value::String("Invalid credentials".into()),
        );
    }
    let (body, identity) = token_pair(st, &merchant, &email, ctx.token_mode).await;
    Reply::ok(body).login(&identity)
}

pub(crate) async fn refresh(st: &Inner, ctx: Ctx) -> Reply {
    let merchant = match merchant_header(&ctx) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let obj = match object_body(&ctx) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let token = match str_field(&obj, "refreshToken") {
        Ok(Some(s)) if !s.trim().is_empty() => s.to_owned(),
        Ok(_) => return validation("refreshToken should not be empty"),
        Err(_) => return validation("refreshToken must be a string"),
    };
    let v = match st.verify(Provider::Institution, &token, "refresh").await {
        Ok(v) => v,
        Err(TokenError::Expired { .. }) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "REFRESH_TOKEN_EXPIRED",
                Value::String("Invalid token".into()),
            );
        }
        Err(_) => return unauthorized(invalid_token_object()),
    };
    if v.str_claim("merchantId") != Some(merchant.as_str()) {
        return unauthorized(invalid_token_object());
    }
    // Rotation: a refresh token works once.
    if !st.consume_refresh(&v.jti) {
        return unauthorized(invalid_token_object());
    }
    let email = v.str_claim("email").unwrap_or_default().to_owned();
    let (body, _) = token_pair(st, &merchant, &email, ctx.token_mode).await;
    Reply::ok(body).refreshed()
}

/// Bearer access token or `Api-key`; returns the principal.
async fn authenticate(st: &Inner, ctx: &Ctx) -> Result<String, Reply> {
    match ctx.bearer() {
        Bearer::Token(t) => {
            return st
                .verify(Provider::Institution, &t, "access")
                .await
                .map(|v| v.sub().to_owned())
                .map_err(token_error);
        }
        Bearer::OtherScheme => return Err(unauthorized(invalid_token_object())),
        Bearer::Missing => {}
    }
    match ctx.header("api-key").map(str::trim) {
        Some(k) if !k.is_empty() => {
            let ok = st.with_accounts(|a| a.inst_api_key == k) && !st.is_revoked(k);
            if ok {
                Ok(st.with_accounts(|a| a.inst_merchant_id.clone()))
            } else {
                Err(unauthorized(invalid_token_object()))
            }
        }
        _ => Err(unauthorized(invalid_token_object())),
    }
}

pub(crate) async fn customer_create(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = authenticate(st, &ctx).await {
        return r;
    }
    let obj = match object_body(&ctx) {
        Ok(o) => o,
        Err(r) => return r.authenticated(),
    };
    match str_field(&obj, "email") {
        Ok(Some(e)) if e.contains('@') && !e.starts_with('@') && !e.ends_with('@') => {}
        Ok(Some(_)) => return validation("email must be an email").authenticated(),
        Ok(None) => return validation("email should not be empty").authenticated(),
        Err(_) => return validation("email must be a string").authenticated(),
    }
    // No field of `CreateCustomerRequest` is nullable: `null` is a wrong type.
    for (k, v) in &obj {
        if v.is_null() {
            return validation(&format!("{k} must not be null")).authenticated();
        }
        if !v.is_string() {
            return validation(&format!("{k} must be a string")).authenticated();
        }
    }
    if let Some(Value::String(c)) = obj.get("country")
        && c.chars().count() != 2
    {
        return validation("country must be an ISO 3166-1 alpha-2 code").authenticated();
    }
    let mut data = Map::new();
    data.insert("id".into(), json!(random_id()));
    for (k, v) in obj {
        if k != "id" && !v.is_null() {
            data.insert(k, v);
        }
    }
    data.insert(
        "createdAt".into(),
        json!(
            st.now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ),
    );
    Reply::ok(json!({"data": data})).authenticated()
}

pub(crate) async fn protected(st: &Inner, ctx: Ctx) -> Reply {
    match authenticate(st, &ctx).await {
        Ok(sub) => {
            Reply::ok(json!({"ok": true, "sub": sub, "provider": "institution"})).authenticated()
        }
        Err(r) => r,
    }
}
