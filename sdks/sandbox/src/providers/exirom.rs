//! exirom: `POST {base}/v1/auth` with `{merchantKey, merchantSecret}` → HS256 JWT (30 days).
//! Errors: `{"message": str, "errors": [{"field", "message"}]}`.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::check::{self, Kind, Rule, STR, str_len};
use super::{Bearer, Ctx, Reply, str_field};
use crate::jwt::{TokenError, Verified};
use crate::resources::{MAX_PER_KIND, Payment};
use crate::state::{Inner, lock};
use crate::types::{Provider, Variant};

const ISSUER: &str = "https://sandbox.api.exirom.com";

pub(crate) fn error(status: StatusCode, message: &str, errors: Vec<(String, String)>) -> Reply {
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|(field, message)| json!({"field": field, "message": message}))
        .collect();
    Reply::json(status, json!({"message": message, "errors": errors}))
}

fn validation(errors: Vec<(String, String)>) -> Reply {
    error(StatusCode::BAD_REQUEST, "Validation failed", errors)
}

pub(crate) async fn login(st: &Inner, ctx: Ctx) -> Reply {
    if !ctx.is_json() {
        return validation(vec![(
            "Content-Type".into(),
            "must be application/json".into(),
        )]);
    }
    let body = match ctx.json() {
        Ok(v) => v,
        Err(e) => return validation(vec![("body".into(), e)]),
    };
    let Some(obj) = body.as_object() else {
        return validation(vec![("body".into(), "must be a JSON object".into())]);
    };
    let mut errors = Vec::new();
    let mut field = |name: &str| match str_field(obj, name) {
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
    let ok = st.with_accounts(|a| a.exirom_key == key && a.exirom_secret == secret);
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
            st.cfg.exirom.token_lifetime,
            ctx.token_mode,
            extra,
        )
        .await;
    let body = match st.exirom_variant() {
        Variant::ExiromObject => json!({"merchantKey": key, "token": t.token}),
        _ => Value::String(t.token),
    };
    Reply::ok(body).login(&key)
}

/// The bearer check every exirom operation makes.
async fn bearer(st: &Inner, ctx: &Ctx) -> Result<Verified, Reply> {
    let token = match ctx.bearer() {
        Bearer::Token(t) => t,
        Bearer::Missing => return Err(unauthorized("Authorization header is missing")),
        Bearer::OtherScheme => {
            return Err(unauthorized(
                "Authorization header must be 'Bearer {token}'",
            ));
        }
    };
    st.verify(Provider::Exirom, &token, "access")
        .await
        .map_err(|e| match e {
            TokenError::Expired { .. } => unauthorized("Token has expired"),
            TokenError::Revoked => unauthorized("Token has been revoked"),
            TokenError::Missing => unauthorized("Authorization header is missing"),
            TokenError::Invalid(_) => unauthorized("Invalid token"),
        })
}

pub(crate) async fn protected(st: &Inner, ctx: Ctx) -> Reply {
    match bearer(st, &ctx).await {
        Ok(v) => {
            Reply::ok(json!({"ok": true, "sub": v.sub(), "provider": "exirom"})).authenticated()
        }
        Err(r) => r,
    }
}

const PAYMENT_RULES: &[Rule] = &[
    ("requestId", str_len(1, 64), true),
    ("mid", str_len(1, usize::MAX), true),
    ("amount", str_len(1, usize::MAX), true),
    ("currency", str_len(3, 3), true),
    ("card", Kind::Object, true),
    ("billingDetails", Kind::Object, true),
    ("order", Kind::Object, true),
    ("device", Kind::Object, true),
    ("lang", STR, false),
    ("callbackUrl", STR, false),
    ("successRedirectUrl", STR, false),
    ("failureRedirectUrl", STR, false),
    ("kycVerified", Kind::Bool, false),
    (
        "previousPaymentCount",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
        false,
    ),
    ("metadata", Kind::StringMap, false),
];

const CARD_RULES: &[Rule] = &[
    ("number", str_len(12, 19), true),
    ("expiryMonth", str_len(1, 2), true),
    ("expiryYear", str_len(2, 4), true),
    ("cvv", str_len(3, 4), true),
    ("holderName", STR, false),
];

const BILLING_RULES: &[Rule] = &[
    ("firstName", STR, false),
    ("lastName", STR, false),
    ("email", STR, false),
    ("country", STR, false),
    ("city", STR, false),
    ("address", STR, false),
    ("postalCode", STR, false),
    ("phone", STR, false),
];

