//! `payauth sandbox trigger`: a running sandbox calls the application back. The object is
//! created in that sandbox through the provider's SDK (with the sandbox's current
//! credentials, read from its control plane), so the application can fetch what the
//! callback told it about; the sandbox itself signs, sends, retries and reports the
//! callback, and this command prints how its first attempt went.

use std::time::{Duration, Instant};

use payauth_runtime::Secret;
use serde_json::{Value, json};

use crate::cli::{Event, TriggerProvider};
use crate::control;
use crate::failure::{self, CONFIG, Failure, INTERNAL, OK, PROVIDER, TRANSIENT};

/// The callback URL a request names without --to: `.invalid` (RFC 2606) never resolves, so
/// only the sandbox's --forward-to reaches an application with it.
pub const NO_URL: &str = "https://payauth.invalid/callbacks";

/// Longest wait for the sandbox's first attempt (it waits at most 10 s for an answer).
const FIRST_ATTEMPT: Duration = Duration::from_secs(15);

/// What to trigger.
#[derive(Debug, Clone, Copy)]
pub struct Trigger<'a> {
    pub provider: TriggerProvider,
    pub event: Event,
    pub to: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// The running sandbox at `root`, seen through its control plane.
struct Remote<'a> {
    root: &'a str,
}

impl Remote<'_> {
    fn base_url(&self, p: TriggerProvider) -> Result<String, Failure> {
        let provider: payauth_sandbox::Provider = p
            .name()
            .parse()
            .map_err(|_| Failure::new(INTERNAL, "internal", "a provider the sandbox lacks"))?;
        Ok(format!(
            "{}{}",
            self.root.trim_end_matches('/'),
            provider.base_path()
        ))
    }

    /// A text field of the provider's current credentials.
    async fn credential(&self, p: TriggerProvider, field: &str) -> Result<Value, Failure> {
        let all = control::get(self.root, &format!("credentials/{}", p.name())).await?;
        all.get(field)
            .cloned()
            .ok_or_else(|| not_a_sandbox(self.root))
    }

    async fn signing(&self, field: &str) -> Result<String, Failure> {
        let all = control::get(self.root, "signing").await?;
        all.get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| not_a_sandbox(self.root))
    }
}

