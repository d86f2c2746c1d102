//! Pledg as tools see it (`payauth`, the demo, the workspace's tests):
//! see [`payauth_runtime::descriptor`].

use std::time::Duration;

use payauth_runtime::Error;
use payauth_runtime::descriptor::{
    About, Answered, Call, CallAuth, Described, Descriptor, Lifetimes, Values, Variable, answered,
    unknown_call, variable,
};
use payauth_runtime::provider::BoxFuture;

use crate::{Client, NAME, Pledg, types};

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
});

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
}
