//! Inbound callbacks: the sandbox signs them as the providers do and
//! delivers them to a loopback server this test runs; the SDKs' verifiers
//! accept the genuine ones and refuse tampered, replayed, expired and
//! unsigned ones with a typed error.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::http::HeaderMap;
use payauth_sandbox::{Provider, SignedCallback};
use serde_json::json;
use workspace_tests::support::Env;

/// What the receiver got: raw body and headers of each POST.
type Inbox = Arc<Mutex<Vec<(Vec<u8>, HeaderMap)>>>;

/// A loopback HTTP server that records every POST; returns its URL.
async fn receiver() -> (String, Inbox, tokio::task::JoinHandle<()>) {
    let inbox: Inbox = Arc::default();
    let sink = inbox.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push((body.to_vec(), headers));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, inbox, task)
}

async fn deliver(env: &Env, url: &str, cb: &SignedCallback, inbox: &Inbox) -> (Vec<u8>, HeaderMap) {
    assert_eq!(env.sandbox.deliver(url, cb).await, Ok(200));
    inbox.lock().unwrap().pop().expect("delivered")
}

#[tokio::test]
async fn exirom_callbacks_verified_and_tampered_replayed_unsigned_rejected() {
    let env = Env::start().await;
    let client: exirom::Client = env.client(Provider::Exirom).typed();
    let body: exirom::types::CardPaymentRequest = serde_json::from_value(json!({
        "requestId": "req-cb-1", "mid": "acc_001", "amount": "10.00", "currency": "EUR",
        "card": {"number": "4111111111111111", "expiryMonth": "12", "expiryYear": "2030", "cvv": "123"},
        "billingDetails": {}, "order": {}, "device": {}
    }))
    .unwrap();
    let paid = client
        .create_card_payment()
        .body(body)
        .send()
        .await
        .unwrap()
        .into_inner();
    let (url, inbox, server) = receiver().await;
    let cb = env
        .sandbox
        .exirom_callback(&paid.transaction_id)
        .expect("known payment");
    let (raw, headers) = deliver(&env, &url, &cb, &inbox).await;

    let creds = env.sandbox.credentials(Provider::Exirom);
    let merchant_secret = creds.text("merchant_secret").to_owned();
    let verifier = exirom::CallbackVerifier::new(payauth_runtime::Secret::new(merchant_secret));
    let now = SystemTime::now();
    let event = verifier
        .verify(&raw, &headers, now)
        .expect("genuine callback");
    assert_eq!(
        event.transaction_id.unverified().as_deref(),
        Some(paid.transaction_id.as_str())
    );
    assert_eq!(
        event.transaction_status.unverified().as_deref(),
        Some("APPROVED")
    );
    assert_eq!(
        (event.amount.as_str(), event.request_id.as_str()),
        ("10.00", "req-cb-1")
    );

    // The same callback again: a replay.
    assert_eq!(
        verifier.verify(&raw, &headers, now),
        Err(exirom::CallbackError::Replayed)
    );
    // The provider's next status update of the same payment carries the
    // same checksum (it covers the payment): accepted once, then a replay.
    let settled = String::from_utf8(raw.clone())
        .unwrap()
        .replace("\"APPROVED\"", "\"SETTLED\"");
    assert_ne!(settled.as_bytes(), raw.as_slice());
    let event = verifier
        .verify(settled.as_bytes(), &headers, now)
        .expect("a second status update is no replay");
    assert_eq!(
        event.transaction_status.unverified().as_deref(),
        Some("SETTLED")
    );
    assert!(format!("{event:?}").contains("Unsigned(Some(\"SETTLED\"))"));
    assert_eq!(
        verifier.verify(settled.as_bytes(), &headers, now),
        Err(exirom::CallbackError::Replayed)
    );
    // Tampered amount.
    let tampered = String::from_utf8(raw.clone())
        .unwrap()
        .replace("10.00", "99.00");
    assert_eq!(
        verifier.verify(tampered.as_bytes(), &headers, now),
        Err(exirom::CallbackError::BadSignature)
    );
    // Unsigned.
    assert_eq!(
        verifier.verify(&raw, &HeaderMap::new(), now),
        Err(exirom::CallbackError::Unsigned)
    );
    // Another secret.
    let other = exirom::CallbackVerifier::new(payauth_runtime::Secret::new("other"));
    assert_eq!(
        other.verify(&raw, &headers, now),
        Err(exirom::CallbackError::BadSignature)
    );
    server.abort();
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn pledg_notifications_verified_and_tampered_replayed_expired_unsigned_rejected() {
    let env = Env::start().await;
    let client: pledg::Client = env.client(Provider::Pledg).typed();
    let body: pledg::types::PurchaseLinkRequest = serde_json::from_value(json!({
        "merchant_uid": env.sandbox.pledg_merchant_uid(), "title": "Sofa",
        "reference": "order-cb", "amount_cents": 1000, "currency": "EUR"
    }))
    .unwrap();
    let link = client
        .create_purchase_link()
        .body(body)
        .send()
        .await
        .unwrap()
        .into_inner();
    let (url, inbox, server) = receiver().await;
    let cb = env
        .sandbox
        .pledg_notification(&link.uid, "completed")
        .expect("known link");
    let (raw, headers) = deliver(&env, &url, &cb, &inbox).await;

    let secret = payauth_runtime::Secret::new(env.sandbox.pledg_secret_key());
    let verifier = pledg::NotificationVerifier::new(secret.clone());
    let now = SystemTime::now();
    let event = verifier
        .verify(&raw, &headers, now)
        .expect("genuine notification");
    assert_eq!(event.id.as_deref(), Some(link.uid.as_str()));
    assert_eq!(event.reference.as_deref(), Some("order-cb"));
    assert_eq!(event.status.as_deref(), Some("completed"));

    assert_eq!(
        verifier.verify(&raw, &headers, now),
        Err(pledg::CallbackError::Replayed)
    );
    // Expired: verified two days later by a fresh verifier.
    let later = pledg::NotificationVerifier::new(secret.clone());
    assert_eq!(
        later.verify(&raw, &headers, now + Duration::from_secs(2 * 24 * 3600)),
        Err(pledg::CallbackError::Expired)
    );
    // Tampered: a claim of the payload changed, signature kept.
    let outer: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    let jwt = outer["signature"].as_str().unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: serde_json::Value =
        serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["amount_cents"] = json!(1);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    );
    let fresh = pledg::NotificationVerifier::new(secret.clone());
    assert_eq!(
        fresh.verify(
            json!({"signature": forged}).to_string().as_bytes(),
            &headers,
            now
        ),
        Err(pledg::CallbackError::BadSignature)
    );
    // Unsigned: no signature field.
    assert_eq!(
        fresh.verify(br#"{"id": "pl_1", "status": "completed"}"#, &headers, now),
        Err(pledg::CallbackError::Unsigned)
    );
    // Not JSON at all, and oversized.
    assert_eq!(
        fresh.verify(b"\xff\x00", &headers, now),
        Err(pledg::CallbackError::Malformed)
    );
    assert_eq!(
        fresh.verify(&vec![b' '; 100 * 1024], &headers, now),
        Err(pledg::CallbackError::Malformed)
    );
    server.abort();
    env.sandbox.shutdown().await;
}

/// The pages say a notification JWT *may* carry an expiry: a correctly
/// signed one with neither `exp` nor `iat` is accepted (once); with
/// `max_age` set, its age must show.
#[test]
fn pledg_notifications_without_exp_or_iat_are_accepted_unless_an_age_is_required() {
    let key = "merchant-secret-key";
    let jwt = |claims: serde_json::Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
        )
        .expect("signed")
    };
    let body = |claims| serde_json::to_vec(&json!({ "signature": jwt(claims) })).unwrap();
    let now = SystemTime::now();
    let bare = body(json!({"id": "pl_7", "status": "completed"}));
    let verifier = pledg::NotificationVerifier::new(payauth_runtime::Secret::new(key));
    let n = verifier
        .verify(&bare, &HeaderMap::new(), now)
        .expect("no exp, no iat: accepted");
    assert_eq!(n.status.as_deref(), Some("completed"));
    assert_eq!(
        verifier.verify(&bare, &HeaderMap::new(), now),
        Err(pledg::CallbackError::Replayed)
    );
    // Asked for an age limit: no way to tell its age → refused.
    let strict = pledg::NotificationVerifier::new(payauth_runtime::Secret::new(key))
        .max_age(std::time::Duration::from_secs(600));
    assert_eq!(
        strict.verify(&bare, &HeaderMap::new(), now),
        Err(pledg::CallbackError::Expired)
    );
    let secs = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let fresh = body(json!({"id": "pl_8", "iat": secs - 60}));
    assert!(strict.verify(&fresh, &HeaderMap::new(), now).is_ok());
    let old = body(json!({"id": "pl_9", "iat": secs - 3600}));
    assert_eq!(
        strict.verify(&old, &HeaderMap::new(), now),
        Err(pledg::CallbackError::Expired)
    );
    // Wrongly signed stays refused.
    let forged = serde_json::to_vec(&json!({"signature": jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"id": "pl_7"}),
        &jsonwebtoken::EncodingKey::from_secret(b"another key"),
    ).unwrap()}))
    .unwrap();
    assert_eq!(
        verifier.verify(&forged, &HeaderMap::new(), now),
        Err(pledg::CallbackError::BadSignature)
    );
}