fn not_a_sandbox(root: &str) -> Failure {
    Failure::new(
        PROVIDER,
        "not_a_sandbox",
        format!("{root} does not answer as `payauth sandbox` does"),
    )
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// A unique-enough key for this run: requests must not replay an earlier one.
fn run_id() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

pub async fn trigger(root: &str, t: &Trigger<'_>, as_json: bool) -> Result<u8, Failure> {
    use {Event as E, TriggerProvider as P};
    let remote = Remote { root };
    let url = t.to.unwrap_or(NO_URL);
    let created = match (t.provider, t.event) {
        (P::Exirom, E::Payment | E::Apm | E::Payout) => exirom(&remote, t.event, url).await?,
        (P::Pledg, E::Notification) => pledg(&remote, url).await?,
        (P::Axept, E::Transaction) => axept(&remote, url).await?,
        (p, e) => {
            return Err(
                Failure::usage(format!("{} has no {} event", p.name(), e.name())).hint(
                    "exirom: payment, apm or payout; pledg: notification; axept: transaction",
                ),
            );
        }
    };
    let (object, mut status) = created;
    let settle_to = match (t.provider, t.status) {
        (P::Pledg, None) => Some("completed"),
        (P::Axept, Some(_)) => {
            return Err(Failure::usage(
                "axept transactions change by their signature decision, not --status",
            ));
        }
        (_, s) => s,
    };
    if let Some(to) = settle_to {
        control::post(
            root,
            &format!("settle/{}/{object}", t.provider.name()),
            json!({"status": to}),
        )
        .await?;
        status = to.to_owned();
    }
    let callback = first_attempt(root, t.provider, &object, &status).await?;
    report(t, &object, &status, &callback, as_json)
}

/// The sandbox's latest event about the callback of `object` reporting `status`.
async fn first_attempt(
    root: &str,
    p: TriggerProvider,
    object: &str,
    status: &str,
) -> Result<Value, Failure> {
    let started = Instant::now();
    loop {
        let all = control::get(root, "callbacks").await?;
        let found = all.as_array().and_then(|all| {
            all.iter().rev().find(|c| {
                c["provider"] == p.name() && c["object"] == object && c["status"] == status
            })
        });
        if let Some(found) = found {
            return Ok(found.clone());
        }
        if started.elapsed() > FIRST_ATTEMPT {
            return Err(Failure::new(
                TRANSIENT,
                "no_callback",
                format!("the sandbox reported no callback for {object} in time"),
            )
            .hint("is the sandbox `payauth sandbox` (it reports its callbacks)?"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn report(
    t: &Trigger<'_>,
    object: &str,
    status: &str,
    callback: &Value,
    as_json: bool,
) -> Result<u8, Failure> {
    let outcome = &callback["outcome"];
    let kind = outcome["kind"].as_str().unwrap_or_default();
    let url = callback["url"].as_str().unwrap_or_default();
    let answer = match &outcome["answer"] {
        Value::Object(a) if a.contains_key("status") => format!("HTTP {}", a["status"]),
        Value::Object(a) => text(a.get("unreachable").unwrap_or(&Value::Null)),
        _ => String::new(),
    };
    let said = match kind {
        "delivered" => format!("HTTP {}, delivered", outcome["status"]),
        "will_retry" => format!(
            "{answer}; the sandbox tries again in {}",
            seconds(outcome["retry_in_ms"].as_u64().unwrap_or_default())
        ),
        "gave_up" => format!("{answer}; the sandbox gave up"),
        "not_sent" => format!("not sent: {}", text(&outcome["reason"])),
        _ => "an outcome this payauth does not know".to_owned(),
    };
    // With --json stdout holds one object: the report, or (from `main`) the error.
    if as_json && kind == "delivered" {
        println!(
            "{}",
            json!({"provider": t.provider.name(), "event": t.event.name(), "object": object,
                   "status": status, "callback": callback})
        );
    } else if !as_json {
        println!(
            "{} {} {object} ({status}) in the sandbox; its callback → {url}: {said}",
            t.provider.name(),
            t.event.name()
        );
    }
    match kind {
        "delivered" => Ok(OK),
        "not_sent" => Err(Failure::new(
            CONFIG,
            "callback_not_sent",
            format!(
                "the sandbox did not send the callback: {}",
                text(&outcome["reason"])
            ),
        )
        .hint("pass --to with a URL on this machine, or run the sandbox with --forward-to URL")),
        _ if answer.starts_with("HTTP") => Err(Failure::new(
            PROVIDER,
            "callback_refused",
            format!("the application at {url} answered {answer}"),
        )
        .hint("the application refused the callback: see its log")),
        _ => Err(Failure::new(
            TRANSIENT,
            "callback_unreachable",
            format!("the application at {url} did not answer: {answer}"),
        )
        .hint("is the application listening? The sandbox keeps trying for a while")),
    }
}

/// `2 s`, `1.5 s`.
fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// `(transactionId, status)` of a new exirom payment, APM payment or payout.
async fn exirom(remote: &Remote<'_>, event: Event, url: &str) -> Result<(String, String), Failure> {
    let p = TriggerProvider::Exirom;
    let key = text(&remote.credential(p, "merchant_key").await?);
    let secret = text(&remote.credential(p, "merchant_secret").await?);
    let client = exirom::builder()
        .base_url(remote.base_url(p)?)
        .credentials(exirom::Credentials::new(key, Secret::new(secret)))
        .shared_cache(false)
        .build()
        .map_err(|e| failure::from_error(&exirom::descriptor::DESCRIPTOR, &e, None))?;
    let failed =
        |e: &payauth_runtime::Error| failure::from_error(&exirom::descriptor::DESCRIPTOR, e, None);
    let request_id = format!("payauth-{}", run_id());
    let card = json!({"number": "4111111111111111", "expiryMonth": "12", "expiryYear": "2030", "cvv": "123"});
    let answer = match event {
        Event::Apm => {
            let body = typed::<exirom::types::ApmPaymentRequest>(json!({
                "requestId": request_id, "accountId": "acc_payauth", "amount": "10.00",
                "currency": "EUR", "paymentMethod": "SEPA", "checksum": "computed by the SDK",
                "callbackUrl": url
            }))?;
            let r = client.create_apm_payment().body(body).send().await;
            serde_json::to_value(r.map_err(|e| failed(e.error()))?.into_inner())
        }
        Event::Payout => {
            let mut card = card;
            card.as_object_mut().map(|c| c.remove("cvv"));
            let body = typed::<exirom::types::CardPayoutRequest>(json!({
                "requestId": request_id, "mid": "mid_payauth", "amount": "10.00",
                "currency": "EUR", "card": card, "callbackUrl": url
            }))?;
            let r = client.create_card_payout().body(body).send().await;
            serde_json::to_value(r.map_err(|e| failed(e.error()))?.into_inner())
        }
        _ => {
            let body = typed::<exirom::types::CardPaymentRequest>(json!({
                "requestId": request_id, "mid": "mid_payauth", "amount": "10.00",
                "currency": "EUR", "card": card, "billingDetails": {}, "order": {},
                "device": {}, "callbackUrl": url
            }))?;
            let r = client.create_card_payment().body(body).send().await;
            serde_json::to_value(r.map_err(|e| failed(e.error()))?.into_inner())
        }
    }
    .map_err(|e| Failure::new(INTERNAL, "internal", format!("an answer: {e}")))?;
    Ok((
        text(&answer["transactionId"]),
        text(&answer["transactionStatus"]),
    ))
}

/// `(uid, "created")` of a new pledg purchase link notifying `url`.
async fn pledg(remote: &Remote<'_>, url: &str) -> Result<(String, String), Failure> {
    let p = TriggerProvider::Pledg;
    let key = text(&remote.credential(p, "api_key").await?);
    let secret = text(&remote.credential(p, "api_secret").await?);
    let secret_key = remote.signing("pledg_secret_key").await?;
    let merchant_uid = remote.signing("pledg_merchant_uid").await?;
    let client = pledg::builder()
        .base_url(remote.base_url(p)?)
        .credentials(pledg::Credentials::new(key, Secret::new(secret)).secret_key(secret_key))
        .shared_cache(false)
        .build()
        .map_err(|e| failure::from_error(&pledg::descriptor::DESCRIPTOR, &e, None))?;
    let body = typed::<pledg::types::PurchaseLinkRequest>(json!({
        "merchant_uid": merchant_uid, "title": "payauth trigger",
        "reference": format!("payauth-{}", run_id() % 1_000_000_000), "amount_cents": 1000,
        "currency": "EUR", "notification_url": url
    }))?;
    let link = client
        .create_purchase_link()
        .body(body)
        .send()
        .await
        .map_err(|e| failure::from_error(&pledg::descriptor::DESCRIPTOR, e.error(), None))?
        .into_inner();
    Ok((link.uid, "created".to_owned()))
}

/// `(uti, status)` of a new axept transaction whose webhook goes to `url`.
async fn axept(remote: &Remote<'_>, url: &str) -> Result<(String, String), Failure> {
    let p = TriggerProvider::Axept;
    let merchant_id = remote.credential(p, "merchant_id").await?.as_i64();
    let key_id = remote.credential(p, "key_id").await?.as_i64();
    let key = text(&remote.credential(p, "key").await?);
    let (Some(merchant_id), Some(key_id)) = (merchant_id, key_id) else {
        return Err(not_a_sandbox(remote.root));
    };
    let client = axept::builder()
        .base_url(remote.base_url(p)?)
        .credentials(axept::Credentials::new(
            merchant_id,
            key_id,
            Secret::new(key),
        ))
        .shared_cache(false)
        .build()
        .map_err(|e| failure::from_error(&axept::descriptor::DESCRIPTOR, &e, None))?;
    let uti = guid();
    let body = typed::<axept::types::StartTransactionRequest>(
        json!({"uti": uti, "amountTrans": 1000, "webHookUrl": url}),
    )?;
    let tx = client
        .start_transaction()
        .body(body)
        .send()
        .await
        .map_err(|e| {
            let f = failure::from_error(&axept::descriptor::DESCRIPTOR, e.error(), None);
            if url.starts_with("http://") {
                f.hint("axept's webHookUrl must be https: run the sandbox with --forward-to URL and leave out --to")
            } else {
                f
            }
        })?
        .into_inner();
    Ok((uti, tx.status))
}

/// A random version-4 GUID (axept's `uti`), from the standard library's randomly seeded
/// hasher: unique per run without a dependency for it.
fn guid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let random = |salt: u128| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(run_id() ^ salt);
        h.finish()
    };
    let (a, b) = (random(1), random(2));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// A generated request type from JSON (the shapes above are the spec's).
fn typed<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, Failure> {
    serde_json::from_value(v)
        .map_err(|e| Failure::new(INTERNAL, "internal", format!("a request body: {e}")))
}
