//! The sandbox accepts what the providers' pages allow and refuses what they forbid:
//! each test here pins one place where it used to differ from the pages.

use std::time::Duration;

use reqwest::StatusCode;
use sandbox::{Provider, Route, Sandbox};
use serde_json::{Value, json};
use workspace_tests::raw::http;

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
