//! E2E through the typed operations added for every provider, against the
//! sandbox: exirom card payments (idempotent retry after a timeout),
//! axept transactions (+ typed `X-Pagination`), bursagb `Customer/Get`,
//! pledg's signed purchase link and dashboard Basic.

use std::time::Duration;

use payauth_runtime::{ErrorKind, RetryPolicy, Secret};
use payauth_sandbox::{Fault, Provider, Route};
use serde_json::json;
use workspace_tests::raw::{Sent as _, post};
use workspace_tests::support::Env;

/// exirom's client, each request bounded by `timeout`.
fn exirom_client(env: &Env, timeout: Duration) -> exirom::Client {
    let options = env.options().timeout(timeout);
    env.client_where(Provider::Exirom, options, &[]).typed()
}

fn payment(request_id: &str, card: &str, amount: &str) -> exirom::types::CardPaymentRequest {
    serde_json::from_value(json!({
        "requestId": request_id,
        "mid": "mid_sandbox_001",
        "amount": amount,
        "currency": "EUR",
        "card": {"number": card, "expiryMonth": "12", "expiryYear": "2030", "cvv": "123"},
        "billingDetails": {"email": "alex@example.com", "country": "FR"},
        "order": {"description": "Order 42"},
        "device": {"ipAddress": "203.0.113.7"}
    }))
    .expect("a valid card payment")
}

fn pledg(env: &Env) -> pledg::Client {
    env.client(Provider::Pledg).typed()
}

