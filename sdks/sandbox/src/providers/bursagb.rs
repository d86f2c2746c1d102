//! bursagb (white-label platform): `POST /Login/Customer/Api/Verify` issues HS256 tokens to
//! the reseller or a storefront customer; `POST /Orders/Create` needs a Bearer token with scope
//! `orders:write`; `POST /Supplier/Products/List` needs header `ApiKey`.
//! Errors: `{"success": false, "message": str, "code": int}`.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{Bearer, Ctx, Reply, str_field};
use crate::config::BursagbAccount;
use crate::jwt::{TokenError, Verified};
use crate::state::{Inner, rfc3339_secs};
use crate::types::Provider;

const CODE_VALIDATION: i64 = -1;
const CODE_REGION: i64 = -2;
const CODE_BAD_CREDENTIALS: i64 = -10;
const CODE_API_KEY: i64 = -23;
const CODE_UNAUTHORIZED: i64 = -401;
const CODE_FORBIDDEN: i64 = -403;

pub(crate) fn error(status: StatusCode, message: &str, code: i64) -> Reply {
    Reply::json(
        status,
        json!({"success": false, "message": message, "code": code}),
    )
}

fn ok(data: Value) -> Reply {
    Reply::ok(json!({"data": data, "success": true, "message": "OK"}))
}

fn bad_request(message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, message, CODE_VALIDATION)
}

fn unauthorized(message: &str) -> Reply {
    error(StatusCode::UNAUTHORIZED, message, CODE_UNAUTHORIZED)
}

pub(crate) async fn verify(st: &Inner, ctx: Ctx) -> Reply {
    let region = match ctx.header("h-region-code").map(str::trim) {
        None | Some("") => st.cfg.bursagb.default_region.clone(),
        Some(r) if r.len() == 2 && r.chars().all(|c| c.is_ascii_alphabetic()) => {
            r.to_ascii_uppercase()
        }
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Invalid h-region-code header",
                CODE_REGION,
            );
        }
    };
    if !ctx.is_json() {
        return bad_request("Content-Type must be application/json");
    }
    let obj = match ctx.json() {
        Ok(Value::Object(o)) => o,
        Ok(_) => return bad_request("Request body must be a JSON object"),
        Err(e) => return bad_request(&e),
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
    let account: Option<(BursagbAccount, &'static str)> = st.with_accounts(|a| {
        if a.bursagb_reseller.email.eq_ignore_ascii_case(&email) {
            return Some((a.bursagb_reseller.clone(), "reseller"));
        }
        a.bursagb_customers
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
            st.cfg.bursagb.token_lifetime,
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

/// Checks the `Authorization: Bearer` header; the raw token without prefix is refused.
async fn bearer(st: &Inner, ctx: &Ctx) -> Result<Verified, Reply> {
    let token = match ctx.bearer() {
        Bearer::Token(t) => t,
        Bearer::Missing => return Err(unauthorized("Authorization header is missing")),
        Bearer::OtherScheme => {
            return Err(unauthorized(
                "Authorization header must use the Bearer scheme",
            ));
        }
    };
    st.verify(Provider::Bursagb, &token, "access")
        .await
        .map_err(|e| match e {
            TokenError::Expired { .. } => unauthorized("Token has expired"),
            TokenError::Revoked => unauthorized("Token has been revoked"),
            TokenError::Missing => unauthorized("Authorization header is missing"),
            TokenError::Invalid(_) => unauthorized("Invalid token"),
        })
}

fn has_scope(v: &Verified, scope: &str) -> bool {
    v.claims
        .get("scopes")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(scope)))
}

/// Checks an order body: `items` (non-empty, each `{productId: str, quantity: int >= 1}`),
/// `currency` (3 letters), `customerId` string, optional `note` string.
fn check_order(obj: &Map<String, Value>) -> Result<(), String> {
    match obj.get("currency") {
        Some(Value::String(c)) if c.len() == 3 && c.chars().all(|x| x.is_ascii_alphabetic()) => {}
        Some(Value::String(_)) => return Err("currency must be an ISO 4217 code".into()),
        None | Some(Value::Null) => return Err("currency is required".into()),
        Some(_) => return Err("currency must be a string".into()),
    }
    let items = match obj.get("items") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err("items must not be empty".into());
        }
        Some(_) => return Err("items must be an array".into()),
    };
    for (i, it) in items.iter().enumerate() {
        let ok_product = it
            .get("productId")
            .and_then(Value::as_str)
            .is_some_and(|p| !p.trim().is_empty());
        if !ok_product {
            return Err(format!("items[{i}].productId is required"));
        }
        if !it
            .get("quantity")
            .and_then(Value::as_i64)
            .is_some_and(|q| (1..=i64::from(i32::MAX)).contains(&q))
        {
            return Err(format!("items[{i}].quantity must be an integer >= 1"));
        }
    }
    // `customerId` is required, `note` optional; neither is nullable.
    match obj.get("customerId") {
        Some(Value::String(_)) => {}
        None | Some(Value::Null) => return Err("customerId is required".into()),
        Some(_) => return Err("customerId must be a string".into()),
    }
    match obj.get("note") {
        None | Some(Value::String(_)) => {}
        Some(Value::Null) => return Err("note must not be null".into()),
        Some(_) => return Err("note must be a string".into()),
    }
    Ok(())
}

