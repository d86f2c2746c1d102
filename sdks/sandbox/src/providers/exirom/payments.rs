//! exirom's payments: card payments (`POST /v1/payments/card`, its status) and APM payments
//! (`POST /v1/payments/apm`, checksummed; its info). Each is idempotent by `requestId`: the
//! same request again gets the original answer, the id with another request is a 409. A
//! new one calls back its `callbackUrl` (`callbacks.rs`).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::answers::{bearer, bearer_body, error, validation};
use super::callbacks::notify;
use super::config::ExiromConfig;
use super::stores::{self, ApmPayments, CardPayments};
use crate::emulation::check::{self, Kind, Rule, STR, str_len};
use crate::emulation::idempotency::{Created, IdempotentStore, Record};
use crate::http::reply::Reply;
use crate::http::request::Ctx;
use crate::provider::Provider;
use crate::signatures::{ct_eq, hmac_base64};
use crate::state::Inner;

/// The answer to an idempotent creation of a `kind` object under `request_id`: 200 with the
/// (original) answer, or the error. A new object calls back its `callbackUrl`.
pub(super) fn created(
    st: &Inner,
    kind: stores::Kind,
    request_id: &str,
    outcome: Created<Reply>,
) -> Reply {
    match outcome {
        Created::New(answer) => {
            st.count_created(Provider::Exirom);
            let id = answer["transactionId"].as_str().unwrap_or_default();
            let reply = Reply::ok(answer.clone()).decided(format!("created {id}"));
            if let Some(record) = kind.by_key(st, request_id) {
                notify(st, kind, &record);
            }
            reply
        }
        Created::Replayed(answer) => Reply::ok(answer).decided("replayed requestId"),
        Created::Conflict => error(
            StatusCode::CONFLICT,
            "requestId already used for a different request",
            Vec::new(),
        )
        .decided("requestId reused for another request"),
        Created::Full => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
            Vec::new(),
        ),
        Created::Refused(reply) => reply,
    }
    .authenticated()
}

/// A decimal amount in major units, as the spec writes it (`"10.00"`): digits, optionally
/// a dot and at least one digit. Zeros past the cent are accepted (`"10.000"` is ten); a
/// fraction finer than a cent (`"10.001"`) is not (our assumption, in the spec).
pub(super) fn is_decimal_amount(s: &str) -> bool {
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    // Bytes, not chars: any input splits safely.
    let (cents, beyond) = frac.as_bytes().split_at(frac.len().min(2));
    !whole.is_empty()
        && whole.len() <= 15
        && whole.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && cents.iter().all(u8::is_ascii_digit)
        && beyond.iter().all(|b| *b == b'0')
}

/// The 422 of an amount that is not a decimal string.
pub(super) fn decimal_amount(amount: &str) -> Result<(), Reply> {
    if is_decimal_amount(amount) {
        return Ok(());
    }
    Err(error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "amount must be a decimal string such as 10.00",
        vec![("amount".into(), "not a decimal amount".into())],
    ))
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

fn text<'a>(body: &'a Map<String, Value>, name: &str) -> &'a str {
    body.get(name).and_then(Value::as_str).unwrap_or_default()
}

