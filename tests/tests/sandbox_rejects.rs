//! The sandbox refuses what the specs forbid. Regression tests for the
//! three requests an independent property-based fuzzer found it accepting,
//! and the two more `cargo xtask conformance` found (each failed before
//! its fix), and property tests that the SDKs' parsers of callback and
//! header input never panic.

use payauth_sandbox::{Provider, Sandbox};
use proptest::prelude::*;
use serde_json::{Value, json};
use workspace_tests::raw::{Sent as _, credential, login_token, post};

async fn start() -> Sandbox {
    Sandbox::start().await.expect("sandbox starts")
}

/// The statuses of `POST {path}` of provider `p` with each body, the
/// request carrying `auth`'s credentials.
async fn statuses(
    sb: &Sandbox,
    p: Provider,
    path: &str,
    auth: &Auth,
    bodies: impl IntoIterator<Item = Option<Value>>,
) -> Vec<u16> {
    let mut out = Vec::new();
    for body in bodies {
        let rb = auth.on(post(sb, p, path));
        let rb = match body {
            Some(body) => rb.json(&body),
            None => rb,
        };
        out.push(rb.status().await);
    }
    out
}

/// What authenticates a raw request.
enum Auth {
    Bearer(String),
    /// An API key in the named header.
    Header(&'static str, String),
}

impl Auth {
    fn on(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::Bearer(token) => rb.bearer_auth(token),
            Auth::Header(name, key) => rb.header(*name, key),
        }
    }
}

#[tokio::test]
async fn institution_customer_create_refuses_a_null_itn() {
    let sb = start().await;
    let p = Provider::Institution;
    let key = Auth::Header("Api-key", credential(&sb, p, "api_key"));
    let bodies = [
        json!({"email": "alex@example.com", "itn": null}),
        // Still accepted without it.
        json!({"email": "alex@example.com"}),
    ];
    let got = statuses(&sb, p, "/v2/customer/create", &key, bodies.map(Some)).await;
    assert_eq!(got[0], 400);
    assert_eq!(got[1], 200);
}

