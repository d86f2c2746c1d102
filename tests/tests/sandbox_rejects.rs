//! The sandbox refuses what the specs forbid. Regression tests for the
//! three requests an independent property-based fuzzer found it accepting,
//! and the two more `cargo xtask conformance` found (each failed before
//! its fix), and property tests that the SDKs' parsers of callback and
//! header input never panic.

use proptest::prelude::*;
use sandbox::{Credentials, Provider, Sandbox};
use serde_json::json;
use workspace_tests::raw::{http, login_token};

#[tokio::test]
async fn institution_customer_create_refuses_a_null_itn() {
    let sb = Sandbox::start().await.unwrap();
    let Credentials::Institution { api_key, .. } = sb.credentials(Provider::Institution) else {
        unreachable!()
    };
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
    let Credentials::Bursagb { api_key, .. } = sb.credentials(Provider::Bursagb) else {
        unreachable!()
    };
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
    let Credentials::Bursagb { api_key, .. } = sb.credentials(Provider::Bursagb) else {
        unreachable!()
    };
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
