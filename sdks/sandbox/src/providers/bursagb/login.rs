//! bursagb's token endpoint (`POST /Login/Customer/Api/Verify`), `GET /Customer/Get` and
//! the sandbox-only protected route.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::answers::{
    CODE_BAD_CREDENTIALS, CODE_REGION, bad_request, bearer, body_error, error, ok,
};
use super::config::{BursagbAccount, BursagbConfig};
use crate::http::reply::Reply;
use crate::http::request::{Ctx, str_field};
use crate::provider::Provider;
use crate::state::Inner;
use crate::time_format::rfc3339_secs;

pub(super) async fn verify(st: &Inner, ctx: Ctx) -> Reply {
    let region = match region_header(&ctx) {
        Ok(Some(r)) => r,
        Ok(None) => st.live(|c: &BursagbConfig| c.default_region.clone()),
        Err(r) => return r,
    };
    let obj = match ctx.json_object() {
        Ok(o) => o,
        Err(e) => return body_error(e),
    };
    // This brand's casing, or the lower case another brand's client sends
    // (answered in the same casing).
    let lower = !obj.contains_key("Email") && obj.contains_key("email");
    let (email_key, password_key) = if lower {
        ("email", "password")
    } else {
        ("Email", "Password")
    };
    let email = match str_field(&obj, email_key) {
        Ok(Some(s)) if !s.trim().is_empty() => s.to_owned(),
        Ok(_) => return bad_request("The Email field is required."),
        Err(_) => return bad_request("The Email field must be a string."),
    };
    let password = match str_field(&obj, password_key) {
        Ok(Some(s)) if !s.is_empty() => s.to_owned(),
        Ok(_) => return bad_request("The Password field is required."),
        Err(_) => return bad_request("The Password field must be a string."),
    };
    let callback = match obj.get("callbackData") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Value::String(s.clone())),
        Some(_) => return bad_request("The callbackData field must be a string."),
    };
    let account: Option<(BursagbAccount, &'static str)> = st.live(|a: &BursagbConfig| {
        if a.reseller.email.eq_ignore_ascii_case(&email) {
            return Some((a.reseller.clone(), "reseller"));
        }
        a.customers
            .iter()
            .find(|c| c.email.eq_ignore_ascii_case(&email))
            .map(|c| (c.clone(), "customer"))
    });
    let Some((account, role)) = account.filter(|(acc, _)| acc.password == password) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Email or password is incorrect",
            CODE_BAD_CREDENTIALS,
        );
    };
    let mut extra = Map::new();
    extra.insert("customerId".into(), json!(account.customer_id));
    extra.insert("tenant".into(), json!(account.tenant));
    extra.insert("scopes".into(), json!(account.scopes));
    extra.insert("scope".into(), json!(account.scopes.join(" ")));
    extra.insert("email".into(), json!(account.email));
    extra.insert("role".into(), json!(role));
    extra.insert("region".into(), json!(region));
    let t = st
        .issue(
            Provider::Bursagb,
            "access",
            account.customer_id.clone(),
            st.live(|c: &BursagbConfig| c.token_lifetime),
            ctx.token_mode,
            extra,
        )
        .await;
    let mut data = Map::new();
    let (token_key, expiration_key) = if lower {
        ("token", "expiration")
    } else {
        ("Token", "Expiration")
    };
    data.insert(token_key.into(), json!(t.token));
    data.insert(expiration_key.into(), json!(rfc3339_secs(t.nominal_exp)));
    if let Some(cb) = callback {
        data.insert("callbackData".into(), cb);
    }
    ok(Value::Object(data)).login(&account.email)
}

pub(super) async fn protected(st: &Inner, ctx: Ctx) -> Reply {
    match bearer(st, &ctx).await {
        Ok(v) => Reply::ok(json!({
            "ok": true,
            "sub": v.sub(),
            "provider": "bursagb",
            "success": true,
            "message": "OK",
        }))
        .authenticated(),
        Err(r) => r,
    }
}

/// `GET /Customer/Get`: the customer behind the bearer token.
pub(super) async fn customer_get(st: &Inner, ctx: Ctx) -> Reply {
    let v = match bearer(st, &ctx).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let region = match region_header(&ctx) {
        Ok(Some(r)) => r,
        Ok(None) => match v.str_claim("region") {
            Some(r) => r.to_owned(),
            None => st.live(|c: &BursagbConfig| c.default_region.clone()),
        },
        Err(r) => return r.authenticated(),
    };
    let claim = |k: &str| json!(v.str_claim(k).unwrap_or_default());
    ok(json!({
        "customerId": v.sub(),
        "email": claim("email"),
        "tenant": claim("tenant"),
        "region": region,
        "role": claim("role"),
    }))
    .authenticated()
}

/// The `h-region-code` header, upper-cased: `None` when absent or blank,
/// the provider's 400 when it is not two letters.
fn region_header(ctx: &Ctx) -> Result<Option<String>, Reply> {
    match ctx.header("h-region-code").map(str::trim) {
        None | Some("") => Ok(None),
        Some(r) if r.len() == 2 && r.chars().all(|c| c.is_ascii_alphabetic()) => {
            Ok(Some(r.to_ascii_uppercase()))
        }
        Some(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "Invalid h-region-code header",
            CODE_REGION,
        )),
    }
}
