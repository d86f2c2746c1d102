//! pledg: OAuth2 client credentials. `POST {base}/api/token`, HTTP Basic (key:secret),
//! form body `grant_type=client_credentials` → `{access_token, token_type, expires_in}`.
//! Errors in RFC 6749 shape `{"error", "error_description"}`.

use axum::http::{StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::check::{self, Kind, Rule, STR, str_len};
use super::{Bearer, Ctx, Reply};
use crate::jwt::TokenError;
use crate::resources::MAX_PER_KIND;
use crate::signatures::{SignatureError, sign_hs256, verify_hs256};
use crate::state::{Inner, lock};
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
    // Dashboard credentials (HTTP Basic) are the other mechanism this route
    // accepts: the pages name no endpoint for them.
    if let Some((user, password)) = basic(&ctx) {
        let cfg = &st.cfg.pledg;
        let ok = ct_eq(&user, &cfg.dashboard_user) & ct_eq(&password, &cfg.dashboard_password);
        return if ok {
            Reply::ok(json!({"ok": true, "sub": user, "provider": "pledg",
                             "mechanism": "dashboard_basic"}))
            .authenticated()
        } else {
            error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Dashboard authentication failed",
            )
        };
    }
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

/// Equality whose time does not depend on where the strings differ.
fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const PURCHASE_RULES: &[Rule] = &[
    ("merchant_uid", str_len(1, usize::MAX), true),
    ("title", str_len(1, usize::MAX), true),
    ("reference", str_len(1, usize::MAX), true),
    (
        "amount_cents",
        Kind::Int {
            min: 1,
            max: i64::MAX,
        },
        true,
    ),
    ("currency", str_len(3, 3), true),
    ("email", STR, false),
    ("notification_url", STR, false),
    ("purchase_link_settings", Kind::Object, false),
];

const SETTINGS_RULES: &[Rule] = &[("expiration_days", Kind::Int { min: 1, max: 365 }, false)];

/// `POST /api/purchase_link/?signature=<jwt>`: the JWT (HS256, merchant's
/// secret key) must verify, be unexpired, and its `data` must equal the body.
pub(crate) async fn purchase_link(st: &Inner, ctx: Ctx) -> Reply {
    let bad_signature = |d: &str| error(StatusCode::UNAUTHORIZED, "invalid_signature", d);
    let Some(signature) = ctx.query("signature") else {
        return bad_signature("The signature parameter is required");
    };
    let cfg = &st.cfg.pledg;
    let claims = match verify_hs256(&cfg.secret_key, &signature, st.now_secs()) {
        Ok(c) => c,
        Err(SignatureError::Expired) => return bad_signature("The signature has expired"),
        Err(SignatureError::Missing) => {
            return bad_signature("The signature parameter is required");
        }
        Err(SignatureError::Invalid) => return bad_signature("The signature does not verify"),
    };
    if !ctx.is_json() {
        return invalid_request("Content-Type must be application/json").authenticated();
    }
    let body = match ctx.json() {
        Ok(Value::Object(o)) => o,
        Ok(_) => return invalid_request("The body must be a JSON object").authenticated(),
        Err(e) => return invalid_request(&e).authenticated(),
    };
    if claims.get("data") != Some(&Value::Object(body.clone())) {
        return invalid_request("The body differs from the signed data").authenticated();
    }
    let checked = check::fields(&body, PURCHASE_RULES).and_then(|()| {
        match check::object(&body, "purchase_link_settings") {
            Some(settings) => check::fields(settings, SETTINGS_RULES)
                .map_err(|(f, m)| (format!("purchase_link_settings.{f}"), m)),
            None => Ok(()),
        }
    });
    if let Err((field, message)) = checked {
        return invalid_request(&format!("{field} {message}")).authenticated();
    }
    if body.get("merchant_uid").and_then(Value::as_str) != Some(cfg.merchant_uid.as_str()) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "The secret key does not belong to this merchant",
        );
    }
    let mut links = lock(&st.resources.purchase_links);
    if links.len() >= MAX_PER_KIND {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "Too many purchase links",
        );
    }
    let uid = st.resources.next_id("pl_");
    let link = json!({
        "uid": uid,
        "url": format!("https://staging.front.ecard.pledg.co/purchase/{uid}"),
        "merchant_uid": body["merchant_uid"],
        "reference": body["reference"],
        "amount_cents": body["amount_cents"],
        "currency": body["currency"],
    });
    links.insert(uid, link.clone());
    drop(links);
    st.resources.count_created(Provider::Pledg);
    Reply::ok(link).authenticated()
}

/// A signed notification `{"signature": <jwt>}` about purchase link `uid`:
/// HS256 with the merchant's secret key, claims `{id, reference, status,
/// iat, exp}` (one day, like the request signatures).
pub(crate) fn notification(st: &Inner, uid: &str, status: &str) -> Option<Vec<u8>> {
    let link = lock(&st.resources.purchase_links).get(uid).cloned()?;
    let now = st.now_secs();
    let claims = json!({
        "id": uid,
        "reference": link["reference"],
        "status": status,
        "amount_cents": link["amount_cents"],
        "iat": now,
        "exp": now + 86_400,
    });
    let jwt = sign_hs256(&st.cfg.pledg.secret_key, &claims);
    Some(json!({"signature": jwt}).to_string().into_bytes())
}
