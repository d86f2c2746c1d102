//! Callbacks the sandbox sends on its own: when a payment, payout, transaction or purchase
//! changes state, the application's loopback receiver gets the provider's callback, signed
//! as the provider signs it; the SDK's verifier accepts it, and the application fetches
//! the object it was told about from the same sandbox. Refused or unanswered callbacks are
//! retried on the sandbox clock (the test advances it: nothing sleeps for the backoff) and
//! given up after the bound.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::http::{HeaderMap, StatusCode};
use payauth_sandbox::{
    Answer, CallbackEvent, CallbackOutcome, CallbackSettings, ExiromCallbackForm, ExiromConfig,
    Provider, SandboxConfig, SandboxError, SandboxEvent,
};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use workspace_tests::support::Env;

/// Longest a test waits for anything (real time): a hang fails instead of blocking.
const PATIENCE: Duration = Duration::from_secs(20);

/// One POST the application received.
#[derive(Debug)]
struct Received {
    body: Vec<u8>,
    headers: HeaderMap,
}

/// A loopback application: records every POST to `/hook`, answering the scripted statuses
/// in turn, then 200.
struct App {
    url: String,
    inbox: mpsc::UnboundedReceiver<Received>,
    task: tokio::task::JoinHandle<()>,
}

impl App {
    async fn start(script: &[u16]) -> App {
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let (tx, inbox) = mpsc::unbounded_channel();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (tx, script) = (tx.clone(), script.clone());
                async move {
                    let _ = tx.send(Received {
                        body: body.to_vec(),
                        headers,
                    });
                    let status = script.lock().unwrap().pop_front().unwrap_or(200);
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        App { url, inbox, task }
    }

    async fn next(&mut self) -> Received {
        tokio::time::timeout(PATIENCE, self.inbox.recv())
            .await
            .expect("a callback arrives in time")
            .expect("the app runs")
    }

    /// How many callbacks arrived that were not taken yet.
    fn waiting(&mut self) -> usize {
        let mut n = 0;
        while self.inbox.try_recv().is_ok() {
            n += 1;
        }
        n
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The next callback event (request events skipped).
async fn next_callback(events: &mut broadcast::Receiver<SandboxEvent>) -> CallbackEvent {
    tokio::time::timeout(PATIENCE, async {
        loop {
            match events.recv().await {
                Ok(SandboxEvent::Callback(c)) => return c,
                Ok(_) => {}
                Err(e) => panic!("events: {e}"),
            }
        }
    })
    .await
    .expect("a callback event in time")
}

fn card_payment(request_id: &str, amount: &str, callback_url: &str) -> Value {
    json!({
        "requestId": request_id, "mid": "mid_shop_7", "amount": amount, "currency": "EUR",
        "card": {"number": "4111111111111111", "expiryMonth": "12", "expiryYear": "2030", "cvv": "123"},
        "billingDetails": {}, "order": {}, "device": {}, "callbackUrl": callback_url
    })
}

async fn pay(client: &exirom::Client, body: Value) -> exirom::types::CardPaymentResponse {
    client
        .create_card_payment()
        .body(serde_json::from_value::<exirom::types::CardPaymentRequest>(body).unwrap())
        .send()
        .await
        .expect("payment accepted")
        .into_inner()
}

fn exirom_verifier(env: &Env) -> exirom::CallbackVerifier {
    let secret = env
        .sandbox
        .credentials(Provider::Exirom)
        .text("merchant_secret")
        .to_owned();
    exirom::CallbackVerifier::new(payauth_runtime::Secret::new(secret)).replays_in_memory()
}

/// A typed answer as JSON.
macro_rules! to_json {
    ($v:expr) => {
        serde_json::to_value(&$v).unwrap()
    };
}

#[tokio::test]
async fn exirom_payments_and_payouts_call_back_signed_and_the_application_fetches_each() {
    let env = Env::start().await;
    let client: exirom::Client = env.client(Provider::Exirom).typed();
    let verifier = exirom_verifier(&env);
    let mut app = App::start(&[]).await;
    let mut events = env.sandbox.subscribe();

    // A card payment: called back at once with its status.
    let paid = pay(&client, card_payment("cb-card-1", "10.00", &app.url)).await;
    let got = app.next().await;
    let callback = verifier
        .verify(&got.body, &got.headers, SystemTime::now())
        .expect("the card payment's callback verifies");
    assert_eq!(callback.account_id, "mid_shop_7");
    assert_eq!(
        (callback.amount.as_str(), callback.currency.as_str()),
        ("10.00", "EUR")
    );
    let told = callback.transaction_id.unverified().clone().expect("an id");
    assert_eq!(told, paid.transaction_id);
    // The id is unsigned: the application asks the provider.
    let status = client
        .get_card_payment_status()
        .id(told.clone())
        .send()
        .await
        .expect("the payment it was told about exists")
        .into_inner();
    assert_eq!(status.transaction_status, "APPROVED");
    assert_eq!(
        callback.transaction_status.unverified().as_deref(),
        Some("APPROVED")
    );
    let event = next_callback(&mut events).await;
    assert_eq!(
        (event.provider, event.object.as_str(), event.attempt),
        (Provider::Exirom, told.as_str(), 1)
    );
    assert_eq!(event.outcome, CallbackOutcome::Delivered { status: 200 });

    // An APM payment: the callback carries the request's accountId, as the APM pages
    // document.
    let apm: exirom::types::ApmPaymentRequest = serde_json::from_value(json!({
        "requestId": "cb-apm-1", "accountId": "acc_cb_42", "amount": "25.50", "currency": "EUR",
        "paymentMethod": "SEPA", "checksum": "computed at send time", "callbackUrl": app.url
    }))
    .unwrap();
    let pending = client
        .create_apm_payment()
        .body(apm)
        .send()
        .await
        .expect("APM payment accepted")
        .into_inner();
    let got = app.next().await;
    let body: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(body["accountId"], "acc_cb_42", "{body}");
    let callback = verifier
        .verify(&got.body, &got.headers, SystemTime::now())
        .expect("the APM callback verifies");
    assert_eq!(callback.account_id, "acc_cb_42");
    assert_eq!(
        callback.transaction_status.unverified().as_deref(),
        Some("PENDING")
    );
    // Settled: a second callback, the new status; the fetched payment agrees.
    env.sandbox
        .settle(Provider::Exirom, &pending.transaction_id, "APPROVED")
        .unwrap();
    let got = app.next().await;
    let settled = verifier
        .verify(&got.body, &got.headers, SystemTime::now())
        .expect("a status update is no replay");
    assert_eq!(
        settled.transaction_status.unverified().as_deref(),
        Some("APPROVED")
    );
    let info = client
        .get_apm_payment_info()
        .id(pending.transaction_id.clone())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(to_json!(info)["transactionStatus"], "APPROVED");

    // A payout: PENDING, then declined.
    let payout: exirom::types::CardPayoutRequest = serde_json::from_value(json!({
        "requestId": "cb-payout-1", "mid": "mid_shop_7", "amount": "7.00", "currency": "EUR",
        "card": {"number": "4111111111111111", "expiryMonth": "12", "expiryYear": "2030"},
        "callbackUrl": app.url
    }))
    .unwrap();
    let out = client
        .create_card_payout()
        .body(payout)
        .send()
        .await
        .unwrap()
        .into_inner();
    let out_id = to_json!(out)["transactionId"].as_str().unwrap().to_owned();
    let got = app.next().await;
    verifier
        .verify(&got.body, &got.headers, SystemTime::now())
        .expect("the payout's callback verifies");
    env.sandbox
        .settle(Provider::Exirom, &out_id, "DECLINED")
        .unwrap();
    let got = app.next().await;
    let declined = verifier
        .verify(&got.body, &got.headers, SystemTime::now())
        .expect("the decline verifies");
    assert_eq!(declined.fields["declineCode"], "05");
    let info = client
        .get_card_payout_info()
        .id(out_id.clone())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(to_json!(info)["transactionStatus"], "DECLINED");

    // The same payment request again is a replay of the answer, not a new state: no
    // callback.
    pay(&client, card_payment("cb-card-1", "10.00", &app.url)).await;
    assert_eq!(
        env.sandbox.settle(Provider::Exirom, "txn_nope", "APPROVED"),
        Err(SandboxError::UnknownObject {
            provider: Provider::Exirom,
            id: "txn_nope".into()
        })
    );
    assert!(
        env.sandbox
            .settle(Provider::Exirom, &out_id, "a b")
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.waiting(), 0, "a replayed request sends nothing");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn exirom_callbacks_in_either_form_verify_with_the_sdk() {
    for (form, amount_key, amount) in [
        (ExiromCallbackForm::Amount, "amount", json!("12.30")),
        (ExiromCallbackForm::OrderAmount, "orderAmount", json!(1230)),
    ] {
        let mut cfg = SandboxConfig::default();
        cfg.provider_mut::<ExiromConfig>().callback_form = form;
        let env = Env::start_with(cfg).await;
        let client: exirom::Client = env.client(Provider::Exirom).typed();
        let mut app = App::start(&[]).await;
        pay(&client, card_payment("cb-form", "12.30", &app.url)).await;
        let got = app.next().await;
        let body: Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(body[amount_key], amount, "{form:?}: {body}");
        let currency_key = if form == ExiromCallbackForm::Amount {
            "currency"
        } else {
            "orderCurrency"
        };
        assert_eq!(body[currency_key], "EUR", "{body}");
        let callback = exirom_verifier(&env)
            .verify(&got.body, &got.headers, SystemTime::now())
            .unwrap_or_else(|e| panic!("{form:?} verifies: {e:?}"));
        let expected = match &amount {
            Value::String(s) => s.clone(),
            n => n.to_string(),
        };
        assert_eq!(callback.amount, expected);
        env.sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn axept_webhooks_arrive_forwarded_and_are_confirmed_with_the_provider() {
    // axept's webHookUrl must be https: the sandbox forwards to the local app instead.
    let mut app = App::start(&[]).await;
    let mut cfg = SandboxConfig::default();
    cfg.callbacks = CallbackSettings::default().forward_to(app.url.clone());
    let env = Env::start_with(cfg).await;
    let client: axept::Client = env.client(Provider::Axept).typed();
    let mut events = env.sandbox.subscribe();
    let uti = "5b2c3d4e-6f7a-4b8c-9d0e-1f2a3b4c5d6e";
    let start: axept::types::StartTransactionRequest = serde_json::from_value(json!({
        "uti": uti, "amountTrans": 4200, "webHookUrl": "https://pos.example.com/axept/hook"
    }))
    .unwrap();
    client.start_transaction().body(start).send().await.unwrap();
    let got = app.next().await;
    let webhook = axept::webhook::parse(&got.body).expect("a webhook");
    assert_eq!(webhook.uti(), uti);
    let now = axept::webhook::confirm(&client, &webhook)
        .await
        .expect("the transaction it was told about exists");
    assert!(now.is_approved());
    let event = next_callback(&mut events).await;
    assert!(event.forwarded, "{event:?}");
    assert_eq!(event.url, app.url);
    assert!(event.to_string().contains("(forwarded)"), "{event}");

    // The signature refused: a second webhook, and the provider says Cancelled.
    let decision: axept::types::SignatureDecision =
        serde_json::from_value(json!({"uti": uti, "signatureAccepted": false})).unwrap();
    client
        .process_decision()
        .body(decision)
        .send()
        .await
        .unwrap();
    let got = app.next().await;
    let webhook = axept::webhook::parse(&got.body).unwrap();
    assert_eq!(webhook.claimed().status.as_deref(), Some("Cancelled"));
    let now = axept::webhook::confirm(&client, &webhook).await.unwrap();
    assert_eq!(now.transaction().status, "Cancelled");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn pledg_notifications_arrive_on_settlement_and_verify() {
    let env = Env::start().await;
    let client: pledg::Client = env.client(Provider::Pledg).typed();
    let mut app = App::start(&[]).await;
    let body: pledg::types::PurchaseLinkRequest = serde_json::from_value(json!({
        "merchant_uid": env.sandbox.pledg_merchant_uid(), "title": "Lamp",
        "reference": "order-cb-9", "amount_cents": 4500, "currency": "EUR",
        "notification_url": app.url
    }))
    .unwrap();
    let link = client
        .create_purchase_link()
        .body(body)
        .send()
        .await
        .unwrap()
        .into_inner();
    env.sandbox
        .settle(Provider::Pledg, &link.uid, "completed")
        .unwrap();
    let got = app.next().await;
    let secret = payauth_runtime::Secret::new(env.sandbox.pledg_secret_key());
    let n = pledg::NotificationVerifier::new(secret)
        .replays_in_memory()
        .verify(&got.body, &got.headers, SystemTime::now())
        .expect("the notification verifies");
    assert_eq!(n.id.as_deref(), Some(link.uid.as_str()));
    assert_eq!(n.reference.as_deref(), Some("order-cb-9"));
    assert_eq!(n.status.as_deref(), Some("completed"));
    assert!(matches!(
        env.sandbox.settle(Provider::Pledg, "pl_nope", "completed"),
        Err(SandboxError::UnknownObject { .. })
    ));
    env.sandbox.shutdown().await;
}

/// Retries wait on the sandbox clock: with an hour between attempts, the test still ends
/// in seconds because it advances the clock when the sandbox says a retry is due.
#[tokio::test]
async fn a_refused_callback_is_retried_on_the_sandbox_clock_until_acknowledged() {
    let mut cfg = SandboxConfig::default();
    cfg.callbacks = CallbackSettings {
        first_retry: Duration::from_secs(3600),
        max_retry: Duration::from_secs(4 * 3600),
        ..CallbackSettings::default()
    };
    let env = Env::start_with(cfg).await;
    let client: exirom::Client = env.client(Provider::Exirom).typed();
    let mut app = App::start(&[500, 503]).await;
    let mut events = env.sandbox.subscribe();
    let started = Instant::now();
    pay(&client, card_payment("cb-retry", "10.00", &app.url)).await;

    let first = next_callback(&mut events).await;
    assert_eq!(
        first.outcome,
        CallbackOutcome::WillRetry {
            answer: Answer::Status(500),
            retry_in: Duration::from_secs(3600)
        }
    );
    app.next().await;
    // Nothing more until the clock moves.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.waiting(), 0, "the retry waits for the sandbox clock");
    env.advance(Duration::from_secs(3600));
    let second = next_callback(&mut events).await;
    assert_eq!(second.attempt, 2);
    assert_eq!(
        second.outcome,
        CallbackOutcome::WillRetry {
            answer: Answer::Status(503),
            retry_in: Duration::from_secs(7200)
        }
    );
    app.next().await;
    env.advance(Duration::from_secs(7200));
    let third = next_callback(&mut events).await;
    assert_eq!(
        (third.attempt, third.delivery),
        (3, first.delivery),
        "one callback"
    );
    assert_eq!(third.outcome, CallbackOutcome::Delivered { status: 200 });
    let last = app.next().await;
    exirom_verifier(&env)
        .verify(&last.body, &last.headers, SystemTime::now())
        .expect("the retried callback is the same genuine one");
    assert!(started.elapsed() < PATIENCE);
    assert_eq!(
        env.sandbox.callbacks().last().map(|c| c.attempt),
        Some(3),
        "the control plane's view"
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_receiver_that_refuses_or_is_down_is_given_up_after_the_bound() {
    let mut cfg = SandboxConfig::default();
    cfg.callbacks = CallbackSettings {
        max_attempts: 3,
        ..CallbackSettings::default()
    };
    let env = Env::start_with(cfg).await;
    let client: exirom::Client = env.client(Provider::Exirom).typed();

    // Refuses every time.
    let mut app = App::start(&[500; 10]).await;
    let mut events = env.sandbox.subscribe();
    pay(&client, card_payment("cb-refused", "1.00", &app.url)).await;
    for attempt in 1..=2 {
        let e = next_callback(&mut events).await;
        assert_eq!(e.attempt, attempt);
        let CallbackOutcome::WillRetry { retry_in, .. } = e.outcome else {
            panic!("{e:?}")
        };
        env.advance(retry_in);
    }
    let e = next_callback(&mut events).await;
    assert_eq!(
        (e.attempt, &e.outcome),
        (
            3,
            &CallbackOutcome::GaveUp {
                answer: Answer::Status(500)
            }
        )
    );
    assert!(e.to_string().contains("gave up after 3 attempts"), "{e}");
    for _ in 0..3 {
        app.next().await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.waiting(), 0, "exactly three attempts");

    // Down: nothing listens on the port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    pay(
        &client,
        card_payment("cb-down", "1.00", &format!("http://{closed}/hook")),
    )
    .await;
    let mut last = None;
    for _ in 0..3 {
        let e = next_callback(&mut events).await;
        if let CallbackOutcome::WillRetry { retry_in, answer } = &e.outcome {
            assert!(matches!(answer, Answer::Unreachable(_)), "{answer:?}");
            env.advance(*retry_in);
        }
        last = Some(e);
    }
    let last = last.unwrap();
    assert!(
        matches!(
            &last.outcome,
            CallbackOutcome::GaveUp {
                answer: Answer::Unreachable(why)
            } if why == "connection refused"
        ),
        "{last:?}"
    );
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_url_off_this_machine_is_not_called_and_requests_are_reported() {
    let env = Env::start().await;
    let client: exirom::Client = env.client(Provider::Exirom).typed();
    let mut events = env.sandbox.subscribe();
    pay(
        &client,
        card_payment(
            "cb-remote",
            "1.00",
            "https://merchant.example.com/cb?key=s3cret",
        ),
    )
    .await;
    let e = next_callback(&mut events).await;
    assert!(
        matches!(&e.outcome, CallbackOutcome::NotSent { reason } if reason.contains("not on this machine")),
        "{e:?}"
    );
    assert_eq!(e.url, "https://merchant.example.com/cb", "no query shown");

    // Each request as one event with what was decided.
    let mut events = env.sandbox.subscribe();
    pay(
        &client,
        card_payment(
            "cb-remote",
            "1.00",
            "https://merchant.example.com/cb?key=s3cret",
        ),
    )
    .await;
    let decided = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(SandboxEvent::Request(r)) = events.recv().await
                && r.route == payauth_sandbox::Route::CardPayment
            {
                return r;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(decided.status, Some(200));
    assert_eq!(decided.decision.as_deref(), Some("replayed requestId"));
    env.sandbox.revoke_all(Provider::Exirom);
    let revoked = reqwest::Client::new()
        .get(
            env.sandbox
                .url(Provider::Exirom, payauth_sandbox::Route::Protected)
                .unwrap(),
        )
        .header(
            "authorization",
            client.bearer().await.unwrap().header_value().clone(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);
    let refused = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(SandboxEvent::Request(r)) = events.recv().await
                && r.route == payauth_sandbox::Route::Protected
            {
                return r;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(
        refused.decision.as_deref(),
        Some("token revoked"),
        "{refused}"
    );
    env.sandbox.shutdown().await;
}
