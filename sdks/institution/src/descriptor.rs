//! Institution as tools see it (`payauth`, the demo, the workspace's
//! tests): see [`payauth_runtime::descriptor`].

use std::time::Duration;

use payauth_runtime::Error;
use payauth_runtime::descriptor::{
    About, Answered, Call, CallAuth, Described, Descriptor, Lifetimes, Values, Variable, answered,
    unknown_call, variable,
};
use payauth_runtime::provider::BoxFuture;

use crate::{Client, Institution, NAME, types};

const CREATE_CUSTOMER: Call = Call {
    operation: "create_customer",
    method: "POST",
    path: "/v2/customer/create",
    auth: CallAuth::Bearer,
    retry_safe: false,
    needs: None,
};

/// Institution, described.
pub static DESCRIPTOR: Descriptor = Descriptor::of::<Institution>(About {
    mechanism: "email + password + merchant_id → 30-minute JWT + 2-day refresh token, sent as Bearer; or a persistent Api-key",
    variables: &[
        Variable::optional(
            "INSTITUTION_API_KEY",
            "a persistent Api-key: when set, no login (and the three below are not read)",
        )
        .secret(),
        Variable::required(
            "INSTITUTION_EMAIL",
            "API user's email (unless INSTITUTION_API_KEY)",
        )
        .sandbox("email"),
        Variable::required(
            "INSTITUTION_PASSWORD",
            "API user's password (unless INSTITUTION_API_KEY)",
        )
        .secret()
        .sandbox("password"),
        Variable::required(
            "INSTITUTION_MERCHANT_ID",
            "the merchant_id every token call names (unless INSTITUTION_API_KEY)",
        )
        .sandbox("merchant_id"),
    ],
    lifetimes: Lifetimes {
        access: Some(Duration::from_secs(30 * 60)),
        refresh: Some(Duration::from_secs(2 * 24 * 3600)),
        expiry_from: "expiresIn (an absolute Unix time)",
    },
    // The spec's only authenticated call creates a customer.
    probe: None,
    example: CREATE_CUSTOMER,
    login_page_call: Some(CREATE_CUSTOMER),
    callbacks: None,
});

impl Described for Institution {
    type Api = crate::generated::Client;

    fn run<'a>(
        client: &'a Client,
        call: &'a Call,
        _values: &'a Values,
    ) -> BoxFuture<'a, Result<Answered, Error>> {
        Box::pin(async move {
            match call.operation {
                "create_customer" => answered(
                    client
                        .create_customer()
                        .body(types::CreateCustomerRequest::builder().email("alex@example.com"))
                        .send()
                        .await,
                ),
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
            .post(format!("{base_url}/v2/auth/login"))
            .header("merchant_id", var("INSTITUTION_MERCHANT_ID")?)
            .json(&serde_json::json!({
                "token": var("INSTITUTION_EMAIL")?,
                "password": var("INSTITUTION_PASSWORD")?,
            })))
    }
}