const ORDER_RULES: &[Rule] = &[("description", STR, false)];
const DEVICE_RULES: &[Rule] = &[("ipAddress", STR, false), ("userAgent", STR, false)];

/// Every schema rule of a card payment, nested objects included.
fn check_payment(obj: &Map<String, Value>) -> Result<(), (String, String)> {
    check::fields(obj, PAYMENT_RULES)?;
    for (name, rules) in [
        ("card", CARD_RULES),
        ("billingDetails", BILLING_RULES),
        ("order", ORDER_RULES),
        ("device", DEVICE_RULES),
    ] {
        if let Some(inner) = check::object(obj, name) {
            check::fields(inner, rules).map_err(|(f, m)| (format!("{name}.{f}"), m))?;
        }
    }
    Ok(())
}

/// `"10.00"`: digits, optionally a dot and one or two digits.
fn is_decimal_amount(s: &str) -> bool {
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    !whole.is_empty()
        && whole.len() <= 15
        && whole.bytes().all(|b| b.is_ascii_digit())
        && (1..=2).contains(&frac.len())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) async fn card_payment(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = bearer(st, &ctx).await {
        return r;
    }
    if !ctx.is_json() {
        return validation(vec![(
            "Content-Type".into(),
            "must be application/json".into(),
        )])
        .authenticated();
    }
    let body = match ctx.json() {
        Ok(Value::Object(o)) => o,
        Ok(_) => {
            return validation(vec![("body".into(), "must be a JSON object".into())])
                .authenticated();
        }
        Err(e) => return validation(vec![("body".into(), e)]).authenticated(),
    };
    if let Err(e) = check_payment(&body) {
        return validation(vec![e]).authenticated();
    }
    let field = |n: &str| body.get(n).and_then(Value::as_str).unwrap_or_default();
    let request_id = field("requestId").to_owned();
    let amount = field("amount").to_owned();
    let currency = field("currency").to_owned();
    let request = Value::Object(body.clone());
    let res = &st.resources;
    let mut payments = lock(&res.payments);
    if let Some(existing) = payments.get(&request_id) {
        // The provider's idempotency: same request → the original answer.
        return if existing.request == request {
            Reply::ok(existing.answer.clone()).authenticated()
        } else {
            error(
                StatusCode::CONFLICT,
                "requestId already used for a different request",
                Vec::new(),
            )
            .authenticated()
        };
    }
    if !is_decimal_amount(&amount) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "amount must be a decimal string such as 10.00",
            vec![("amount".into(), "not a decimal amount".into())],
        )
        .authenticated();
    }
    if payments.len() >= MAX_PER_KIND {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
            Vec::new(),
        )
        .authenticated();
    }
    let transaction_id = res.next_id("txn_");
    let number = check::object(&body, "card")
        .and_then(|c| c.get("number"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut answer = json!({
        "transactionId": transaction_id,
        "requestId": request_id,
        "amount": amount,
        "currency": currency,
    });
    // Test cards: …0002 is declined (still a 200), …3220 asks for 3-D Secure.
    let status = if number.ends_with("0002") {
        answer["declineCode"] = json!("05");
        "DECLINED"
    } else if number.ends_with("3220") {
        answer["challengeUrl"] = json!(format!(
            "https://sandbox.api.exirom.com/3ds/challenge/{transaction_id}"
        ));
        "CUSTOMER_VERIFICATION"
    } else {
        "APPROVED"
    };
    answer["transactionStatus"] = json!(status);
    payments.insert(
        request_id.clone(),
        Payment {
            request,
            answer: answer.clone(),
        },
    );
    drop(payments);
    lock(&res.payment_ids).insert(transaction_id, request_id);
    res.count_created(Provider::Exirom);
    Reply::ok(answer).authenticated()
}

pub(crate) async fn card_payment_status(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = bearer(st, &ctx).await {
        return r;
    }
    let id = ctx.last_segment();
    match st.resources.payment_by_transaction(&id) {
        Some(p) => {
            let mut status = json!({
                "transactionId": p.answer["transactionId"],
                "transactionStatus": p.answer["transactionStatus"],
            });
            if let Some(code) = p.answer.get("declineCode") {
                status["declineCode"] = code.clone();
            }
            Reply::ok(status).authenticated()
        }
        None => error(StatusCode::NOT_FOUND, "Payment not found", Vec::new()).authenticated(),
    }
}

/// A signed callback for the payment `transaction_id`: its JSON body and
/// the `X-Checksum` header (Base64 HMAC-SHA256 with the merchant secret
/// over `accountId|amount|currency|requestId`).
pub(crate) fn callback(st: &Inner, transaction_id: &str) -> Option<(Vec<u8>, String)> {
    let p = st.resources.payment_by_transaction(transaction_id)?;
    let account_id = p.request.get("mid")?.as_str()?.to_owned();
    let body = json!({
        "accountId": account_id,
        "requestId": p.answer["requestId"],
        "transactionId": p.answer["transactionId"],
        "transactionStatus": p.answer["transactionStatus"],
        "amount": p.answer["amount"],
        "currency": p.answer["currency"],
    });
    let text = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
    let message = [
        text("accountId"),
        text("amount"),
        text("currency"),
        text("requestId"),
    ]
    .join("|");
    let secret = st.with_accounts(|a| a.exirom_secret.clone());
    let checksum = crate::signatures::hmac_base64(secret.as_bytes(), message.as_bytes());
    Some((body.to_string().into_bytes(), checksum))
}

fn unauthorized(message: &str) -> Reply {
    error(StatusCode::UNAUTHORIZED, message, Vec::new())
}

const APM_RULES: &[Rule] = &[
    ("requestId", str_len(1, 64), true),
    ("accountId", str_len(1, usize::MAX), true),
    ("currency", str_len(3, 3), true),
    ("paymentMethod", str_len(1, usize::MAX), true),
    ("callbackUrl", STR, false),
    ("checksum", STR, false),
];

/// `POST /v1/payments/apm`: bearer, then `checksum` = Base64(HMAC-SHA256(merchant secret,
/// `accountId|amount|currency|requestId`)) over the amount as the body writes it (decimal
/// string or integer minor units). Missing checksum → 400, wrong → 403. `requestId` is
/// idempotent like card payments.
pub(crate) async fn apm_payment(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = bearer(st, &ctx).await {
        return r;
    }
    if !ctx.is_json() {
        return validation(vec![(
            "Content-Type".into(),
            "must be application/json".into(),
        )])
        .authenticated();
    }
    let body = match ctx.json() {
        Ok(Value::Object(o)) => o,
        Ok(_) => {
            return validation(vec![("body".into(), "must be a JSON object".into())])
                .authenticated();
        }
        Err(e) => return validation(vec![("body".into(), e)]).authenticated(),
    };
    if let Err(e) = check::fields(&body, APM_RULES) {
        return validation(vec![e]).authenticated();
    }
    let amount = match body.get("amount") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|v| v >= 1 && v <= i64::MAX as u64) => {
            n.to_string()
        }
        None => return validation(vec![("amount".into(), "is required".into())]).authenticated(),
        Some(_) => {
            return validation(vec![(
                "amount".into(),
                "must be a decimal string or an integer of minor units >= 1".into(),
            )])
            .authenticated();
        }
    };
    let field = |n: &str| body.get(n).and_then(Value::as_str).unwrap_or_default();
    let Some(checksum) = body.get("checksum").and_then(Value::as_str) else {
        return validation(vec![("checksum".into(), "is required".into())]).authenticated();
    };
    let message = [
        field("accountId"),
        &amount,
        field("currency"),
        field("requestId"),
    ]
    .join("|");
    let secret = st.with_accounts(|a| a.exirom_secret.clone());
    let expected = crate::signatures::hmac_base64(secret.as_bytes(), message.as_bytes());
    if !crate::signatures::ct_eq(expected.as_bytes(), checksum.as_bytes()) {
        return error(StatusCode::FORBIDDEN, "Invalid checksum", Vec::new()).authenticated();
    }
    let request_id = field("requestId").to_owned();
    let request = Value::Object(body.clone());
    let res = &st.resources;
    let mut payments = lock(&res.payments);
    if let Some(existing) = payments.get(&request_id) {
        return if existing.request == request {
            Reply::ok(existing.answer.clone()).authenticated()
        } else {
            error(
                StatusCode::CONFLICT,
                "requestId already used for a different request",
                Vec::new(),
            )
            .authenticated()
        };
    }
    if payments.len() >= MAX_PER_KIND {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
            Vec::new(),
        )
        .authenticated();
    }
    let transaction_id = res.next_id("txn_");
    let answer = json!({
        "transactionId": transaction_id,
        "requestId": request_id,
        "transactionStatus": "PENDING",
        "redirectUrl": format!("https://sandbox.api.exirom.com/apm/redirect/{transaction_id}"),
    });
    payments.insert(
        request_id.clone(),
        Payment {
            request,
            answer: answer.clone(),
        },
    );
    drop(payments);
    lock(&res.payment_ids).insert(transaction_id, request_id);
    res.count_created(Provider::Exirom);
    Reply::ok(answer).authenticated()
}

