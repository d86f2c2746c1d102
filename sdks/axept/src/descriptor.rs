//! axept as tools see it (`payauth`, the demo, the workspace's tests):
//! see [`payauth_runtime::descriptor`].

use std::time::Duration;

use payauth_runtime::Error;
use payauth_runtime::descriptor::{
    About, Answered, Call, CallAuth, CallbackEvent, Callbacks, Described, Descriptor, Lifetimes,
    TriggerRequest, Triggered, Values, Variable, answered, unknown_call, variable,
};
use payauth_runtime::provider::BoxFuture;

use crate::{Axept, Client, NAME, types};

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
    // The webhook is not signed (see `webhook`): nothing to verify.
    callbacks: Some(Callbacks {
        verifier: None,
        events: &[
            CallbackEvent::new("transaction", "a transaction (its webhook)")
                .status_fixed("transactions change by their signature decision")
                .https_only("webHookUrl"),
        ],
        sandbox_signing: &[],
    }),
});

/// `(uti, status)` of a new transaction whose webhook goes to
/// `request.callback_url`.
async fn trigger(client: &Client, request: TriggerRequest<'_>) -> Result<Triggered, Error> {
    if request.event.name != "transaction" {
        return Err(Error::config(
            NAME,
            format!("no callback event `{}`", request.event.name),
        ));
    }
    let uti = guid(request.nonce);
    let body = serde_json::from_value::<types::StartTransactionRequest>(serde_json::json!({
        "uti": uti, "amountTrans": 1000, "webHookUrl": request.callback_url
    }))
    .map_err(|e| Error::config(NAME, format!("the trigger's request is not valid: {e}")))?;
    let tx = client
        .start_transaction()
        .body(body)
        .send()
        .await
        .map_err(|e| e.into_error())?
        .into_inner();
    Ok(Triggered {
        object: uti,
        status: tx.status,
    })
}

/// A random version-4 GUID (the `uti`), from the standard library's
/// randomly seeded hasher and `nonce`: unique per run without a dependency
/// for it.
fn guid(nonce: u128) -> String {
    use std::hash::{BuildHasher, Hasher};
    let random = |salt: u128| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(nonce ^ salt);
        h.finish()
    };
    let (a, b) = (random(1), random(2));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

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

    fn trigger<'a>(
        client: &'a Client,
        request: TriggerRequest<'a>,
    ) -> BoxFuture<'a, Result<Triggered, Error>> {
        Box::pin(trigger(client, request))
    }
}