/// axept's Start Transaction rules (FACTS): `uti` a GUID, `reference`
/// alphanumeric ≤ 50, `webHookUrl` https ≤ 250, `expirationDate` in the
/// future and ≤ 365 days ahead — refused with 400 as the provider does;
/// the valid body is accepted.
#[tokio::test]
async fn axept_start_transaction_enforces_the_documented_rules() {
    let sb = start().await;
    let p = Provider::Axept;
    let token = Auth::Bearer(login_token(&sb, p).await);
    let day = |days: i64| (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339();
    let mut n = 0;
    let mut uti = || {
        n += 1;
        format!("3f2c9a4e-6a51-4d0b-9d0e-{n:012}")
    };
    let valid = |uti: String| {
        json!({"uti": uti, "reference": "ORDER42", "webHookUrl": "https://pos.example.com/hook",
               "expirationDate": day(30), "amountTrans": 3000})
    };
    let cases: Vec<(&str, serde_json::Value)> = vec![
        (
            "uti not a GUID",
            json!({"uti": "not-a-guid-but-exactly-36-characters!"}),
        ),
        ("uti too short", json!({"uti": "3f2c9a4e"})),
        (
            "reference not alphanumeric",
            json!({"uti": uti(), "reference": "ORDER 42"}),
        ),
        (
            "reference longer than 50",
            json!({"uti": uti(), "reference": "A".repeat(51)}),
        ),
        (
            "webHookUrl not https",
            json!({"uti": uti(), "webHookUrl": "http://pos.example.com"}),
        ),
        (
            "webHookUrl longer than 250",
            json!({"uti": uti(), "webHookUrl": format!("https://{}", "a".repeat(250))}),
        ),
        (
            "expirationDate past",
            json!({"uti": uti(), "expirationDate": day(-1)}),
        ),
        (
            "expirationDate > 365 days",
            json!({"uti": uti(), "expirationDate": day(366)}),
        ),
        (
            "expirationDate not a date",
            json!({"uti": uti(), "expirationDate": "next week"}),
        ),
    ];
    for (what, body) in cases {
        let got = statuses(&sb, p, "/transaction", &token, [Some(body.clone())]).await;
        assert_eq!(got[0], 400, "{what}: {body}");
    }
    for body in [
        valid(uti()),
        json!({"uti": uti().to_uppercase(), "reference": "A".repeat(50)}),
    ] {
        let got = statuses(&sb, p, "/transaction", &token, [Some(body.clone())]).await;
        assert_eq!(got[0], 200, "{body}");
    }
}

/// The generated axept types check the same rules before anything is sent.
#[test]
fn axept_types_refuse_what_the_provider_refuses() {
    use axept::types::StartTransactionRequest as Start;
    let ok = json!({"uti": "3f2c9a4e-6a51-4d0b-9d0e-5b7b1a2c3d4e", "reference": "ORDER42",
                    "webHookUrl": "https://pos.example.com/hook"});
    assert!(serde_json::from_value::<Start>(ok).is_ok());
    for bad in [
        json!({"uti": "not-a-guid"}),
        json!({"uti": "3f2c9a4e-6a51-4d0b-9d0e-5b7b1a2c3d4e", "reference": "ORDER 42"}),
        json!({"uti": "3f2c9a4e-6a51-4d0b-9d0e-5b7b1a2c3d4e", "webHookUrl": "http://x"}),
        json!({"uti": "3f2c9a4e-6a51-4d0b-9d0e-5b7b1a2c3d4e", "expirationDate": "soon"}),
    ] {
        assert!(
            serde_json::from_value::<Start>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

/// bursagb's `Orders/Create` with a bearer.
async fn bursagb_orders(sb: &Sandbox, bodies: impl IntoIterator<Item = Value>) -> Vec<u16> {
    let p = Provider::Bursagb;
    let token = Auth::Bearer(login_token(sb, p).await);
    statuses(
        sb,
        p,
        "/Orders/Create",
        &token,
        bodies.into_iter().map(Some),
    )
    .await
}

/// bursagb's `Supplier/Products/List` with its API key.
async fn bursagb_products(
    sb: &Sandbox,
    bodies: impl IntoIterator<Item = Option<Value>>,
) -> Vec<u16> {
    let p = Provider::Bursagb;
    let key = Auth::Header("ApiKey", credential(sb, p, "api_key"));
    statuses(sb, p, "/Supplier/Products/List", &key, bodies).await
}

#[tokio::test]
async fn bursagb_orders_create_refuses_a_null_note() {
    let sb = start().await;
    let order = |note: serde_json::Value| {
        json!({"customerId": "cus_1", "currency": "TRY",
               "items": [{"productId": "p", "quantity": 1}], "note": note})
    };
    let got = bursagb_orders(&sb, [order(Value::Null), order(json!("front desk"))]).await;
    assert_eq!(got[0], 400);
    assert_eq!(got[1], 200);
}

#[tokio::test]
async fn bursagb_supplier_products_list_refuses_a_missing_body() {
    let sb = start().await;
    let got = bursagb_products(&sb, [None, Some(json!({}))]).await;
    assert_eq!(got[0], 400);
    assert_eq!(got[1], 200);
}

#[tokio::test]
async fn bursagb_orders_create_refuses_a_missing_customer_id() {
    let sb = start().await;
    let no_customer = json!({"currency": "TRY", "items": [{"productId": "p", "quantity": 1}]});
    assert_eq!(bursagb_orders(&sb, [no_customer]).await[0], 400);
}

#[tokio::test]
async fn bursagb_supplier_products_list_refuses_a_null_page_size_and_a_page_past_int32() {
    let sb = start().await;
    let got = bursagb_products(
        &sb,
        [
            Some(json!({"page": 1, "pageSize": null})),
            // `page` is an int32: one past its maximum is refused too.
            Some(json!({"page": 2_147_483_648_i64, "pageSize": 50})),
        ],
    )
    .await;
    assert_eq!(got[0], 400);
    assert_eq!(got[1], 400);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any body and checksum: a typed error, never a panic or a pass.
    #[test]
    fn exirom_callback_verify_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512),
                                           checksum in "[ -~]{0,64}") {
        let verifier = exirom::CallbackVerifier::new(payauth_runtime::Secret::new("k"));
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(v) = reqwest::header::HeaderValue::from_str(&checksum) {
            headers.insert("x-checksum", v);
        }
        prop_assert!(verifier.verify(&body, &headers, std::time::SystemTime::now()).is_err());
    }

    /// Any JSON-ish notification: a typed error, never a panic.
    #[test]
    fn pledg_notification_verify_never_panics(signature in "[A-Za-z0-9_.=-]{0,200}",
                                              body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let verifier = pledg::NotificationVerifier::new(payauth_runtime::Secret::new("k"));
        let headers = reqwest::header::HeaderMap::new();
        let wrapped = json!({"signature": signature}).to_string();
        let now = std::time::SystemTime::now();
        prop_assert!(verifier.verify(wrapped.as_bytes(), &headers, now).is_err());
        prop_assert!(verifier.verify(&body, &headers, now).is_err());
    }

    /// Any `X-Pagination` value: parsed or a typed error, never a panic.
    #[test]
    fn axept_pagination_never_panics(value in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(v) = reqwest::header::HeaderValue::from_bytes(&value) {
            headers.insert("x-pagination", v);
            let _ = axept::pagination(&headers);
        }
    }
}
