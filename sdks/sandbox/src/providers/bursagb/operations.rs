//! bursagb's operations: `POST /Orders/Create` (bearer, scope `orders:write`) and
//! `POST /Supplier/Products/List` (header `ApiKey`).

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::answers::{CODE_API_KEY, CODE_FORBIDDEN, bad_request, bearer, body_error, error, ok};
use super::config::BursagbConfig;
use crate::http::reply::Reply;
use crate::http::request::Ctx;
use crate::jwt::Verified;
use crate::state::Inner;
use crate::time_format::rfc3339_secs;

/// Order numbers (`ord_100001`, …).
#[derive(Debug)]
struct Orders(AtomicU64);

impl Default for Orders {
    fn default() -> Self {
        Orders(AtomicU64::new(100_000))
    }
}

impl Orders {
    fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
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

pub(super) async fn orders_create(st: &Inner, ctx: Ctx) -> Reply {
    let v = match bearer(st, &ctx).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !has_scope(&v, "orders:write") {
        return error(StatusCode::FORBIDDEN, "insufficient scope", CODE_FORBIDDEN);
    }
    let obj = match ctx.json_object() {
        Ok(o) => o,
        Err(e) => return body_error(e).authenticated(),
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
    let id = format!("ord_{}", st.store::<Orders>().next());
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

pub(super) async fn supplier_products(st: &Inner, ctx: Ctx) -> Reply {
    let key_err = |m: &str| error(StatusCode::UNAUTHORIZED, m, CODE_API_KEY);
    let key = match ctx.header("apikey").map(str::trim) {
        Some(k) if !k.is_empty() => k.to_owned(),
        _ => return key_err("ApiKey header is missing"),
    };
    let found = st.live(|c: &BursagbConfig| c.api_keys.iter().find(|k| k.key == key).cloned());
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
    let filter = match ctx.json_object() {
        Ok(o) => o,
        Err(e) => return body_error(e).authenticated(),
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