/// axept's webhook is unsigned: the SDK parses it and confirms it with the
/// provider. A webhook that claims an approval the provider does not show
/// comes back as the provider's state; one about a transaction the provider
/// does not know is refused; a body that is no webhook is a typed error.
#[tokio::test]
async fn axept_webhooks_are_confirmed_with_the_provider_never_trusted() {
    let env = Env::start().await;
    let client: axept::Client = env.client(Provider::Axept).typed();
    let uti = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    let start: axept::types::StartTransactionRequest = serde_json::from_value(json!({
        "uti": uti, "amountTrans": 1200, "posSignatureCheck": true,
        "webHookUrl": "https://pos.example.com/axept/webhook"
    }))
    .unwrap();
    client.start_transaction().body(start).send().await.unwrap();
    // The cardholder's signature refused: the provider cancels it.
    let decision: axept::types::SignatureDecision =
        serde_json::from_value(json!({"uti": uti, "signatureAccepted": false})).unwrap();
    client
        .process_decision()
        .body(decision)
        .send()
        .await
        .unwrap();

    // A webhook claiming the opposite.
    let forged = json!({"uti": uti, "transApproved": true, "transCancelled": false,
                        "status": "Complete", "amountTrans": 1200})
    .to_string();
    let webhook = axept::webhook::parse(forged.as_bytes()).expect("a webhook");
    assert_eq!(webhook.claimed().trans_approved, Some(true));
    let before = client.metrics();
    let now = axept::webhook::confirm(&client, &webhook)
        .await
        .expect("confirmed");
    assert_eq!(
        client.metrics().requests,
        before.requests + 1,
        "one GET /Transaction/{{uti}}"
    );
    assert!(!now.is_approved(), "the provider's state, not the claim");
    assert_eq!(now.transaction().status, "Cancelled");
    assert_eq!(now.transaction().trans_cancelled, Some(true));
    assert_eq!(now.transaction().uti, uti);

    // A transaction the provider does not know.
    let unknown =
        axept::webhook::parse(br#"{"uti":"00000000-0000-4000-8000-000000000000","status":"Complete","transApproved":true}"#)
            .unwrap();
    let err = axept::webhook::confirm(&client, &unknown)
        .await
        .expect_err("not one of ours");
    assert!(err.is_unknown_transaction(), "{err:?}");
    assert!(
        matches!(err, axept::webhook::ConfirmError::Provider(ref e) if e.status() == Some(404))
    );

    // Not a webhook.
    assert_eq!(
        axept::webhook::parse(br#"{"uti":"../Transaction?PageSize=1"}"#).map(|_| ()),
        Err(axept::webhook::WebhookError::BadUti)
    );
    assert_eq!(
        axept::webhook::parse(b"<xml/>").map(|_| ()),
        Err(axept::webhook::WebhookError::Malformed)
    );
    env.sandbox.shutdown().await;
}
