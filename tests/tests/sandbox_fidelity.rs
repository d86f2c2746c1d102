//! The sandbox accepts what the providers' pages allow and refuses what they forbid:
//! each test here pins one place where it used to differ from the pages.

use std::time::Duration;

use payauth_runtime::Secret;
use payauth_sandbox::{Provider, Route, Sandbox};
use reqwest::StatusCode;
use serde_json::{Value, json};
use workspace_tests::raw::{http, login_token};

async fn send(rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let resp = rb.send().await.expect("the sandbox answers");
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

// ---- institution ------------------------------------------------------------------------

async fn inst_login(sb: &Sandbox) -> Value {
    send(workspace_tests::raw::login_request(
        sb,
        Provider::Institution,
    ))
    .await
    .1
}

async fn inst_refresh(sb: &Sandbox, refresh: &str) -> (StatusCode, Value) {
    let merchant = sb
        .credentials(Provider::Institution)
        .text("merchant_id")
        .to_owned();
    send(
        http()
            .post(sb.url(Provider::Institution, Route::Refresh).unwrap())
            .header("merchant_id", merchant)
            .json(&json!({"refreshToken": refresh})),
    )
    .await
}

/// The pages' login and refresh samples return the same refresh token, which lives two
/// days: by default it can be used again within that life.
#[tokio::test]
async fn institution_refresh_token_is_reusable_within_its_life_by_default() {
    let sb = Sandbox::start().await.unwrap();
    let r1 = inst_login(&sb).await["data"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        let (s, v) = inst_refresh(&sb, &r1).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            v["data"]["refreshToken"],
            r1.as_str(),
            "the same refresh token"
        );
        assert!(v["data"]["accessToken"].is_string());
    }
    // Still bounded by its own life: two days after the login it is refused.
    sb.advance_clock(Duration::from_secs(2 * 86_400 + 1));
    let (s, v) = inst_refresh(&sb, &r1).await;
    assert_eq!(s, 401);
    assert_eq!(v["errors"][0]["code"], "REFRESH_TOKEN_EXPIRED");
    // Revocation still applies.
    let r2 = inst_login(&sb).await["data"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    sb.revoke_token(&r2);
    assert_eq!(inst_refresh(&sb, &r2).await.0, 401);
    sb.shutdown().await;
}

// ---- pledg ------------------------------------------------------------------------------

fn pledg_signature(sb: &Sandbox, data: &Value) -> String {
    let now = chrono::Utc::now().timestamp();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"data": data, "iat": now, "exp": now + 3600}),
        &jsonwebtoken::EncodingKey::from_secret(sb.pledg_secret_key().as_bytes()),
    )
    .unwrap()
}

