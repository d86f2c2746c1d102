//! axept as tools see it (`payauth`, the demo, the workspace's tests):
//! see [`payauth_runtime::descriptor`].

use std::time::Duration;

use payauth_runtime::Error;
use payauth_runtime::descriptor::{
    About, Answered, Call, CallAuth, Described, Descriptor, Lifetimes, Values, Variable, answered,
    unknown_call, variable,
};
use payauth_runtime::provider::BoxFuture;

use crate::{Axept, Client, NAME};

const LIST_TRANSACTIONS: Call = Call {
    operation: "list_transactions",
    method: "GET",
    path: "/Transaction",
    auth: CallAuth::Bearer,
    retry_safe: true,
    needs: None,
};

/// axept, described.
pub static DESCRIPTOR: Descriptor = Descriptor::of::<Axept>(About {
    mechanism: "merchantId + keyId + key → JWT with ExpiresAt, sent as Bearer",
    variables: &[
        Variable::required(
            "AXEPT_MERCHANT_ID",
            "axept Cloud Connect merchant id (an integer; not your mid)",
        )
        .sandbox("merchant_id"),
        Variable::required("AXEPT_KEY_ID", "key id (an integer)").sandbox("key_id"),
        Variable::required("AXEPT_KEY", "key")
            .secret()
            .sandbox("key"),
    ],
    lifetimes: Lifetimes {
        access: Some(Duration::from_secs(30 * 60)),
        refresh: None,
        expiry_from: "ExpiresAt or the JWT's exp, the earlier",
    },
    probe: Some(LIST_TRANSACTIONS),
    example: LIST_TRANSACTIONS,
    login_page_call: None,
});

impl Described for Axept {
    type Api = crate::generated::Client;

    fn run<'a>(
        client: &'a Client,
        call: &'a Call,
        _values: &'a Values,
    ) -> BoxFuture<'a, Result<Answered, Error>> {
        Box::pin(async move {
            match call.operation {
                "list_transactions" => answered(client.list_transactions().send().await),
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
        let int = |k: &str| {
            var(k)?
                .trim()
                .parse::<i64>()
                .map_err(|_| Error::config(NAME, format!("{k} is not an integer")))
        };
        Ok(http
            .post(format!("{base_url}/api/authenticate"))
            .json(&serde_json::json!({
                "merchantId": int("AXEPT_MERCHANT_ID")?,
                "keyId": int("AXEPT_KEY_ID")?,
                "key": var("AXEPT_KEY")?,
            })))
    }
}
