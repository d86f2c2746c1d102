//! Pledg as tools see it (`payauth`, the demo, the workspace's tests):
//! see [`payauth_runtime::descriptor`].

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

use crate::{Client, NAME, NotificationVerifier, Pledg, types};

const PURCHASE_LINK: Call = Call {
    operation: "create_purchase_link",
    method: "POST",
    path: "/api/purchase_link/",
    auth: CallAuth::Signed,
    retry_safe: false,
    needs: None,
};

/// Pledg, described.
pub static DESCRIPTOR: Descriptor = Descriptor::of::<Pledg>(About {
    mechanism: "OAuth2 client credentials over Basic → access token, sent as Bearer",
    variables: &[
        Variable::required("PLEDG_API_KEY", "client API key (the Basic user)").sandbox("api_key"),
        Variable::required("PLEDG_API_SECRET", "client API secret (the Basic password)")
            .secret()
            .sandbox("api_secret"),
        Variable::optional(
            "PLEDG_SECRET_KEY",
            "the merchant's secret key: request signatures and notifications",
        )
        .secret()
        .sandbox("secret_key"),
        Variable::optional(
            "PLEDG_DASHBOARD_USER",
            "merchant-dashboard user (HTTP Basic)",
        )
        .sandbox("dashboard_user"),
        Variable::optional(
            "PLEDG_DASHBOARD_PASSWORD",
            "merchant-dashboard password (with PLEDG_DASHBOARD_USER)",
        )
        .secret()
        .sandbox("dashboard_password"),
    ],
    lifetimes: Lifetimes {
        access: Some(Duration::from_secs(600)),
        refresh: None,
        expiry_from: "expires_in (seconds from receipt)",
    },
    // The spec documents no read-only call.
    probe: None,
    example: PURCHASE_LINK,
    login_page_call: None,
    callbacks: Some(Callbacks {
        verifier: Some(Verifier {
            signature: "the notification's signature",
            secret_variables: &["PLEDG_SECRET_KEY"],
            verify,
        }),
        events: &[CallbackEvent::new(
            "notification",
            "a purchase link whose purchase is then settled (its notification)",
        )
        .statuses(&["completed"])
        .default_status("completed")],
        // The sandbox keeps the merchant's key and uid with its signing
        // material.
        sandbox_signing: &[
            ("pledg_secret_key", "secret_key"),
            ("pledg_merchant_uid", "merchant_uid"),
        ],
    }),
});

/// A notification's facts.
fn verify(
    secret: Secret,
    body: &[u8],
    headers: &HeaderMap,
    now: SystemTime,
) -> Result<Value, CallbackError> {
    NotificationVerifier::new(secret)
        .verify(body, headers, now)
        .map(|n| json!({ "id": n.id, "reference": n.reference, "status": n.status }))
}

/// `(uid, "created")` of a new purchase link notifying
/// `request.callback_url`.
async fn trigger(client: &Client, request: TriggerRequest<'_>) -> Result<Triggered, Error> {
    if request.event.name != "notification" {
        return Err(Error::config(
            NAME,
            format!("no callback event `{}`", request.event.name),
        ));
    }
    let merchant = request
        .values
        .get("merchant_uid")
        .ok_or_else(|| Error::config(NAME, "a purchase link needs a merchant_uid"))?;
    let body = serde_json::from_value::<types::PurchaseLinkRequest>(json!({
        "merchant_uid": merchant, "title": "payauth trigger",
        "reference": format!("payauth-{}", request.nonce % 1_000_000_000), "amount_cents": 1000,
        "currency": "EUR", "notification_url": request.callback_url
    }))
    .map_err(|e| Error::config(NAME, format!("the trigger's request is not valid: {e}")))?;
    let link = client
        .create_purchase_link()
        .body(body)
        .send()
        .await
        .map_err(|e| e.into_error())?
        .into_inner();
    Ok(Triggered {
        object: link.uid,
        status: "created".to_owned(),
    })
}

impl Described for Pledg {
    type Api = crate::generated::Client;

    fn run<'a>(
        client: &'a Client,
        call: &'a Call,
        values: &'a Values,
    ) -> BoxFuture<'a, Result<Answered, Error>> {
        Box::pin(async move {
            match call.operation {
                "create_purchase_link" => {
                    let merchant = values.get("merchant_uid").ok_or_else(|| {
                        Error::config(NAME, "the sample purchase link needs a merchant_uid")
                    })?;
                    let body =
                        serde_json::from_value::<types::PurchaseLinkRequest>(serde_json::json!({
                            "merchant_uid": merchant, "title": "Sofa",
                            "reference": "sample", "amount_cents": 129900, "currency": "EUR"
                        }))
                        .map_err(|_| {
                            Error::config(NAME, "the sample purchase link is not valid")
                        })?;
                    answered(client.create_purchase_link().body(body).send().await)
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
            .post(format!("{base_url}/api/token"))
            .basic_auth(var("PLEDG_API_KEY")?, Some(var("PLEDG_API_SECRET")?))
            .form(&[("grant_type", "client_credentials")]))
    }

    fn trigger<'a>(
        client: &'a Client,
        request: TriggerRequest<'a>,
    ) -> BoxFuture<'a, Result<Triggered, Error>> {
        Box::pin(trigger(client, request))
    }
}