/// FACTS: the JWT is "sent as the `signature` query parameter, e.g.
/// `POST /api/purchase_link/?signature=<jwt>`": a request with only that parameter is
/// the documented form; its signed `data` is the purchase.
#[tokio::test]
async fn pledg_purchase_link_with_only_the_signature_parameter() {
    let sb = Sandbox::start().await.unwrap();
    let data = json!({"merchant_uid": sb.pledg_merchant_uid(), "title": "Sofa",
                      "reference": "order-42", "amount_cents": 129900, "currency": "EUR"});
    let url = sb.url(Provider::Pledg, Route::PurchaseLink).unwrap();
    let (s, v) = send(
        http()
            .post(&url)
            .query(&[("signature", pledg_signature(&sb, &data))]),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["reference"], "order-42");
    assert_eq!(v["amount_cents"], 129900);
    assert_eq!(sb.created(Provider::Pledg), 1);
    // The signed data is still checked like a body.
    let bad = json!({"merchant_uid": sb.pledg_merchant_uid(), "title": "Sofa"});
    let (s, v) = send(
        http()
            .post(&url)
            .query(&[("signature", pledg_signature(&sb, &bad))]),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // A body, when sent, must still be the signed data (our assumption).
    let (s, _) = send(
        http()
            .post(&url)
            .query(&[("signature", pledg_signature(&sb, &data))])
            .json(
                &json!({"merchant_uid": sb.pledg_merchant_uid(), "title": "Other",
                          "reference": "order-42", "amount_cents": 1, "currency": "EUR"}),
            ),
    )
    .await;
    assert_eq!(s, 400);
    sb.shutdown().await;
}

// ---- exirom -----------------------------------------------------------------------------

struct Exirom {
    sb: Sandbox,
    token: String,
    secret: String,
}

impl Exirom {
    async fn start() -> Exirom {
        let sb = Sandbox::start().await.unwrap();
        let token = login_token(&sb, Provider::Exirom).await;
        let secret = sb
            .credentials(Provider::Exirom)
            .text("merchant_secret")
            .to_owned();
        Exirom { sb, token, secret }
    }

    async fn post(&self, route: Route, body: Value) -> (StatusCode, Value) {
        send(
            http()
                .post(self.sb.url(Provider::Exirom, route).unwrap())
                .bearer_auth(&self.token)
                .json(&body),
        )
        .await
    }

    async fn get(&self, route: Route, id: &str) -> (StatusCode, Value) {
        let url = self
            .sb
            .url(Provider::Exirom, route)
            .unwrap()
            .replace("{id}", id);
        send(http().get(url).bearer_auth(&self.token)).await
    }

    async fn card(&self, request_id: &str, amount: &str) -> (StatusCode, Value) {
        self.post(
            Route::CardPayment,
            json!({"requestId": request_id, "mid": "mid_1", "amount": amount,
                   "currency": "EUR", "billingDetails": {}, "order": {}, "device": {},
                   "card": {"number": "4111111111111111", "expiryMonth": "12",
                            "expiryYear": "2030", "cvv": "123"}}),
        )
        .await
    }

    async fn apm(&self, request_id: &str, amount: Value) -> (StatusCode, Value) {
        let text = match &amount {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let checksum = exirom::apm_checksum(
            &Secret::new(self.secret.clone()),
            "acc_1",
            &text,
            "EUR",
            request_id,
            exirom::AmountForm::Decimal,
        )
        .unwrap();
        self.post(
            Route::ApmPayment,
            json!({"requestId": request_id, "accountId": "acc_1", "amount": amount,
                   "currency": "EUR", "paymentMethod": "SEPA", "checksum": checksum}),
        )
        .await
    }
}

/// `GET /v1/payments/card/status/{id}` is about card payments: an APM payment's id is
/// not one (the two kinds are kept apart, and so are their `requestId`s — our
/// assumption, marked in the spec).
#[tokio::test]
async fn exirom_card_status_knows_card_payments_only() {
    let x = Exirom::start().await;
    let (s, apm) = x.apm("shared-id", json!("10.00")).await;
    assert_eq!(s, 200, "{apm}");
    let apm_id = apm["transactionId"].as_str().unwrap();
    let (s, v) = x.get(Route::CardPaymentStatus, apm_id).await;
    assert_eq!(s, 404, "an APM payment is not a card payment: {v}");
    let (s, v) = x.get(Route::ApmPaymentInfo, apm_id).await;
    assert_eq!(s, 200, "{v}");
    // The same requestId for a card payment is another payment, not a conflict.
    let (s, card) = x.card("shared-id", "10.00").await;
    assert_eq!(s, 200, "{card}");
    assert_ne!(card["transactionId"], apm["transactionId"]);
    let (s, _) = x
        .get(
            Route::CardPaymentStatus,
            card["transactionId"].as_str().unwrap(),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = x
        .get(
            Route::ApmPaymentInfo,
            card["transactionId"].as_str().unwrap(),
        )
        .await;
    assert_eq!(s, 404);
    x.sb.shutdown().await;
}

/// An APM `amount` string is a decimal amount, checked as card payments check theirs.
#[tokio::test]
async fn exirom_apm_amount_is_validated_like_a_card_amount() {
    let x = Exirom::start().await;
    for (i, amount) in ["abc", "-1", "1e3", "10.", ".5", "10.001"]
        .into_iter()
        .enumerate()
    {
        let (s, v) = x.apm(&format!("apm-{i}"), json!(amount)).await;
        assert_eq!(s, 422, "APM amount {amount:?}: {v}");
        let (s, v) = x.card(&format!("card-{i}"), amount).await;
        assert_eq!(s, 422, "card amount {amount:?}: {v}");
    }
    assert_eq!(x.sb.created(Provider::Exirom), 0);
    x.sb.shutdown().await;
}

/// The spec: a decimal string in major units. `"10.000"` is ten units (extra zeros
/// accepted); a fraction finer than a cent is refused (our assumption, in the spec).
#[tokio::test]
async fn exirom_amounts_with_trailing_zero_decimals_are_accepted() {
    let x = Exirom::start().await;
    for (i, amount) in ["10.000", "10", "10.5", "0.10", "10.0000"]
        .into_iter()
        .enumerate()
    {
        let (s, v) = x.card(&format!("card-{i}"), amount).await;
        assert_eq!(s, 200, "card amount {amount:?}: {v}");
        let (s, v) = x.apm(&format!("apm-{i}"), json!(amount)).await;
        assert_eq!(s, 200, "APM amount {amount:?}: {v}");
    }
    x.sb.shutdown().await;
}

// ---- axept ------------------------------------------------------------------------------

struct Axept {
    sb: Sandbox,
    token: String,
}

impl Axept {
    async fn start() -> Axept {
        let sb = Sandbox::start().await.unwrap();
        let token = login_token(&sb, Provider::Axept).await;
        Axept { sb, token }
    }

    async fn start_tx(&self, body: Value) -> (StatusCode, Value) {
        send(
            http()
                .post(
                    self.sb
                        .url(Provider::Axept, Route::TransactionStart)
                        .unwrap(),
                )
                .bearer_auth(&self.token)
                .json(&body),
        )
        .await
    }

    async fn list(&self, query: &[(&str, &str)]) -> Vec<String> {
        let (s, v) = send(
            http()
                .get(
                    self.sb
                        .url(Provider::Axept, Route::TransactionList)
                        .unwrap(),
                )
                .bearer_auth(&self.token)
                .query(query),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| t["uti"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn uti(n: u32) -> String {
    format!("3f2c9a4e-6a51-4d0b-9d0e-{n:012}")
}

/// FACTS: listing uses the same GET with query filters (`MerchantStoreId`,
/// `ClientStoreId`).
#[tokio::test]
async fn axept_list_honours_its_store_filters() {
    let a = Axept::start().await;
    for (n, merchant, client) in [(1, "m1", "c1"), (2, "m1", "c2"), (3, "m2", "c1")] {
        let (s, v) = a
            .start_tx(json!({"uti": uti(n), "merchantStoreId": merchant, "clientStoreId": client}))
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["merchantStoreId"], merchant);
    }
    assert_eq!(a.list(&[("MerchantStoreId", "m1")]).await, [uti(1), uti(2)]);
    assert_eq!(a.list(&[("ClientStoreId", "c1")]).await, [uti(1), uti(3)]);
    assert_eq!(
        a.list(&[("MerchantStoreId", "m1"), ("ClientStoreId", "c1")])
            .await,
        [uti(1)]
    );
    assert!(a.list(&[("MerchantStoreId", "nowhere")]).await.is_empty());
    a.sb.shutdown().await;
}

/// `expirationDate` is documented as UTC ISO 8601: another offset is refused; no
/// offset at all (as .NET writes UTC) and up to seven fractional digits are accepted.
#[tokio::test]
async fn axept_expiration_date_is_utc() {
    let a = Axept::start().await;
    let at = chrono::Utc::now() + chrono::Duration::days(3);
    let plus_two = at.with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap());
    let (s, v) = a
        .start_tx(json!({"uti": uti(1), "expirationDate": plus_two.to_rfc3339()}))
        .await;
    assert_eq!(s, 400, "an offset other than UTC: {v}");
    for (n, date) in [
        at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
        at.format("%Y-%m-%dT%H:%M:%S").to_string(),
        // Seven fractional digits, as .NET writes them.
        {
            let nine = at.format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
            nine[..nine.len() - 2].to_owned()
        },
    ]
    .into_iter()
    .enumerate()
    {
        let (s, v) = a
            .start_tx(json!({"uti": uti(10 + n as u32), "expirationDate": date}))
            .await;
        assert_eq!(s, 200, "{date}: {v}");
    }
    // An offset-less date is read as UTC: in the past is still refused.
    let past = (chrono::Utc::now() - chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let (s, _) = a
        .start_tx(json!({"uti": uti(20), "expirationDate": past}))
        .await;
    assert_eq!(s, 400);
    a.sb.shutdown().await;
}

/// URL schemes are case-insensitive (RFC 3986): `HTTPS://` is https.
#[tokio::test]
async fn axept_web_hook_url_scheme_is_case_insensitive() {
    let a = Axept::start().await;
    for (n, url) in [
        "HTTPS://pos.example.com/hook",
        "Https://pos.example.com/hook",
    ]
    .into_iter()
    .enumerate()
    {
        let (s, v) = a
            .start_tx(json!({"uti": uti(n as u32), "webHookUrl": url}))
            .await;
        assert_eq!(s, 200, "{url}: {v}");
    }
    let (s, _) = a
        .start_tx(json!({"uti": uti(9), "webHookUrl": "HTTP://pos.example.com/hook"}))
        .await;
    assert_eq!(s, 400);
    a.sb.shutdown().await;
}

/// The transaction the sandbox keeps "waiting for a decision" is not decided yet: not
/// approved, not complete, until a decision arrives.
#[tokio::test]
async fn axept_sample_transaction_waits_for_its_decision() {
    let a = Axept::start().await;
    const SAMPLE: &str = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
    let get = || async {
        let url =
            a.sb.url(Provider::Axept, Route::TransactionGet)
                .unwrap()
                .replace("{uti}", SAMPLE);
        send(http().get(url).bearer_auth(&a.token)).await
    };
    let (s, v) = get().await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["transApproved"].as_bool(), v["status"].as_str()),
        (Some(false), Some("Pending"))
    );
    let (s, v) = send(
        http()
            .post(a.sb.url(Provider::Axept, Route::ProcessDecision).unwrap())
            .bearer_auth(&a.token)
            .json(&json!({"uti": SAMPLE, "signatureAccepted": true})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["status"].as_str()),
        (200, Some("Complete")),
        "{v}"
    );
    let (_, v) = get().await;
    assert_eq!(
        (v["transApproved"].as_bool(), v["status"].as_str()),
        (Some(true), Some("Complete"))
    );
    a.sb.shutdown().await;
}

// ---- bursagb ----------------------------------------------------------------------------

/// Only `-23` is a documented error code: every other code the sandbox answers is
/// marked in the spec as our assumption.
#[tokio::test]
async fn bursagb_undocumented_error_codes_are_marked_as_ours() {
    let sb = Sandbox::start().await.unwrap();
    let base = sb.base_url(Provider::Bursagb);
    let verify = format!("{base}/Login/Customer/Api/Verify");
    let token = login_token(&sb, Provider::Bursagb).await;
    let (bob, bob_password) = sb.bursagb_customer_without_orders_scope().unwrap();
    let bob_token = {
        let (_, v) = send(
            http()
                .post(&verify)
                .json(&json!({"Email": bob, "Password": bob_password})),
        )
        .await;
        v["data"]["Token"].as_str().unwrap().to_owned()
    };
    let restricted = sb.bursagb_restricted_api_key().unwrap();
    let answers = [
        send(http().post(&verify).json(&json!({"Email": "x@y.z"}))).await,
        send(
            http()
                .post(&verify)
                .header("h-region-code", "T1")
                .json(&json!({})),
        )
        .await,
        send(
            http()
                .post(&verify)
                .json(&json!({"Email": "x@y.z", "Password": "no"})),
        )
        .await,
        send(http().post(format!("{base}/Orders/Create"))).await,
        send(
            http()
                .post(format!("{base}/Orders/Create"))
                .bearer_auth(&bob_token)
                .json(&json!({})),
        )
        .await,
        send(
            http()
                .post(format!("{base}/Supplier/Products/List"))
                .header("ApiKey", restricted)
                .json(&json!({})),
        )
        .await,
        send(
            http()
                .get(format!("{base}/Customer/Get"))
                .bearer_auth(&token)
                .header("h-region-code", "T1"),
        )
        .await,
    ];
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../specs/bursagb.yaml"
    ))
    .unwrap();
    let spec: Value = serde_yaml::from_str(&spec).unwrap();
    let code = &spec["components"]["schemas"]["ErrorResponse"]["properties"]["code"];
    let mark = code["x-assumption"].as_str().unwrap_or_default();
    for (status, v) in answers {
        assert!(!status.is_success(), "{v}");
        let n = v["code"].as_i64().expect("a numeric code");
        if n != -23 {
            assert!(
                mark.contains(&format!("`{n}`")),
                "code {n} (answered with {status}) is not marked as our assumption: {mark:?}"
            );
        }
    }
    // The documented code is the API key's.
    let (s, v) = send(
        http()
            .post(format!("{base}/Supplier/Products/List"))
            .json(&json!({})),
    )
    .await;
    assert_eq!((s.as_u16(), v["code"].as_i64()), (401, Some(-23)));
    sb.shutdown().await;
}
