//! axept Cloud Connect: `POST {base}/api/authenticate` with `{merchantId: int, keyId: int,
//! key: str}` → HS256 token (30 min) as `{token, expiresAt}` or `{Token, ExpiresAt}`.
//! Errors: `{"message": str}` (400 malformed, 401 wrong merchantId/keyId/key).

use axum::http::{StatusCode, header};
use serde_json::{Map, Value, json};

use super::check::{self, Kind, Rule, STR, str_len};
use super::{Bearer, Ctx, Reply};
use crate::jwt::TokenError;
use crate::resources::MAX_PER_KIND;
use crate::state::{Inner, lock, rfc3339_secs};
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

/// The bearer check of every axept operation.
async fn bearer(st: &Inner, ctx: &Ctx) -> Result<(), Reply> {
    match protected(
        st,
        Ctx {
            uri: ctx.uri.clone(),
            headers: ctx.headers.clone(),
            body: bytes::Bytes::new(),
            token_mode: ctx.token_mode,
        },
    )
    .await
    {
        r if r.status.is_success() => Ok(()),
        r => Err(r),
    }
}

const START_RULES: &[Rule] = &[
    ("uti", str_len(36, 36), true),
    ("webHookUrl", str_len(0, 250), false),
    ("tid", STR, false),
    ("expirationDate", STR, false),
    ("reference", str_len(0, 50), false),
    ("transType", STR, false),
    (
        "amountTrans",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
        false,
    ),
    (
        "amountGratuity",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
        false,
    ),
    ("posSignatureCheck", Kind::Bool, false),
];

/// The page's rules beyond type and length (FACTS): `uti` a GUID,
/// `webHookUrl` https, `reference` alphanumeric, `expirationDate` a UTC
/// ISO 8601 time in the future and at most 365 days ahead.
fn start_rules(st: &Inner, body: &Map<String, Value>) -> Result<(), (&'static str, String)> {
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    if let Some(uti) = text("uti")
        && !is_guid(uti)
    {
        return Err(("uti", "The uti must be a GUID.".into()));
    }
    if let Some(url) = text("webHookUrl")
        && !url.starts_with("https://")
    {
        return Err(("webHookUrl", "The webHookUrl must use https.".into()));
    }
    if let Some(reference) = text("reference")
        && !reference.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(("reference", "The reference must be alphanumeric.".into()));
    }
    if let Some(date) = text("expirationDate") {
        let Ok(at) = chrono::DateTime::parse_from_rfc3339(date) else {
            return Err((
                "expirationDate",
                "The expirationDate must be a UTC ISO 8601 date-time.".into(),
            ));
        };
        let now = st.now();
        if at <= now {
            return Err((
                "expirationDate",
                "The expirationDate must be in the future.".into(),
            ));
        }
        if at > now + chrono::Duration::days(365) {
            return Err((
                "expirationDate",
                "The expirationDate must be at most 365 days ahead.".into(),
            ));
        }
    }
    Ok(())
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `POST /transaction`: stores the transaction under its `uti` (the same
/// request again → the same answer; a reused `uti` with another body → 409). The sandbox completes it at once: `Complete`, approved.
pub(crate) async fn transaction_start(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = bearer(st, &ctx).await {
        return r;
    }
    if !ctx.is_json() {
        return bad_request("Content-Type must be application/json").authenticated();
    }
    let body = match ctx.json() {
        Ok(Value::Object(o)) => o,
        Ok(_) => return bad_request("The request body must be a JSON object.").authenticated(),
        Err(e) => return bad_request(&e).authenticated(),
    };
    if let Err((field, problem)) = check::fields(&body, START_RULES) {
        return field_error(&field, &format!("The {field} field {problem}.")).authenticated();
    }
    if let Err((field, problem)) = start_rules(st, &body) {
        return field_error(field, &problem).authenticated();
    }
    let uti = body
        .get("uti")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let request = Value::Object(body.clone());
    let mut all = lock(&st.resources.transactions);
    if let Some(existing) = all.get(&uti) {
        let same = lock(&st.resources.transaction_requests).get(&uti) == Some(&request);
        return if same {
            Reply::ok(existing.clone()).authenticated()
        } else {
            error(StatusCode::CONFLICT, "uti already used").authenticated()
        };
    }
    if all.len() >= MAX_PER_KIND {
        return error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable");
    }
    let mut tx = json!({
        "uti": uti,
        "transType": body.get("transType").cloned().unwrap_or(json!("SALE")),
        "transApproved": true,
        "transPartiallyApproved": false,
        "transCancelled": false,
        "status": "Complete",
    });
    for k in ["amountTrans", "reference", "tid"] {
        if let Some(v) = body.get(k) {
            tx[k] = v.clone();
        }
    }
    lock(&st.resources.transaction_requests).insert(uti.clone(), request);
    all.insert(uti, tx.clone());
    drop(all);
    st.resources.count_created(Provider::Axept);
    Reply::ok(tx).authenticated()
}

pub(crate) async fn transaction_get(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = bearer(st, &ctx).await {
        return r;
    }
    let uti = ctx.last_segment();
    match lock(&st.resources.transactions).get(&uti) {
        Some(tx) => Reply::ok(tx.clone()).authenticated(),
        None => error(StatusCode::NOT_FOUND, "Transaction not found").authenticated(),
    }
}

/// `GET /Transaction?PageNumber&PageSize`: a page of every transaction,
/// paging in `X-Pagination`.
pub(crate) async fn transaction_list(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = bearer(st, &ctx).await {
        return r;
    }
    let int = |name: &str, default: i64, max: i64| -> Result<i64, Reply> {
        match ctx.query(name) {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(
                    field_error(name, &format!("The value '{v}' is not valid for {name}."))
                        .authenticated(),
                ),
            },
        }
    };
    let page = match int("PageNumber", 1, i64::from(i32::MAX)) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let size = match int("PageSize", 20, 100) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let all = lock(&st.resources.transactions);
    let total = all.len() as i64;
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let items: Vec<Value> = all
        .values()
        .skip(skip)
        .take(usize::try_from(size).unwrap_or(100))
        .cloned()
        .collect();
    drop(all);
    let paging = json!({
        "totalCount": total,
        "pageSize": size,
        "currentPage": page,
        "totalPages": (total + size - 1) / size,
    });
    Reply::ok(Value::Array(items))
        .header(
            axum::http::HeaderName::from_static("x-pagination"),
            &paging.to_string(),
        )
        .authenticated()
}