pub(crate) async fn orders_create(st: &Inner, ctx: Ctx) -> Reply {
    let v = match bearer(st, &ctx).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !has_scope(&v, "orders:write") {
        return error(StatusCode::FORBIDDEN, "insufficient scope", CODE_FORBIDDEN);
    }
    if !ctx.is_json() {
        return bad_request("Content-Type must be application/json").authenticated();
    }
    let obj = match ctx.json() {
        Ok(Value::Object(o)) => o,
        Ok(_) => return bad_request("Request body must be a JSON object").authenticated(),
        Err(e) => return bad_request(&e).authenticated(),
    };
    if let Err(e) = check_order(&obj) {
        return bad_request(&e).authenticated();
    }
    let mut data = Map::new();
    for (k, val) in obj {
        if !val.is_null() {
            data.insert(k, val);
        }
    }
    let id = format!("ord_{}", st.next_order_id());
    data.insert("id".into(), json!(id));
    data.insert("orderId".into(), json!(id));
    data.insert("status".into(), json!("Created"));
    if !data.contains_key("customerId") {
        data.insert("customerId".into(), json!(v.sub()));
    }
    data.insert(
        "tenant".into(),
        json!(v.str_claim("tenant").unwrap_or_default()),
    );
    data.insert("createdAt".into(), json!(rfc3339_secs(st.now_secs())));
    ok(Value::Object(data)).authenticated()
}

/// The supplier catalogue every tenant with supplier access sees.
fn catalogue() -> Vec<Value> {
    [
        ("prd_5521", "Espresso beans 1 kg", "ESP-1KG", 499.95, 120),
        ("prd_7730", "Milk frother", "FRO-01", 250.0, 8),
        ("prd_8812", "Ceramic cup 250 ml", "CUP-250", 89.9, 640),
        ("prd_9034", "Grinder burr set", "GRD-BURR", 1199.0, 3),
    ]
    .into_iter()
    .map(|(id, name, sku, price, stock)| {
        json!({"id": id, "productId": id, "name": name, "sku": sku, "price": price,
               "currency": "TRY", "stock": stock})
    })
    .collect()
}

fn paging(obj: &Map<String, Value>, name: &str, default: i64, max: i64) -> Result<i64, String> {
    match obj.get(name) {
        None => Ok(default),
        Some(Value::Null) => Err(format!("{name} must not be null")),
        Some(v) => match v.as_i64() {
            Some(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("{name} must be between 1 and {max}")),
        },
    }
}

pub(crate) async fn supplier_products(st: &Inner, ctx: Ctx) -> Reply {
    let key_err = |m: &str| error(StatusCode::UNAUTHORIZED, m, CODE_API_KEY);
    let key = match ctx.header("apikey").map(str::trim) {
        Some(k) if !k.is_empty() => k.to_owned(),
        _ => return key_err("ApiKey header is missing"),
    };
    let found = st.with_accounts(|a| a.bursagb_api_keys.iter().find(|k| k.key == key).cloned());
    let Some(found) = found.filter(|_| !st.is_revoked(&key)) else {
        return key_err("Invalid API key");
    };
    if !found.supplier_access {
        return error(
            StatusCode::FORBIDDEN,
            "Tenant has no access to the Supplier API",
            CODE_FORBIDDEN,
        );
    }
    // The spec's request body is required: an empty body is refused.
    if !ctx.is_json() {
        return bad_request("Content-Type must be application/json").authenticated();
    }
    let filter = match ctx.json() {
        Ok(Value::Object(o)) => o,
        Ok(_) => return bad_request("Request body must be a JSON object").authenticated(),
        Err(e) => return bad_request(&e).authenticated(),
    };
    // `page` is an int32 in the spec.
    let page = match paging(&filter, "page", 1, i64::from(i32::MAX)) {
        Ok(p) => p,
        Err(e) => return bad_request(&e).authenticated(),
    };
    let size = match paging(&filter, "pageSize", 50, 100) {
        Ok(p) => p,
        Err(e) => return bad_request(&e).authenticated(),
    };
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let items: Vec<Value> = catalogue()
        .into_iter()
        .skip(skip)
        .take(usize::try_from(size).unwrap_or(100))
        .collect();
    ok(Value::Array(items)).authenticated()
}

pub(crate) async fn protected(st: &Inner, ctx: Ctx) -> Reply {
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
pub(crate) async fn customer_get(st: &Inner, ctx: Ctx) -> Reply {
    let v = match bearer(st, &ctx).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let region = match ctx.header("h-region-code").map(str::trim) {
        None | Some("") => v
            .str_claim("region")
            .unwrap_or(&st.cfg.bursagb.default_region)
            .to_owned(),
        Some(r) if r.len() == 2 && r.chars().all(|c| c.is_ascii_alphabetic()) => {
            r.to_ascii_uppercase()
        }
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Invalid h-region-code header",
                CODE_REGION,
            )
            .authenticated();
        }
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
