//! pledg: OAuth2 client credentials. `POST {base}/api/token`, HTTP Basic (key:secret),
//! form body `grant_type=client_credentials` → `{access_token, token_type, expires_in}`.
//! Errors in RFC 6749 shape `{"error", "error_description"}`.

use axum::http::{StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, json};

use super::{Bearer, Ctx, Reply};
use crate::jwt::TokenError;
use crate::state::Inner;
use crate::types::Provider;

pub(crate) fn error(status: StatusCode, code: &str, description: &str) -> Reply {
    let mut r = Reply::json(
        status,
        json!({"error": code, "error_description": description}),
    )
    .header(header::CACHE_CONTROL, "no-store")
    .header(header::PRAGMA, "no-cache");
    if status == StatusCode::UNAUTHORIZED {
        let challenge = if code == "invalid_client" {
            r#"Basic realm="pledg""#.to_owned()
        } else {
            format!(r#"Bearer realm="pledg", error="{code}", error_description="{description}""#)
        };
        r = r.header(header::WWW_AUTHENTICATE, &challenge);
    }
    r
}

fn invalid_request(description: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn invalid_client() -> Reply {
    error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed",
    )
}

/// `(user, password)` of an `Authorization: Basic` header.
fn basic(ctx: &Ctx) -> Option<(String, String)> {
    let raw = ctx.header(header::AUTHORIZATION.as_str())?.trim();
    let (scheme, b64) = raw.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(b64.trim()).ok()?;
    let s = String::from_utf8(decoded).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

pub(crate) async fn token(st: &Inner, ctx: Ctx) -> Reply {
    if ctx.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return invalid_request("Content-Type must be application/x-www-form-urlencoded");
    }
    if std::str::from_utf8(&ctx.body).is_err() {
        return invalid_request("The request body is not valid UTF-8");
    }
    let mut grant_types = Vec::new();
    for (k, v) in form_urlencoded::parse(&ctx.body) {
        if k == "grant_type" {
            grant_types.push(v.into_owned());
        }
    }
    if grant_types.len() > 1 {
        return invalid_request("The grant_type parameter is repeated");
    }
    let Some((user, password)) = basic(&ctx) else {
        return invalid_client();
    };
    let ok = st.with_accounts(|a| a.pledg_key == user && a.pledg_secret == password);
    if !ok {
        return invalid_client();
    }
    let Some(grant_type) = grant_types.pop() else {
        return invalid_request("Missing grant_type parameter");
    };
    if grant_type != "client_credentials" {
        return error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only grant_type=client_credentials is supported",
        );
    }
    let lifetime = st.cfg.pledg.token_lifetime;
    let mut extra = Map::new();
    extra.insert("client_id".into(), json!(user));
    extra.insert("iss".into(), json!("https://sandbox.pledg.test"));
    let t = st
        .issue(
            Provider::Pledg,
            "access",
            user.clone(),
            lifetime,
            ctx.token_mode,
            extra,
        )
        .await;
    Reply::ok(json!({
        "access_token": t.token,
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
    }))
    .header(header::CACHE_CONTROL, "no-store")
    .header(header::PRAGMA, "no-cache")
    .login(&user)
}

pub(crate) async fn protected(st: &Inner, ctx: Ctx) -> Reply {
    let unauthorized = |d: &str| error(StatusCode::UNAUTHORIZED, "invalid_token", d);
    let token = match ctx.bearer() {
        Bearer::Token(t) => t,
        Bearer::Missing => return unauthorized("Missing bearer token"),
        Bearer::OtherScheme => {
            return unauthorized("Authorization header must be 'Bearer <token>'");
        }
    };
    match st.verify(Provider::Pledg, &token, "access").await {
        Ok(v) => {
            Reply::ok(json!({"ok": true, "sub": v.sub(), "provider": "pledg"})).authenticated()
        }
        Err(TokenError::Expired { .. }) => unauthorized("The access token expired"),
        Err(TokenError::Revoked) => unauthorized("The access token has been revoked"),
        Err(_) => unauthorized("The access token is invalid"),
    }
}
