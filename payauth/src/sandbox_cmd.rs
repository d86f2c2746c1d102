//! `payauth sandbox` and `payauth sandbox trigger`.

use std::io::Write;

use auth_runtime::Secret;
use sandbox::{Provider as P, Sandbox, SandboxConfig};

use crate::{CallbackProvider, Event, Failure};

/// `'value'` for a POSIX shell.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The `export` lines that point each SDK's `from_env()` at `sb`.
pub fn env_lines(sb: &Sandbox) -> Vec<String> {
    let mut lines = Vec::new();
    let mut set = |k: &str, v: &str| lines.push(format!("export {k}={}", quoted(v)));
    for p in P::all() {
        let base = sb.base_url(p);
        let c = sb.credentials(p);
        let text = |field: &str| c.text(field).to_owned();
        match p {
            P::Exirom => {
                set("API_BASE_URL", &base);
                set("MERCHANT_KEY", &text("merchant_key"));
                set("MERCHANT_SECRET", &text("merchant_secret"));
            }
            P::Institution => {
                set("INSTITUTION_BASE_URL", &base);
                set("INSTITUTION_EMAIL", &text("email"));
                set("INSTITUTION_PASSWORD", &text("password"));
                set("INSTITUTION_MERCHANT_ID", &text("merchant_id"));
            }
            P::Pledg => {
                let (user, password) = sb.pledg_dashboard();
                set("PLEDG_BASE_URL", &base);
                set("PLEDG_API_KEY", &text("api_key"));
                set("PLEDG_API_SECRET", &text("api_secret"));
                set("PLEDG_SECRET_KEY", &sb.pledg_secret_key());
                set("PLEDG_DASHBOARD_USER", &user);
                set("PLEDG_DASHBOARD_PASSWORD", &password);
            }
            P::Bursagb => {
                set("BURSAGB_BASE_URL", &base);
                set("BURSAGB_EMAIL", &text("email"));
                set("BURSAGB_PASSWORD", &text("password"));
                set("BURSAGB_API_KEY", &text("api_key"));
            }
            P::Axept => {
                set("AXEPT_BASE_URL", &base);
                set("AXEPT_MERCHANT_ID", &c.int("merchant_id").to_string());
                set("AXEPT_KEY_ID", &c.int("key_id").to_string());
                set("AXEPT_KEY", &text("key"));
            }
            // A provider payauth has no SDK for yet.
            _ => {}
        }
    }
    lines
}

pub async fn serve(port: u16) -> Result<(), Failure> {
    let mut cfg = SandboxConfig::default();
    cfg.bind.set_port(port);
    let sb = Sandbox::start_with(cfg)
        .await
        .map_err(|e| Failure::new(1, format!("cannot start the sandbox on port {port}: {e}")))?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "# payauth sandbox: all five providers at {} (sandbox credentials, not real ones)",
        sb.root_url()
    );
    let _ = writeln!(
        out,
        "# eval these lines in a shell, then run e.g. `payauth check pledg`:"
    );
    for line in env_lines(&sb) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "# ready; Ctrl-C stops it");
    let _ = out.flush();
    drop(out);
    let _ = tokio::signal::ctrl_c().await;
    sb.shutdown().await;
    Ok(())
}

/// A payment (exirom) or a purchase link (pledg) in an in-process sandbox
/// with the default secrets — the ones `payauth sandbox` prints — and its
/// signed callback delivered to `to`.
pub async fn trigger(
    provider: CallbackProvider,
    event: Event,
    to: &str,
    status: &str,
) -> Result<(), Failure> {
    let sb = Sandbox::start()
        .await
        .map_err(|e| Failure::new(1, format!("cannot start the sandbox: {e}")))?;
    let callback = match (provider, event) {
        (CallbackProvider::Exirom, Event::Payment) => exirom_payment(&sb).await?,
        (CallbackProvider::Pledg, Event::Notification) => pledg_notification(&sb, status).await?,
        (p, e) => {
            return Err(Failure::new(
                2,
                format!("{p:?} has no {e:?} event (exirom: payment; pledg: notification)"),
            ));
        }
    };
    let delivered = sb.deliver(to, &callback).await;
    sb.shutdown().await;
    match delivered {
        Ok(status) if (200..300).contains(&status) => {
            println!("delivered a signed {provider:?} {event:?} callback to {to}: HTTP {status}");
            Ok(())
        }
        Ok(status) => Err(Failure::new(
            1,
            format!("delivered to {to}, which answered HTTP {status}"),
        )),
        Err(e) => Err(Failure::new(3, format!("could not deliver to {to}: {e}"))),
    }
}

async fn exirom_payment(sb: &Sandbox) -> Result<sandbox::SignedCallback, Failure> {
    let c = sb.credentials(P::Exirom);
    let (Some(merchant_key), Some(merchant_secret)) = (
        c.field::<String>("merchant_key"),
        c.field::<String>("merchant_secret"),
    ) else {
        return Err(Failure::new(1, "sandbox has no exirom credentials"));
    };
    let client = exirom::builder()
        .base_url(sb.base_url(P::Exirom))
        .credentials(exirom::Credentials::new(
            merchant_key,
            Secret::new(merchant_secret),
        ))
        .shared_cache(false)
        .build()
        .map_err(|e| Failure::from_error("exirom", &e))?;
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let body = serde_json::from_value::<exirom::types::CardPaymentRequest>(serde_json::json!({
        "requestId": format!("payauth-{n}"),
        "mid": "mid_payauth", "amount": "10.00", "currency": "EUR",
        "card": {"number": "4111111111111111", "expiryMonth": "12",
                 "expiryYear": "2030", "cvv": "123"},
        "billingDetails": {}, "order": {}, "device": {}
    }))
    .map_err(|e| Failure::new(1, format!("payment body: {e}")))?;
    let paid = client
        .create_card_payment()
        .body(body)
        .send()
        .await
        .map_err(|e| Failure::from_error("exirom", e.error()))?
        .into_inner();
    sb.exirom_callback(&paid.transaction_id)
        .ok_or_else(|| Failure::new(1, "the sandbox has no callback for the payment"))
}

async fn pledg_notification(
    sb: &Sandbox,
    status: &str,
) -> Result<sandbox::SignedCallback, Failure> {
    let c = sb.credentials(P::Pledg);
    let (Some(api_key), Some(api_secret)) = (
        c.field::<String>("api_key"),
        c.field::<String>("api_secret"),
    ) else {
        return Err(Failure::new(1, "sandbox has no pledg credentials"));
    };
    let client = pledg::builder()
        .base_url(sb.base_url(P::Pledg))
        .credentials(pledg::Credentials::new(api_key, api_secret).secret_key(sb.pledg_secret_key()))
        .shared_cache(false)
        .build()
        .map_err(|e| Failure::from_error("pledg", &e))?;
    let body = serde_json::from_value::<pledg::types::PurchaseLinkRequest>(serde_json::json!({
        "merchant_uid": sb.pledg_merchant_uid(), "title": "payauth trigger",
        "reference": "payauth", "amount_cents": 1000, "currency": "EUR"
    }))
    .map_err(|e| Failure::new(1, format!("purchase body: {e}")))?;
    let link = client
        .create_purchase_link()
        .body(body)
        .send()
        .await
        .map_err(|e| Failure::from_error("pledg", e.error()))?
        .into_inner();
    sb.pledg_notification(&link.uid, status)
        .ok_or_else(|| Failure::new(1, "the sandbox has no notification for the link"))
}