/// pledg's client from the sandbox's variables with `changes`.
fn pledg_where(env: &Env, changes: &[(&'static str, Option<&str>)]) -> pledg::Client {
    env.client_where(Provider::Pledg, env.options(), changes)
        .typed()
}

fn purchase(env: &Env, reference: &str) -> pledg::types::PurchaseLinkRequest {
    serde_json::from_value(json!({
        "merchant_uid": env.sandbox.pledg_merchant_uid(),
        "title": "Sofa",
        "reference": reference,
        "amount_cents": 129900,
        "currency": "EUR",
        "purchase_link_settings": {"expiration_days": 7}
    }))
    .expect("valid purchase settings")
}

#[tokio::test]
async fn exirom_card_payment_then_status_reads_it_back() {
    let env = Env::start().await;
    let client = exirom_client(&env, Duration::from_secs(10));
    let paid = client
        .create_card_payment()
        .body(payment("req-approve-1", "4111111111111111", "10.00"))
        .send()
        .await
        .expect("payment processed")
        .into_inner();
    assert_eq!(paid.transaction_status, "APPROVED");
    let status = client
        .get_card_payment_status()
        .id(&paid.transaction_id)
        .send()
        .await
        .expect("status read")
        .into_inner();
    assert_eq!(status.transaction_id, paid.transaction_id);
    assert_eq!(status.transaction_status, "APPROVED");

    // A decline is a 200 too, with its code.
    let declined = client
        .create_card_payment()
        .body(payment("req-decline-1", "4000000000000002", "10.00"))
        .send()
        .await
        .expect("a decline is a 200")
        .into_inner();
    assert_eq!(declined.transaction_status, "DECLINED");
    assert_eq!(declined.decline_code.as_deref(), Some("05"));

    let missing = client
        .get_card_payment_status()
        .id("txn_nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(404));
}

#[tokio::test]
async fn exirom_payment_retried_after_a_timeout_creates_one_payment() {
    let env = Env::start().await;
    let client = exirom_client(&env, Duration::from_millis(500));
    client.bearer().await.expect("logged in before the fault");
    env.sandbox.inject(
        Provider::Exirom,
        Route::CardPayment,
        Fault::respond_after(Duration::from_secs(3)),
    );
    let first = client
        .create_card_payment()
        .body(payment("req-timeout-1", "4111111111111111", "10.00"))
        .send()
        .await
        .expect("the retry (same requestId) gets the original answer");
    assert_eq!(payauth_runtime::retry::attempts_of(first.headers()), 2);
    assert_eq!(env.sandbox.created(Provider::Exirom), 1, "one payment");
    assert_eq!(
        env.requests(Provider::Exirom, Route::CardPayment),
        2,
        "sent twice"
    );
    // The same request again: the original answer, still one payment.
    let again = client
        .create_card_payment()
        .body(payment("req-timeout-1", "4111111111111111", "10.00"))
        .send()
        .await
        .expect("idempotent repeat")
        .into_inner();
    assert_eq!(again.transaction_id, first.into_inner().transaction_id);
    assert_eq!(env.sandbox.created(Provider::Exirom), 1);
}

#[tokio::test]
async fn exirom_payment_retried_after_a_503_keeps_its_request_id() {
    let env = Env::start().await;
    let client = exirom_client(&env, Duration::from_secs(10));
    env.sandbox
        .inject(Provider::Exirom, Route::CardPayment, Fault::status(503));
    let paid = client
        .create_card_payment()
        .body(payment("req-503-1", "4111111111111111", "10.00"))
        .send()
        .await
        .expect("retried after the 503");
    assert_eq!(payauth_runtime::retry::attempts_of(paid.headers()), 2);
    assert_eq!(paid.into_inner().request_id.as_deref(), Some("req-503-1"));
    assert_eq!(env.sandbox.created(Provider::Exirom), 1);
}

#[tokio::test]
async fn exirom_reused_request_id_with_another_body_is_a_409_and_bad_amount_a_422() {
    let env = Env::start().await;
    let client = exirom_client(&env, Duration::from_secs(10));
    client
        .create_card_payment()
        .body(payment("req-dup-1", "4111111111111111", "10.00"))
        .send()
        .await
        .expect("first use");
    let conflict = client
        .create_card_payment()
        .body(payment("req-dup-1", "4111111111111111", "12.00"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(conflict.status(), Some(409));
    let unprocessable = client
        .create_card_payment()
        .body(payment("req-amount-1", "4111111111111111", "ten"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(unprocessable.status(), Some(422));
    assert_eq!(env.sandbox.created(Provider::Exirom), 1);
}

#[tokio::test]
async fn a_post_without_an_idempotency_key_is_not_retried_after_a_timeout() {
    let env = Env::start().await;
    let options = env.options().timeout(Duration::from_millis(500));
    let client: bursagb::Client = env.client_where(Provider::Bursagb, options, &[]).typed();
    client.bearer().await.expect("logged in");
    env.sandbox.inject(
        Provider::Bursagb,
        Route::OrdersCreate,
        Fault::respond_after(Duration::from_secs(3)),
    );
    let order: bursagb::types::CreateOrderRequest = serde_json::from_value(json!({
        "customerId": "cus_1", "currency": "TRY", "items": [{"productId": "p", "quantity": 1}]
    }))
    .unwrap();
    let err = client.create_order().body(order).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err:?}");
    assert_eq!(err.status(), None, "no answer: {err:?}");
    assert!(
        std::error::Error::source(err.error())
            .and_then(|c| c.downcast_ref::<reqwest::Error>())
            .is_some_and(|c| c.is_timeout()),
        "the timeout is the source: {err:?}"
    );
    assert_eq!(env.requests(Provider::Bursagb, Route::OrdersCreate), 1);
}

#[tokio::test]
async fn axept_get_transaction_after_start_and_typed_pagination() {
    let env = Env::start().await;
    let client: axept::Client = env.client(Provider::Axept).typed();
    let uti = "3f2c9a4e-6a51-4d0b-9d0e-5b7b1a2c3d4e";
    let body: axept::types::StartTransactionRequest = serde_json::from_value(json!({
        "uti": uti, "tid": "12345678", "transType": "SALE", "amountTrans": 3000,
        "amountGratuity": 0, "reference": "ORDER42", "posSignatureCheck": false
    }))
    .unwrap();
    let started = client
        .start_transaction()
        .body(body.clone())
        .send()
        .await
        .expect("started")
        .into_inner();
    assert_eq!(started.uti, uti);
    let read = client
        .get_transaction()
        .uti(uti)
        .send()
        .await
        .expect("read back")
        .into_inner();
    assert_eq!(read.uti, uti);
    assert!(read.trans_approved && read.status == "Complete");
    // The same request again: the same transaction; another one with its uti: 409.
    let again = client
        .start_transaction()
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(again.into_inner()).unwrap(),
        serde_json::to_value(&started).unwrap()
    );
    let mut other = body;
    other.amount_trans = Some(1);
    let dup = client
        .start_transaction()
        .body(other)
        .send()
        .await
        .unwrap_err();
    assert_eq!(dup.status(), Some(409));

    let page = client
        .list_transactions()
        .page_size(10)
        .send()
        .await
        .expect("listed");
    let paging = axept::pagination(page.headers())
        .expect("well-formed header")
        .expect("header present");
    // The one started, and the one the sandbox keeps waiting for a signature decision.
    assert_eq!(
        (
            paging.total_count,
            paging.page_size,
            paging.current_page,
            paging.total_pages
        ),
        (2, 10, 1, 1)
    );
    assert_eq!(page.into_inner().len(), 2);
}

#[tokio::test]
async fn bursagb_get_customer_with_and_without_region() {
    let env = Env::start().await;
    let client: bursagb::Client = env.client(Provider::Bursagb).typed();
    let me = client
        .get_customer()
        .send()
        .await
        .expect("customer")
        .into_inner();
    assert_eq!(me.data.customer_id, "reseller-0001");
    assert_eq!(me.data.region.as_deref(), Some("TR"));
    let de = client
        .get_customer()
        .h_region_code("de")
        .send()
        .await
        .expect("customer")
        .into_inner();
    assert_eq!(de.data.region.as_deref(), Some("DE"));
    let bad = client
        .get_customer()
        .h_region_code("not-a-region")
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(400));
}

#[tokio::test]
async fn pledg_signed_purchase_link_is_accepted() {
    let env = Env::start().await;
    let client = pledg(&env);
    let link = client
        .create_purchase_link()
        .body(purchase(&env, "order-42"))
        .send()
        .await
        .expect("signed and accepted")
        .into_inner();
    assert!(link.uid.starts_with("pl_"));
    assert_eq!(link.reference.as_deref(), Some("order-42"));
    assert_eq!(env.sandbox.created(Provider::Pledg), 1);
    // The signature scheme needs no token: no login happened.
    assert_eq!(env.logins(Provider::Pledg), 0);
}

#[tokio::test]
async fn pledg_tampered_or_wrongly_signed_purchase_links_are_refused() {
    let env = Env::start().await;
    // Signed with another secret key: the provider's 401.
    let wrong = pledg_where(&env, &[("PLEDG_SECRET_KEY", Some("not-the-merchant-key"))]);
    let refused = wrong
        .create_purchase_link()
        .body(purchase(&env, "order-43"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(401));

    // A valid signature over one body, sent with another: tampered.
    let secret = Secret::new(env.sandbox.pledg_secret_key());
    let signed = serde_json::to_vec(&purchase(&env, "order-44")).unwrap();
    let jwt = payauth_runtime::provider::signing::sign_body_jwt(
        "pledg",
        &secret,
        "data",
        Duration::from_secs(60),
        &signed,
        std::time::SystemTime::now(),
    )
    .unwrap();
    // `POST /api/purchase_link/` by hand, with `signature` if any.
    let link = |signature: Option<&str>, reference: &str| {
        let rb = post(&env.sandbox, Provider::Pledg, "/api/purchase_link/");
        let rb = match signature {
            Some(jwt) => rb.query(&[("signature", jwt)]),
            None => rb,
        };
        rb.json(&purchase(&env, reference)).status()
    };
    assert_eq!(link(Some(&jwt), "order-45").await, 400);
    // A tampered JWT (one character of the signature changed).
    let mut bad = jwt.clone().into_bytes();
    let last = bad.len() - 2;
    bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(bad).unwrap();
    assert_eq!(link(Some(&forged), "order-44").await, 401);
    // Unsigned.
    assert_eq!(link(None, "order-44").await, 401);
    // Expired: the sandbox's clock moves past the JWT's one-day `exp`.
    env.advance(Duration::from_secs(2 * 24 * 3600));
    assert_eq!(link(Some(&jwt), "order-44").await, 401);
    assert_eq!(env.sandbox.created(Provider::Pledg), 0);
}

#[tokio::test]
async fn pledg_signature_without_a_secret_key_is_a_typed_config_error() {
    let env = Env::start().await;
    let client = pledg_where(&env, &[("PLEDG_SECRET_KEY", None)]);
    let err = client
        .create_purchase_link()
        .body(purchase(&env, "order-46"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err:?}");
    assert_eq!(err.operation(), "create_purchase_link");
    assert_eq!(env.requests(Provider::Pledg, Route::PurchaseLink), 0);
}

#[tokio::test]
async fn pledg_dashboard_basic_on_a_hand_made_request() {
    let env = Env::start().await;
    let client = pledg(&env);
    use pledg::DashboardExt;
    let response = client
        .send_dashboard(client.request(reqwest::Method::GET, "/sandbox/protected"))
        .await
        .expect("dashboard credentials accepted");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["mechanism"], "dashboard_basic");
    assert_eq!(env.logins(Provider::Pledg), 0, "no token involved");

    let options = env
        .options()
        .retry_policy(RetryPolicy::default().max_retries(0));
    let wrong: pledg::Client = env
        .client_where(
            Provider::Pledg,
            options,
            &[("PLEDG_DASHBOARD_PASSWORD", Some("wrong"))],
        )
        .typed();
    let err = wrong
        .send_dashboard(wrong.request(reqwest::Method::GET, "/sandbox/protected"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);

    // Without dashboard credentials: a configuration error, nothing sent.
    let before = env.requests(Provider::Pledg, Route::Protected);
    let none = pledg_where(
        &env,
        &[
            ("PLEDG_DASHBOARD_USER", None),
            ("PLEDG_DASHBOARD_PASSWORD", None),
        ],
    );
    let err = none
        .send_dashboard(none.request(reqwest::Method::GET, "/sandbox/protected"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert_eq!(env.requests(Provider::Pledg, Route::Protected), before);
}

#[tokio::test]
async fn every_mechanism_is_configurable_from_the_environment() {
    use payauth_runtime::provider::Provider as _;
    let env = Env::start().await;
    let api_key = env.credential(Provider::Pledg, "api_key");
    let api_secret = env.credential(Provider::Pledg, "api_secret");
    let (user, password) = env.sandbox.pledg_dashboard();
    let secret_key = env.sandbox.pledg_secret_key();
    let base = env.sandbox.base_url(Provider::Pledg);
    let vars = [
        ("PLEDG_BASE_URL", base.as_str()),
        ("PLEDG_API_KEY", api_key.as_str()),
        ("PLEDG_API_SECRET", api_secret.as_str()),
        ("PLEDG_SECRET_KEY", secret_key.as_str()),
        ("PLEDG_DASHBOARD_USER", user.as_str()),
        ("PLEDG_DASHBOARD_PASSWORD", password.as_str()),
    ];
    let get = |k: &str| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    let client = pledg::builder()
        .shared_cache(false)
        .from_env_with(&get)
        .unwrap()
        .build()
        .unwrap();
    client
        .create_purchase_link()
        .body(purchase(&env, "order-env"))
        .send()
        .await
        .expect("signed with PLEDG_SECRET_KEY");
    use pledg::DashboardExt;
    client
        .send_dashboard(client.request(reqwest::Method::GET, "/sandbox/protected"))
        .await
        .expect("dashboard Basic from PLEDG_DASHBOARD_*");
    client.bearer().await.expect("API key and secret");
    // Debug never shows a secret.
    let creds = pledg::Pledg::credentials_from_env(&get).unwrap();
    let shown = format!("{creds:?}");
    assert!(
        !shown.contains(&secret_key) && !shown.contains(&password) && !shown.contains(&api_secret)
    );

    // A dashboard user without its password is a config error.
    let half = |k: &str| (k != "PLEDG_DASHBOARD_PASSWORD").then(|| get(k)).flatten();
    let err = pledg::Pledg::credentials_from_env(&half).unwrap_err();
    assert!(err.is_config());

    // exirom: the checksum secret defaults to the merchant secret.
    let ex = |k: &str| match k {
        "MERCHANT_KEY" => Some("mk".to_string()),
        "MERCHANT_SECRET" => Some("ms".to_string()),
        "EXIROM_CHECKSUM_SECRET" => Some("cs".to_string()),
        _ => None,
    };
    let creds = exirom::Exirom::credentials_from_env(&ex).unwrap();
    assert_eq!(creds.checksum_key().expose(), "cs");
    let default = exirom::Exirom::credentials_from_env(&|k| {
        (k != "EXIROM_CHECKSUM_SECRET").then(|| ex(k)).flatten()
    })
    .unwrap();
    assert_eq!(default.checksum_key().expose(), "ms");
}

#[test]
fn the_security_table_carries_the_signature_and_the_idempotency_key() {
    let op = exirom::generated::security::for_operation("create_card_payment");
    assert_eq!(op.idempotency_key, Some("requestId"));
    assert_eq!(
        exirom::generated::security::for_operation("get_card_payment_status").idempotency_key,
        None
    );
    let link = pledg::generated::security::for_operation("create_purchase_link");
    assert!(link.signs_url());
    assert_eq!(
        link.alternatives[0][0].kind,
        payauth_runtime::provider::SchemeKind::SignedQueryJwt {
            param: "signature",
            claim: "data",
            lifetime_secs: 86_400
        }
    );
    assert_eq!(
        pledg::generated::security::scheme("dashboardBasic")
            .unwrap()
            .alternatives[0][0]
            .kind,
        payauth_runtime::provider::SchemeKind::Basic
    );
}

fn apm(request_id: &str, amount: serde_json::Value) -> exirom::types::ApmPaymentRequest {
    serde_json::from_value(json!({
        "requestId": request_id, "accountId": "acc_sandbox_001", "amount": amount,
        "currency": "EUR", "paymentMethod": "SEPA",
        // Whatever the caller writes here is replaced at send time.
        "checksum": "caller-garbage"
    }))
    .expect("a valid APM payment")
}

#[tokio::test]
async fn exirom_apm_payment_is_checksummed_at_send_time_in_either_amount_form() {
    let env = Env::start().await;
    let client = exirom_client(&env, Duration::from_secs(10));
    // The API reference's form (default): the decimal string.
    let decimal = client
        .create_apm_payment()
        .body(apm("apm-1", json!("10.00")))
        .send()
        .await
        .expect("checksum over 10.00 accepted")
        .into_inner();
    assert_eq!(decimal.transaction_status, "PENDING");
    // The other page's form, selected by writing minor units.
    client
        .create_apm_payment()
        .body(apm("apm-2", json!(1000)))
        .send()
        .await
        .expect("checksum over 1000 accepted");
    // The same request again: the original answer (idempotency key).
    let again = client
        .create_apm_payment()
        .body(apm("apm-1", json!("10.00")))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.transaction_id, decimal.transaction_id);
    assert_eq!(env.sandbox.created(Provider::Exirom), 2);

    // A checksum secret the provider does not know: 403.
    let wrong: exirom::Client = env
        .client_where(
            Provider::Exirom,
            env.options(),
            &[("EXIROM_CHECKSUM_SECRET", Some("not-it"))],
        )
        .typed();
    let refused = wrong
        .create_apm_payment()
        .body(apm("apm-3", json!("10.00")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(403));
    // Unsigned (a hand-made request without the checksum): 400.
    let token = client.bearer().await.unwrap();
    let unsigned = post(&env.sandbox, Provider::Exirom, "/v1/payments/apm")
        .header("authorization", token.header_value().clone())
        .json(
            &json!({"requestId": "apm-4", "accountId": "a", "amount": "1.00",
                      "currency": "EUR", "paymentMethod": "SEPA"}),
        );
    assert_eq!(unsigned.status().await, 400);
}

#[test]
fn a_body_that_cannot_be_checksummed_is_a_typed_signing_error() {
    let checksum = exirom::generated::security::for_operation("create_apm_payment")
        .body_checksum
        .expect("x-body-checksum read by codegen");
    assert_eq!(
        checksum.parts,
        ["accountId", "amount", "currency", "requestId"]
    );
    let err = payauth_runtime::provider::signing::checksum_into_body(
        "exirom",
        &Secret::new("k"),
        &checksum,
        br#"{"accountId": "a"}"#,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Signing);
    // The runtime's checksum is the documented one.
    let body = payauth_runtime::provider::signing::checksum_into_body(
        "exirom",
        &Secret::new("k"),
        &checksum,
        br#"{"accountId": "a", "amount": "10.00", "currency": "EUR", "requestId": "r"}"#,
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v["checksum"].as_str(),
        exirom::apm_checksum(
            &Secret::new("k"),
            "a",
            "10.00",
            "EUR",
            "r",
            exirom::AmountForm::Decimal
        )
        .as_deref()
    );
}

#[tokio::test]
async fn a_request_that_cannot_be_signed_is_a_typed_signing_error_and_is_not_sent() {
    let env = Env::start().await;
    let client = pledg(&env);
    let signed = pledg::generated::security::for_operation("create_purchase_link");
    let err = client
        .send_with(
            client
                .request(reqwest::Method::POST, "/api/purchase_link/")
                .body("not json"),
            signed,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Signing);
    assert_eq!(env.requests(Provider::Pledg, Route::PurchaseLink), 0);
}

/// bursagb's other brand: the login body in lower case (`email` /
/// `password`), answered in lower case (`data.token`); the SDK logs in and
/// calls with it. From the environment too (`BURSAGB_FIELD_CASE=lower`).
#[tokio::test]
async fn bursagb_lower_case_login_end_to_end() {
    use payauth_runtime::provider::Provider as _;
    let env = Env::start().await;
    let email = env.credential(Provider::Bursagb, "email");
    let password = env.credential(Provider::Bursagb, "password");
    let base = env.sandbox.base_url(Provider::Bursagb);
    let client = bursagb::builder()
        .base_url(base.clone())
        .credentials(
            bursagb::Credentials::new(email.clone(), password.clone())
                .field_case(bursagb::FieldCase::Lower),
        )
        .shared_cache(false)
        .build()
        .unwrap();
    client.bearer().await.expect("lower-case login");
    client
        .get_customer()
        .send()
        .await
        .expect("a bearer call with it");
    assert_eq!(env.logins(Provider::Bursagb), 1);

    let vars = [
        ("BURSAGB_BASE_URL", base),
        ("BURSAGB_EMAIL", email),
        ("BURSAGB_PASSWORD", password),
        ("BURSAGB_FIELD_CASE", "lower".to_string()),
    ];
    let get = |k: &str| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.clone())
    };
    let from_env = bursagb::Bursagb::credentials_from_env(&get).unwrap();
    assert_eq!(from_env.field_case, bursagb::FieldCase::Lower);
    let bad = |k: &str| match k {
        "BURSAGB_FIELD_CASE" => Some("shouting".to_string()),
        other => get(other),
    };
    assert!(bursagb::Bursagb::credentials_from_env(&bad).is_err());
}

fn payout(request_id: &str, amount: &str) -> exirom::types::CardPayoutRequest {
    serde_json::from_value(json!({
        "requestId": request_id, "mid": "mid_sandbox_001", "amount": amount, "currency": "EUR",
        "card": {"number": "4111111111111111", "expiryMonth": "12", "expiryYear": "2030"}
    }))
    .expect("valid payout")
}

/// exirom's card payout, its info, and an APM payment's info — the three
/// documented operations the SDK lacked: typed, idempotent by `requestId`
/// (a 503 is retried with the same body and creates one payout), typed
/// errors for a reused `requestId` (409), a non-decimal amount (422) and
/// an unknown id (404).
#[tokio::test]
async fn exirom_payouts_and_apm_info() {
    let env = Env::start().await;
    let client = exirom_client(&env, Duration::from_secs(10));
    env.sandbox
        .inject(Provider::Exirom, Route::CardPayout, Fault::status(503));
    let paid = client
        .create_card_payout()
        .body(payout("po-1", "25.00"))
        .send()
        .await
        .expect("retried after the 503")
        .into_inner();
    assert_eq!(paid.transaction_status, "PENDING");
    assert_eq!(env.requests(Provider::Exirom, Route::CardPayout), 2);
    assert_eq!(env.sandbox.created(Provider::Exirom), 1, "one payout");
    let again = client
        .create_card_payout()
        .body(payout("po-1", "25.00"))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.transaction_id, paid.transaction_id);
    let conflict = client
        .create_card_payout()
        .body(payout("po-1", "26.00"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(conflict.kind(), ErrorKind::Conflict, "{conflict:?}");
    let unprocessable = client
        .create_card_payout()
        .body(payout("po-2", "ten"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(unprocessable.status(), Some(422));
    assert_eq!(unprocessable.kind(), ErrorKind::BadRequest);

    let info = client
        .get_card_payout_info()
        .id(paid.transaction_id.as_str())
        .send()
        .await
        .expect("payout info")
        .into_inner();
    assert_eq!(info.request_id.as_deref(), Some("po-1"));
    assert_eq!(info.amount.as_deref(), Some("25.00"));
    let missing = client
        .get_card_payout_info()
        .id("txn_nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert_eq!(
        missing.body().map(|b| b.message.as_str()),
        Some("Transaction not found")
    );

    let apm = client
        .create_apm_payment()
        .body(apm("apm-info-1", json!(1000)))
        .send()
        .await
        .unwrap()
        .into_inner();
    let info = client
        .get_apm_payment_info()
        .id(apm.transaction_id.as_str())
        .send()
        .await
        .expect("apm info")
        .into_inner();
    assert_eq!(info.transaction_status, "PENDING");
    assert_eq!(info.amount.as_deref(), Some("1000"));
    // A card payment is not an APM payment; a payout neither.
    let card = client
        .create_card_payment()
        .body(payment("pay-info-1", "4111111111111111", "10.00"))
        .send()
        .await
        .unwrap()
        .into_inner();
    for id in [card.transaction_id, paid.transaction_id] {
        let e = client
            .get_apm_payment_info()
            .id(id.as_str())
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{id}");
    }
}

/// axept `POST /ProcessDecision`: a signature decision for a started
/// transaction; the same again is answered again, another is a 409, an
/// unknown `uti` a 404; a refused signature cancels the transaction.
#[tokio::test]
async fn axept_signature_decisions() {
    let env = Env::start().await;
    let client: axept::Client = env.client(Provider::Axept).typed();
    let start = |uti: &str| {
        serde_json::from_value::<axept::types::StartTransactionRequest>(
            json!({"uti": uti, "amountTrans": 1200, "posSignatureCheck": true}),
        )
        .unwrap()
    };
    let decide = |uti: &str, accepted: bool| {
        serde_json::from_value::<axept::types::SignatureDecision>(
            json!({"uti": uti, "signatureAccepted": accepted}),
        )
        .unwrap()
    };
    let (a, b) = (
        "11111111-2222-4333-8444-555555555555",
        "11111111-2222-4333-8444-666666666666",
    );
    for uti in [a, b] {
        client
            .start_transaction()
            .body(start(uti))
            .send()
            .await
            .unwrap();
    }
    for _ in 0..2 {
        let r = client
            .process_decision()
            .body(decide(a, true))
            .send()
            .await
            .expect("recorded")
            .into_inner();
        assert!(r.signature_accepted);
        assert_eq!(r.status, "Complete");
    }
    let e = client
        .process_decision()
        .body(decide(a, false))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e:?}");
    let e = client
        .process_decision()
        .body(decide("11111111-2222-4333-8444-777777777777", true))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e:?}");
    let refused = client
        .process_decision()
        .body(decide(b, false))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(refused.status, "Cancelled");
    let read = client
        .get_transaction()
        .uti(b)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!read.trans_approved);
    assert_eq!(read.status, "Cancelled");
}
