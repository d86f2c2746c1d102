//! `payauth sandbox` and `payauth sandbox trigger`.

use std::io::Write;

use auth_runtime::Secret;
use payauth::{providers, sandbox_env};
use sandbox::{Provider as P, Sandbox, SandboxConfig};

use crate::cli::{CallbackProvider, Event};
use crate::failure::{self, Failure, INTERNAL, TRANSIENT};

/// `'value'` for a POSIX shell.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The `export` lines that point each SDK's `from_env()` at `sb`.
pub fn env_lines(sb: &Sandbox) -> Vec<String> {
    providers::ALL
        .iter()
        .flat_map(|d| sandbox_env::variables(sb, d))
        .map(|(k, v)| format!("export {k}={}", quoted(&v)))
        .collect()
}

/// Serve until Ctrl-C (`main` exits with code 130).
pub async fn serve(port: u16) -> Result<u8, Failure> {
    let mut cfg = SandboxConfig::default();
    cfg.bind.set_port(port);
    let sb = Sandbox::start_with(cfg).await.map_err(|e| {
        Failure::new(
            TRANSIENT,
            "sandbox_unavailable",
            format!("cannot start the sandbox on port {port}: {e}"),
        )
        .hint("pass another --port (0: any free port)")
    })?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "# payauth sandbox: {} providers at {} (sandbox credentials, not real ones)",
        providers::ALL.len(),
        sb.root_url()
    );
    let _ = writeln!(
        out,
        "# eval these lines in a shell, then run e.g. `payauth check pledg`:"
    );
    for line in env_lines(&sb) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "# drive it from another shell: payauth sandbox clock advance 10m --sandbox {}",
        sb.root_url()
    );
    let _ = writeln!(out, "# ready; Ctrl-C stops it");
    let _ = out.flush();
    drop(out);
    // Until Ctrl-C, which `main` turns into exit code 130.
    std::future::pending::<()>().await;
    sb.shutdown().await;
    Err(Failure::interrupted())
}

/// A payment (exirom) or a purchase link (pledg) in an in-process sandbox
/// with the default secrets — the ones `payauth sandbox` prints — and its
/// signed callback delivered to `to`.
pub async fn trigger(
    provider: CallbackProvider,
    event: Event,
    to: &str,
    status: &str,
    as_json: bool,
) -> Result<u8, Failure> {
    let sb = Sandbox::start().await.map_err(|e| {
        Failure::new(
            TRANSIENT,
            "sandbox_unavailable",
            format!("cannot start the sandbox: {e}"),
        )
    })?;
    let callback = match (provider, event) {
        (CallbackProvider::Exirom, Event::Payment) => exirom_payment(&sb).await?,
        (CallbackProvider::Pledg, Event::Notification) => pledg_notification(&sb, status).await?,
        (p, e) => {
            return Err(Failure::usage(format!("{} has no {e:?} event", p.name()))
                .hint("exirom: payment; pledg: notification"));
        }
    };
    let delivered = sb.deliver(to, &callback).await;
    sb.shutdown().await;
    match delivered {
        Ok(status) if (200..300).contains(&status) => {
            if as_json {
                println!(
                    "{}",
                    serde_json::json!({"provider": provider.name(), "event": format!("{event:?}").to_lowercase(), "to": to, "status": status})
                );
            } else {
                println!(
                    "delivered a signed {} {event:?} callback to {to}: HTTP {status}",
                    provider.name()
                );
            }
            Ok(failure::OK)
        }
        Ok(status) => Err(Failure::new(
            failure::PROVIDER,
            "callback_refused",
            format!("delivered to {to}, which answered HTTP {status}"),
        )
        .hint("the application refused the callback: see its log")),
        Err(e) => Err(Failure::new(
            TRANSIENT,
            "transient",
            format!("could not deliver to {to}: {e}"),
        )
        .hint("is the application listening at --to?")),
    }
}

async fn exirom_payment(sb: &Sandbox) -> Result<sandbox::SignedCallback, Failure> {
    let creds = sb.credentials(P::Exirom);
    let merchant_key = creds.text("merchant_key").to_owned();
    let merchant_secret = creds.text("merchant_secret").to_owned();
    let client = exirom::builder()
        .base_url(sb.base_url(P::Exirom))
        .credentials(exirom::Credentials::new(
            merchant_key,
            Secret::new(merchant_secret),
        ))
        .shared_cache(false)
        .build()
        .map_err(|e| failure::from_error(&exirom::descriptor::DESCRIPTOR, &e, None))?;
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
    .map_err(|e| Failure::new(INTERNAL, "internal", format!("payment body: {e}")))?;
    let paid = client
        .create_card_payment()
        .body(body)
        .send()
        .await
        .map_err(|e| failure::from_error(&exirom::descriptor::DESCRIPTOR, e.error(), None))?
        .into_inner();
    sb.exirom_callback(&paid.transaction_id).ok_or_else(|| {
        Failure::new(
            INTERNAL,
            "internal",
            "the sandbox has no callback for the payment",
        )
    })
}

async fn pledg_notification(
    sb: &Sandbox,
    status: &str,
) -> Result<sandbox::SignedCallback, Failure> {
    let creds = sb.credentials(P::Pledg);
    let api_key = creds.text("api_key").to_owned();
    let api_secret = creds.text("api_secret").to_owned();
    let client = pledg::builder()
        .base_url(sb.base_url(P::Pledg))
        .credentials(pledg::Credentials::new(api_key, api_secret).secret_key(sb.pledg_secret_key()))
        .shared_cache(false)
        .build()
        .map_err(|e| failure::from_error(&pledg::descriptor::DESCRIPTOR, &e, None))?;
    let body = serde_json::from_value::<pledg::types::PurchaseLinkRequest>(serde_json::json!({
        "merchant_uid": sb.pledg_merchant_uid(), "title": "payauth trigger",
        "reference": "payauth", "amount_cents": 1000, "currency": "EUR"
    }))
    .map_err(|e| Failure::new(INTERNAL, "internal", format!("purchase body: {e}")))?;
    let link = client
        .create_purchase_link()
        .body(body)
        .send()
        .await
        .map_err(|e| failure::from_error(&pledg::descriptor::DESCRIPTOR, e.error(), None))?
        .into_inner();
    sb.pledg_notification(&link.uid, status).ok_or_else(|| {
        Failure::new(
            INTERNAL,
            "internal",
            "the sandbox has no notification for the link",
        )
    })
}