const PAYOUT_RULES: &[Rule] = &[
    ("requestId", str_len(1, 64), true),
    ("mid", str_len(1, usize::MAX), true),
    ("amount", str_len(1, usize::MAX), true),
    ("currency", str_len(3, 3), true),
    ("card", Kind::Object, true),
    ("callbackUrl", STR, false),
];

const PAYOUT_CARD_RULES: &[Rule] = &[
    ("number", str_len(12, 19), true),
    ("expiryMonth", str_len(1, 2), true),
    ("expiryYear", str_len(2, 4), true),
    ("holderName", STR, false),
];

/// A JSON object body of an authenticated call, or the 400 to answer.
fn json_body(ctx: &Ctx) -> Result<Map<String, Value>, Reply> {
    if !ctx.is_json() {
        return Err(validation(vec![(
            "Content-Type".into(),
            "must be application/json".into(),
        )])
        .authenticated());
    }
    match ctx.json() {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => {
            Err(validation(vec![("body".into(), "must be a JSON object".into())]).authenticated())
        }
        Err(e) => Err(validation(vec![("body".into(), e)]).authenticated()),
    }
}

/// `POST /v1/payouts/card` (our design, modelled on card payments): the
/// same idempotency by `requestId`, a decimal amount (422 otherwise); the
/// sandbox answers `PENDING`.
pub(crate) async fn card_payout(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = bearer(st, &ctx).await {
        return r;
    }
    let body = match json_body(&ctx) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(e) = check::fields(&body, PAYOUT_RULES).and_then(|()| {
        check::object(&body, "card").map_or(Ok(()), |card| {
            check::fields(card, PAYOUT_CARD_RULES).map_err(|(f, m)| (format!("card.{f}"), m))
        })
    }) {
        return validation(vec![e]).authenticated();
    }
    let field = |n: &str| body.get(n).and_then(Value::as_str).unwrap_or_default();
    let request_id = field("requestId").to_owned();
    let amount = field("amount").to_owned();
    let request = Value::Object(body.clone());
    let res = &st.resources;
    let mut payouts = lock(&res.payouts);
    if let Some(existing) = payouts.get(&request_id) {
        return if existing.request == request {
            Reply::ok(existing.answer.clone()).authenticated()
        } else {
            error(
                StatusCode::CONFLICT,
                "requestId already used for a different request",
                Vec::new(),
            )
            .authenticated()
        };
    }
    if !is_decimal_amount(&amount) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "amount must be a decimal string such as 10.00",
            vec![("amount".into(), "not a decimal amount".into())],
        )
        .authenticated();
    }
    if payouts.len() >= MAX_PER_KIND {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
            Vec::new(),
        )
        .authenticated();
    }
    let transaction_id = res.next_id("txn_");
    let answer = json!({
        "transactionId": transaction_id,
        "requestId": request_id,
        "transactionStatus": "PENDING",
        "amount": amount,
        "currency": field("currency"),
    });
    payouts.insert(
        request_id.clone(),
        Payment {
            request,
            answer: answer.clone(),
        },
    );
    drop(payouts);
    lock(&res.payout_ids).insert(transaction_id, request_id);
    res.count_created(Provider::Exirom);
    Reply::ok(answer).authenticated()
}

/// `GET /v1/payouts/card/info/{id}`.
pub(crate) async fn card_payout_info(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = bearer(st, &ctx).await {
        return r;
    }
    match st.resources.payout_by_transaction(&ctx.last_segment()) {
        Some(p) => Reply::ok(p.answer).authenticated(),
        None => error(StatusCode::NOT_FOUND, "Transaction not found", Vec::new()).authenticated(),
    }
}

/// `GET /v1/payments/apm/info/{id}`: an APM payment (not a card payment).
pub(crate) async fn apm_payment_info(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = bearer(st, &ctx).await {
        return r;
    }
    let apm = st
        .resources
        .payment_by_transaction(&ctx.last_segment())
        .filter(|p| p.request.get("paymentMethod").is_some());
    match apm {
        Some(p) => {
            let amount = match p.request.get("amount") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            Reply::ok(json!({
                "transactionId": p.answer["transactionId"],
                "requestId": p.answer["requestId"],
                "transactionStatus": p.answer["transactionStatus"],
                "amount": amount,
                "currency": p.request.get("currency").cloned().unwrap_or(json!("")),
            }))
            .authenticated()
        }
        None => error(StatusCode::NOT_FOUND, "Transaction not found", Vec::new()).authenticated(),
    }
}
