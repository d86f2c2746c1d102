//! Exirom as tools see it (`payauth`, the demo, the workspace's tests):
//! see [`payauth_runtime::descriptor`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use payauth_runtime::Error;
use payauth_runtime::descriptor::{
    About, Answered, Call, CallAuth, Described, Descriptor, Lifetimes, Values, Variable, answered,
    unknown_call, variable,
};
use payauth_runtime::provider::BoxFuture;

use crate::{Client, Exirom, types};

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
});

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
}
