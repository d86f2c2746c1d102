//! exirom's card payouts (our design, modelled on card payments): `POST /v1/payouts/card`,
//! idempotent by `requestId`, a decimal amount (422 otherwise), answered `PENDING` (then a
//! callback to its `callbackUrl`); and `GET /v1/payouts/card/info/{id}`.

use serde_json::{Value, json};

use super::answers::{bearer_body, validation};
use super::payments::{created, decimal_amount, transaction_info};
use super::stores::{self, Payouts};
use crate::emulation::check::{self, Kind, Rule, STR, str_len};
use crate::http::reply::Reply;
use crate::http::request::Ctx;
use crate::state::Inner;

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

pub(super) async fn card_payout(st: &Inner, ctx: Ctx) -> Reply {
    let body = match bearer_body(st, &ctx).await {
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
    let request_id = field("requestId");
    let amount = field("amount");
    let outcome = st.store::<Payouts>().0.create(
        request_id,
        Value::Object(body.clone()),
        || decimal_amount(amount),
        || {
            let transaction_id = st.next_id("txn_");
            let answer = json!({
                "transactionId": transaction_id,
                "requestId": request_id,
                "transactionStatus": "PENDING",
                "amount": amount,
                "currency": field("currency"),
            });
            (transaction_id, answer)
        },
    );
    created(st, stores::Kind::Payout, request_id, outcome)
}

/// `GET /v1/payouts/card/info/{id}`.
pub(super) async fn card_payout_info(st: &Inner, ctx: Ctx) -> Reply {
    let store = st.store::<Payouts>();
    transaction_info(st, &ctx, &store.0, "Transaction not found", |p| p.answer).await
}