pub(super) async fn card_payment(st: &Inner, ctx: Ctx) -> Reply {
    let body = match bearer_body(st, &ctx).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(e) = check_payment(&body) {
        return validation(vec![e]).authenticated();
    }
    let request_id = text(&body, "requestId");
    let amount = text(&body, "amount");
    let number = check::object(&body, "card")
        .and_then(|c| c.get("number"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let outcome = st.store::<CardPayments>().0.create(
        request_id,
        Value::Object(body.clone()),
        || decimal_amount(amount),
        || {
            let transaction_id = st.next_id("txn_");
            let mut answer = json!({
                "transactionId": transaction_id,
                "requestId": request_id,
                "amount": amount,
                "currency": text(&body, "currency"),
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
            (transaction_id, answer)
        },
    );
    created(st, stores::Kind::Card, request_id, outcome)
}

/// `GET …/{id}` (bearer): the transaction `store` keeps under the path's
/// last segment, as `answer` shows it; else the provider's 404, `missing`.
pub(super) async fn transaction_info(
    st: &Inner,
    ctx: &Ctx,
    store: &IdempotentStore,
    missing: &str,
    answer: impl FnOnce(Record) -> Value,
) -> Reply {
    if let Err(r) = bearer(st, ctx).await {
        return r;
    }
    match store.by_id(&ctx.last_segment()) {
        Some(p) => Reply::ok(answer(p)).authenticated(),
        None => error(StatusCode::NOT_FOUND, missing, Vec::new()).authenticated(),
    }
}

pub(super) async fn card_payment_status(st: &Inner, ctx: Ctx) -> Reply {
    let store = st.store::<CardPayments>();
    transaction_info(st, &ctx, &store.0, "Payment not found", |p| {
        let mut status = json!({
            "transactionId": p.answer["transactionId"],
            "transactionStatus": p.answer["transactionStatus"],
        });
        if let Some(code) = p.answer.get("declineCode") {
            status["declineCode"] = code.clone();
        }
        status
    })
    .await
}

const APM_RULES: &[Rule] = &[
    ("requestId", str_len(1, 64), true),
    ("accountId", str_len(1, usize::MAX), true),
    ("currency", str_len(3, 3), true),
    ("paymentMethod", str_len(1, usize::MAX), true),
    ("callbackUrl", STR, false),
    ("checksum", STR, false),
];

/// `accountId|amount|currency|requestId`, signed with the merchant secret.
fn checksum(
    st: &Inner,
    account_id: &str,
    amount: &str,
    currency: &str,
    request_id: &str,
) -> String {
    let message = [account_id, amount, currency, request_id].join("|");
    let secret = st.live(|c: &ExiromConfig| c.merchant_secret.clone());
    hmac_base64(secret.as_bytes(), message.as_bytes())
}

/// `POST /v1/payments/apm`: bearer, then `checksum` = Base64(HMAC-SHA256(merchant secret,
/// `accountId|amount|currency|requestId`)) over the amount as the body writes it (decimal
/// string or integer minor units). Missing checksum → 400, wrong → 403. `requestId` is
/// idempotent like card payments.
pub(super) async fn apm_payment(st: &Inner, ctx: Ctx) -> Reply {
    let body = match bearer_body(st, &ctx).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(e) = check::fields(&body, APM_RULES) {
        return validation(vec![e]).authenticated();
    }
    // A decimal string (checked like a card payment's, 422) or integer minor units >= 1.
    let (amount, decimal) = match body.get("amount") {
        Some(Value::String(s)) if !s.is_empty() => (s.clone(), true),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|v| v >= 1 && v <= i64::MAX as u64) => {
            (n.to_string(), false)
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
    let Some(given) = body.get("checksum").and_then(Value::as_str) else {
        return validation(vec![("checksum".into(), "is required".into())]).authenticated();
    };
    let request_id = text(&body, "requestId");
    let expected = checksum(
        st,
        text(&body, "accountId"),
        &amount,
        text(&body, "currency"),
        request_id,
    );
    if !ct_eq(expected.as_bytes(), given.as_bytes()) {
        return error(StatusCode::FORBIDDEN, "Invalid checksum", Vec::new())
            .decided("invalid checksum")
            .authenticated();
    }
    let outcome = st.store::<ApmPayments>().0.create(
        request_id,
        Value::Object(body.clone()),
        || {
            if decimal {
                decimal_amount(&amount)
            } else {
                Ok(())
            }
        },
        || {
            let transaction_id = st.next_id("txn_");
            let answer = json!({
                "transactionId": transaction_id,
                "requestId": request_id,
                "transactionStatus": "PENDING",
                "redirectUrl": format!("https://sandbox.api.exirom.com/apm/redirect/{transaction_id}"),
            });
            (transaction_id, answer)
        },
    );
    created(st, stores::Kind::Apm, request_id, outcome)
}

/// `GET /v1/payments/apm/info/{id}`: an APM payment.
pub(super) async fn apm_payment_info(st: &Inner, ctx: Ctx) -> Reply {
    let store = st.store::<ApmPayments>();
    transaction_info(st, &ctx, &store.0, "Transaction not found", |p| {
        let amount = match p.request.get("amount") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        json!({
            "transactionId": p.answer["transactionId"],
            "requestId": p.answer["requestId"],
            "transactionStatus": p.answer["transactionStatus"],
            "amount": amount,
            "currency": p.request.get("currency").cloned().unwrap_or(json!("")),
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::is_decimal_amount;

    #[test]
    fn decimal_amounts_as_the_spec_writes_them() {
        for ok in [
            "10.00",
            "10",
            "0.5",
            "10.000",
            "10.5000",
            "999999999999999.99",
        ] {
            assert!(is_decimal_amount(ok), "{ok}");
        }
        for bad in [
            "",
            "abc",
            "-1",
            "+1",
            "1e3",
            "10.",
            ".5",
            "10.001",
            "1.2.3",
            " 1",
            "1,00",
            "1000000000000000",
            "1.é",
            "1.aé",
            "١٢",
        ] {
            assert!(!is_decimal_amount(bad), "{bad}");
        }
    }

    proptest! {
        /// Whatever the client sends as an amount, the check answers (no panic), and
        /// what it accepts is digits, a dot, digits.
        #[test]
        fn any_amount_is_judged_without_panicking(s in "\\PC{0,24}") {
            if is_decimal_amount(&s) {
                prop_assert!(s.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
            }
        }

        #[test]
        fn two_decimal_amounts_are_accepted(whole in 0u64..1_000_000_000_000, cents in 0u8..100) {
            let two = format!("{whole}.{cents:02}");
            prop_assert!(is_decimal_amount(&two));
            let padded = format!("{two}000");
            prop_assert!(is_decimal_amount(&padded));
        }
    }
}