/// The transaction the sandbox keeps waiting for a signature decision
/// (the spec's example of `POST /ProcessDecision`).
const SAMPLE_UTI: &str = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";

const DECISION_RULES: &[Rule] = &[
    ("uti", str_len(36, 36), true),
    ("signatureAccepted", Kind::Bool, true),
];

/// `POST /ProcessDecision` (our design): a signature decision for a known
/// transaction; the same decision again is answered again, another one is
/// a 409. A refused signature cancels the transaction.
pub(crate) async fn process_decision(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = bearer(st, &ctx).await {
        return r;
    }
    if !ctx.is_json() {
        return bad_request("Content-Type must be application/json").authenticated();
    }
    let body = match ctx.json() {
        Ok(Value::Object(o)) => o,
        Ok(_) => return bad_request("The request body must be a JSON object.").authenticated(),
        Err(e) => return bad_request(&e).authenticated(),
    };
    if let Err((field, problem)) = check::fields(&body, DECISION_RULES) {
        return field_error(&field, &format!("The {field} field {problem}.")).authenticated();
    }
    let uti = body
        .get("uti")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !is_guid(&uti) {
        return field_error("uti", "The uti must be a GUID.").authenticated();
    }
    let accepted = body
        .get("signatureAccepted")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut transactions = lock(&st.resources.transactions);
    if uti == SAMPLE_UTI {
        transactions.entry(uti.clone()).or_insert_with(|| {
            json!({"uti": SAMPLE_UTI, "transType": "SALE", "transApproved": true,
                   "transPartiallyApproved": false, "transCancelled": false,
                   "status": "Complete", "amountTrans": 3000})
        });
    }
    let Some(tx) = transactions.get_mut(&uti) else {
        return error(StatusCode::NOT_FOUND, "Transaction not found").authenticated();
    };
    let mut decisions = lock(&st.resources.decisions);
    let decision = json!(accepted);
    match decisions.get(&uti) {
        Some(previous) if *previous != decision => {
            return error(StatusCode::CONFLICT, "decision already recorded").authenticated();
        }
        Some(_) => {}
        None => {
            if decisions.len() >= MAX_PER_KIND {
                return error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable");
            }
            decisions.insert(uti.clone(), decision);
            if !accepted {
                tx["transApproved"] = json!(false);
                tx["transCancelled"] = json!(true);
                tx["status"] = json!("Cancelled");
            }
        }
    }
    Reply::ok(json!({
        "uti": uti,
        "signatureAccepted": accepted,
        "status": tx["status"],
    }))
    .authenticated()
}
