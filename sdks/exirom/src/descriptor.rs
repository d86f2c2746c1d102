//! Exirom as tools see it (`payauth`, the demo, the workspace's tests):
//! see [`payauth_runtime::descriptor`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use payauth_runtime::descriptor::{
    About, Answered, Call, CallAuth, CallbackEvent, Callbacks, Described, Descriptor, Lifetimes,
    TriggerRequest, Triggered, Values, Variable, Verifier, answered, unknown_call, variable,
};
use payauth_runtime::provider::BoxFuture;
use payauth_runtime::provider::signing::CallbackError;
use payauth_runtime::{Error, Secret};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::{CallbackVerifier, Client, Exirom, types};

const NAME: &str = "exirom";

const CARD_PAYMENT: Call = Call {
    operation: "create_card_payment",
    method: "POST",
    path: "/v1/payments/card",
    auth: CallAuth::Bearer,
    // `requestId` is an idempotency key.
    retry_safe: true,
    needs: None,
};

/// Exirom, described.
pub static DESCRIPTOR: Descriptor = Descriptor::of::<Exirom>(About {
    mechanism: "merchant key + secret → 30-day JWT, sent as Bearer",
    variables: &[
        Variable::required("MERCHANT_KEY", "merchant key (from the Exirom admin team)")
            .sandbox("merchant_key"),
        Variable::required("MERCHANT_SECRET", "merchant secret")
            .secret()
            .sandbox("merchant_secret"),
        Variable::optional(
            "EXIROM_CHECKSUM_SECRET",
            "checksum and callback secret, when it is not the merchant secret",
        )
        .secret(),
    ],
    lifetimes: Lifetimes {
        access: Some(Duration::from_secs(30 * 24 * 3600)),
        refresh: None,
        expiry_from: "the JWT's exp",
    },
    // Every read-only call names a payment: none fits a credentials check.
    probe: None,
    example: CARD_PAYMENT,
    login_page_call: None,
    callbacks: Some(Callbacks {
        verifier: Some(Verifier {
            signature: "`X-Checksum`",
            secret_variables: &["EXIROM_CHECKSUM_SECRET", "MERCHANT_SECRET"],
            verify,
        }),
        events: &[
            CallbackEvent::new("payment", "a card payment (its status callback)")
                .statuses(STATUSES),
            CallbackEvent::new("apm", "an APM payment (its callback carries the accountId)")
                .statuses(STATUSES),
            CallbackEvent::new("payout", "a card payout").statuses(STATUSES),
        ],
        sandbox_signing: &[],
    }),
});

/// Statuses a transaction may be moved to (a second callback).
const STATUSES: &[&str] = &["APPROVED", "DECLINED"];

/// A callback's facts, its unsigned fields named so.
fn verify(
    secret: Secret,
    body: &[u8],
    headers: &HeaderMap,
    now: SystemTime,
) -> Result<Value, CallbackError> {
    CallbackVerifier::new(secret)
        .verify(body, headers, now)
        .map(|c| {
            json!({
                "request_id": c.request_id,
                "transaction_id_unsigned": c.transaction_id.unverified(),
                "transaction_status_unsigned": c.transaction_status.unverified(),
                "amount": c.amount,
                "currency": c.currency,
            })
        })
}

/// A request body from JSON (the shapes are the spec's).
fn typed<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Error> {
    serde_json::from_value(value)
        .map_err(|e| Error::config(NAME, format!("the trigger's request is not valid: {e}")))
}

/// `(transactionId, transactionStatus)` of a new card payment, APM payment
/// or card payout calling back `request.callback_url`.
async fn trigger(client: &Client, request: TriggerRequest<'_>) -> Result<Triggered, Error> {
    let url = request.callback_url;
    let request_id = format!("payauth-{}", request.nonce);
    let card = json!({"number": "4111111111111111", "expiryMonth": "12", "expiryYear": "2030", "cvv": "123"});
    let info = match request.event.name {
        "payment" => {
            let body = typed::<types::CardPaymentRequest>(json!({
                "requestId": request_id, "mid": "mid_payauth", "amount": "10.00",
                "currency": "EUR", "card": card, "billingDetails": {}, "order": {},
                "device": {}, "callbackUrl": url
            }))?;
            let r = client.create_card_payment().body(body).send().await;
            let r = r.map_err(|e| e.into_error())?.into_inner();
            (r.transaction_id, r.transaction_status)
        }
        "apm" => {
            let body = typed::<types::ApmPaymentRequest>(json!({
                "requestId": request_id, "accountId": "acc_payauth", "amount": "10.00",
                "currency": "EUR", "paymentMethod": "SEPA", "checksum": "computed by the SDK",
                "callbackUrl": url
            }))?;
            let r = client.create_apm_payment().body(body).send().await;
            let r = r.map_err(|e| e.into_error())?.into_inner();
            (r.transaction_id, r.transaction_status)
        }
        "payout" => {
            let mut card = card;
            card.as_object_mut().map(|c| c.remove("cvv"));
            let body = typed::<types::CardPayoutRequest>(json!({
                "requestId": request_id, "mid": "mid_payauth", "amount": "10.00",
                "currency": "EUR", "card": card, "callbackUrl": url
            }))?;
            let r = client.create_card_payout().body(body).send().await;
            let r = r.map_err(|e| e.into_error())?.into_inner();
            (r.transaction_id, r.transaction_status)
        }
        other => {
            return Err(Error::config(NAME, format!("no callback event `{other}`")));
        }
    };
    Ok(Triggered {
        object: info.0,
        status: info.1,
    })
}

impl Described for Exirom {
    type Api = crate::generated::Client;

    fn run<'a>(
        client: &'a Client,
        call: &'a Call,
        _values: &'a Values,
    ) -> BoxFuture<'a, Result<Answered, Error>> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        Box::pin(async move {
            match call.operation {
                "create_card_payment" => {
                    let n = SEQ.fetch_add(1, Ordering::Relaxed);
                    let body =
                        serde_json::from_value::<types::CardPaymentRequest>(serde_json::json!({
                            "requestId": format!("sample-{}-{n}", std::process::id()),
                            "mid": "mid_sample", "amount": "10.00", "currency": "EUR",
                            "card": {"number": "4111111111111111", "expiryMonth": "12",
                                     "expiryYear": "2030", "cvv": "123"},
                            "billingDetails": {}, "order": {}, "device": {}
                        }))
                        .map_err(|_| Error::config(NAME, "the sample payment is not valid"))?;
                    answered(client.create_card_payment().body(body).send().await)
                }
                _ => Err(unknown_call(NAME, call)),
            }
        })
    }

    fn login_request(
        http: &reqwest::Client,
        base_url: &str,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let var = |k: &str| variable(NAME, get, k);
        Ok(http
            .post(format!("{base_url}/v1/auth"))
            .json(&serde_json::json!({
                "merchantKey": var("MERCHANT_KEY")?,
                "merchantSecret": var("MERCHANT_SECRET")?,
            })))
    }

    fn trigger<'a>(
        client: &'a Client,
        request: TriggerRequest<'a>,
    ) -> BoxFuture<'a, Result<Triggered, Error>> {
        Box::pin(trigger(client, request))
    }
}
