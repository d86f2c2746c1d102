//! The request signature (pledg's `signature` JWT in the query) never
//! appears in logs, errors or `Debug`, even when the signed request fails
//! in transport (reqwest errors name their URL: the runtime strips it for
//! signed operations).

use std::io::Write;
use std::sync::{Arc, Mutex};

use payauth_sandbox::{Fault, Provider, Route};
use serde_json::json;
use workspace_tests::support::Env;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signature_never_appears_in_logs_or_errors() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let env = Env::start().await;
    let client: pledg::Client = env.client(Provider::Pledg).typed();
    let body = || {
        serde_json::from_value::<pledg::types::PurchaseLinkRequest>(json!({
            "merchant_uid": env.sandbox.pledg_merchant_uid(), "title": "Sofa",
            "reference": "order-log", "amount_cents": 1000, "currency": "EUR"
        }))
        .unwrap()
    };
    // A 429 (retried: "not processed"), then a dropped connection (not
    // retried: the signed POST may have been processed).
    env.sandbox
        .inject(Provider::Pledg, Route::PurchaseLink, Fault::status(429));
    env.sandbox.inject(
        Provider::Pledg,
        Route::PurchaseLink,
        Fault::drop_connection(),
    );
    let err = client
        .create_purchase_link()
        .body(body())
        .send()
        .await
        .unwrap_err();
    let printed = format!("{err:?}\n{err}");
    assert!(!printed.contains("signature="), "{printed}");
    assert!(!printed.contains("eyJ"), "{printed}");
    assert!(!printed.contains(&env.sandbox.pledg_secret_key()));

    let ok = client.create_purchase_link().body(body()).send().await;
    assert!(ok.is_ok(), "{ok:?}");
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("transient HTTP status"), "the 429 was logged");
    assert!(!logs.contains("signature="), "{logs}");
    assert!(!logs.contains("eyJ"), "{logs}");
    assert!(!logs.contains(&env.sandbox.pledg_secret_key()));
    env.sandbox.shutdown().await;
}
