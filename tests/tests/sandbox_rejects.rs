//! The sandbox refuses what the specs forbid. Regression tests for the
//! three requests an independent property-based fuzzer found it accepting,
//! and the two more `cargo xtask conformance` found (each failed before
//! its fix), and property tests that the SDKs' parsers of callback and
//! header input never panic.

use proptest::prelude::*;
use sandbox::{Provider, Sandbox};
use serde_json::json;
use workspace_tests::raw::{http, login_token};

#[tokio::test]
async fn institution_customer_create_refuses_a_null_itn() {
    let sb = Sandbox::start().await.unwrap();
    let creds = sb.credentials(Provider::Institution);
    let api_key = creds.text("api_key").to_owned();
    let url = format!("{}/v2/customer/create", sb.base_url(Provider::Institution));
    let resp = http()
        .post(&url)
        .header("Api-key", &api_key)
        .json(&json!({"email": "alex@example.com", "itn": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    // Still accepted without it.
    let ok = http()
        .post(&url)
        .header("Api-key", &api_key)
        .json(&json!({"email": "alex@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    sb.shutdown().await;
}

/// axept's Start Transaction rules (FACTS): `uti` a GUID, `reference`
/// alphanumeric ≤ 50, `webHookUrl` https ≤ 250, `expirationDate` in the
/// future and ≤ 365 days ahead — refused with 400 as the provider does;
/// the valid body is accepted.
#[tokio::test]
async fn axept_start_transaction_enforces_the_documented_rules() {
    let sb = Sandbox::start().await.unwrap();
    let token = login_token(&sb, Provider::Axept).await;
    let url = format!("{}/transaction", sb.base_url(Provider::Axept));
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
        let resp = http()
            .post(&url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{what}: {body}");
    }
    for body in [
        valid(uti()),
        json!({"uti": uti().to_uppercase(), "reference": "A".repeat(50)}),
    ] {
        let resp = http()
            .post(&url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{body}");
    }
    sb.shutdown().await;
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

#[tokio::test]
async fn bursagb_orders_create_refuses_a_null_note() {
    let sb = Sandbox::start().await.unwrap();
    let token = login_token(&sb, Provider::Bursagb).await;
    let url = format!("{}/Orders/Create", sb.base_url(Provider::Bursagb));
    let order = |note: serde_json::Value| {
        json!({"customerId": "cus_1", "currency": "TRY",
               "items": [{"productId": "p", "quantity": 1}], "note": note})
    };
    let resp = http()
        .post(&url)
        .bearer_auth(&token)
        .json(&order(serde_json::Value::Null))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let ok = http()
        .post(&url)
        .bearer_auth(&token)
        .json(&order(json!("front desk")))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn bursagb_supplier_products_list_refuses_a_missing_body() {
    let sb = Sandbox::start().await.unwrap();
    let creds = sb.credentials(Provider::Bursagb);
    let api_key = creds.text("api_key").to_owned();
    let url = format!("{}/Supplier/Products/List", sb.base_url(Provider::Bursagb));
    let resp = http()
        .post(&url)
        .header("ApiKey", &api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let ok = http()
        .post(&url)
        .header("ApiKey", &api_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn bursagb_orders_create_refuses_a_missing_customer_id() {
    let sb = Sandbox::start().await.unwrap();
    let token = login_token(&sb, Provider::Bursagb).await;
    let resp = http()
        .post(format!("{}/Orders/Create", sb.base_url(Provider::Bursagb)))
        .bearer_auth(&token)
        .json(&json!({"currency": "TRY", "items": [{"productId": "p", "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    sb.shutdown().await;
}

#[tokio::test]
async fn bursagb_supplier_products_list_refuses_a_null_page_size_and_a_page_past_int32() {
    let sb = Sandbox::start().await.unwrap();
    let creds = sb.credentials(Provider::Bursagb);
    let api_key = creds.text("api_key").to_owned();
    let resp = http()
        .post(format!(
            "{}/Supplier/Products/List",
            sb.base_url(Provider::Bursagb)
        ))
        .header("ApiKey", &api_key)
        .json(&json!({"page": 1, "pageSize": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    // `page` is an int32: one past its maximum is refused too.
    let resp = http()
        .post(format!(
            "{}/Supplier/Products/List",
            sb.base_url(Provider::Bursagb)
        ))
        .header("ApiKey", &api_key)
        .json(&json!({"page": 2_147_483_648_i64, "pageSize": 50}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    sb.shutdown().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any body and checksum: a typed error, never a panic or a pass.
    #[test]
    fn exirom_callback_verify_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512),
                                           checksum in "[ -~]{0,64}") {
        let verifier = exirom::CallbackVerifier::new(auth_runtime::Secret::new("k"));
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
        let verifier = pledg::NotificationVerifier::new(auth_runtime::Secret::new("k"));
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
