//! exirom's status callbacks: a JSON POST to the request's `callbackUrl` with `X-Checksum`
//! = Base64(HMAC-SHA256(merchant secret, `accountId|amount|currency|requestId`)) over the
//! amount exactly as the body writes it, sent when a payment or payout is created and when
//! it settles ([`settle`]). The body takes either of the pages' forms
//! ([`ExiromCallbackForm`], a sandbox setting): `amount`/`currency` with the amount as the
//! request wrote it, or `orderAmount`/`orderCurrency` with the amount in minor units.

use serde_json::{Map, Value, json};

use super::config::{ExiromCallbackForm, ExiromConfig};
use super::stores::Kind;
use crate::callback::SignedCallback;
use crate::emulation::callbacks::Outgoing;
use crate::emulation::idempotency::Record;
use crate::error::SandboxError;
use crate::handle::Sandbox;
use crate::provider::Provider;
use crate::signatures::hmac_base64;
use crate::state::Inner;

/// Digits after the point of a currency's minor unit (ISO 4217): 2 unless listed.
fn exponent(currency: &str) -> u32 {
    const NONE: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    let c = currency.to_ascii_uppercase();
    if NONE.contains(&c.as_str()) {
        0
    } else if THREE.contains(&c.as_str()) {
        3
    } else {
        2
    }
}

/// `"10.00"` → 1000 with exponent 2; `None` when the decimal has finer digits than the
/// currency's minor unit (other than zeros) or does not fit.
fn minor_units(decimal: &str, exponent: u32) -> Option<u64> {
    let (whole, frac) = decimal.split_once('.').unwrap_or((decimal, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) {
        return None;
    }
    let keep = frac.len().min(exponent as usize);
    let (kept, beyond) = frac.split_at(keep);
    if !beyond.bytes().all(|b| b == b'0') {
        return None;
    }
    let padded = format!("{kept:0<width$}", width = exponent as usize);
    let frac_units: u64 = if padded.is_empty() {
        0
    } else {
        padded.parse().ok()?
    };
    whole
        .parse::<u64>()
        .ok()?
        .checked_mul(10u64.checked_pow(exponent)?)?
        .checked_add(frac_units)
}

/// The checksummed text of an amount: a string's content, a number's JSON text.
fn amount_text(amount: &Value) -> String {
    match amount {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The callback of `record` (a `kind` object), signed with the current merchant secret.
fn signed(st: &Inner, kind: Kind, record: &Record) -> Option<SignedCallback> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let account_id = text(&record.request, kind.account_field())?;
    let request_id = text(&record.request, "requestId")?;
    let currency = text(&record.request, "currency")?;
    let amount = record.request.get("amount")?.clone();
    let (secret, form) = st.live(|c: &ExiromConfig| (c.merchant_secret.clone(), c.callback_form));
    let amount = match (form, &amount) {
        (ExiromCallbackForm::OrderAmount, Value::String(decimal)) => {
            minor_units(decimal, exponent(&currency)).map_or(amount.clone(), Value::from)
        }
        _ => amount,
    };
    let (amount_key, currency_key) = match form {
        ExiromCallbackForm::Amount => ("amount", "currency"),
        ExiromCallbackForm::OrderAmount => ("orderAmount", "orderCurrency"),
    };
    let mut body = Map::new();
    body.insert("accountId".into(), json!(account_id));
    body.insert("requestId".into(), json!(request_id));
    for k in ["transactionId", "transactionStatus", "declineCode"] {
        if let Some(v) = record.answer.get(k) {
            body.insert(k.into(), v.clone());
        }
    }
    let message = [
        account_id.as_str(),
        &amount_text(&amount),
        &currency,
        &request_id,
    ]
    .join("|");
    body.insert(amount_key.into(), amount);
    body.insert(currency_key.into(), json!(currency));
    let checksum = hmac_base64(secret.as_bytes(), message.as_bytes());
    Some(SignedCallback::json(
        &Value::Object(body),
        vec![("x-checksum".into(), checksum)],
    ))
}

/// Sends `record`'s callback to its request's `callbackUrl`, if it named one.
pub(super) fn notify(st: &Inner, kind: Kind, record: &Record) {
    let Some(url) = record.request.get("callbackUrl").and_then(Value::as_str) else {
        return;
    };
    let Some(callback) = signed(st, kind, record) else {
        return;
    };
    let status = record.answer["transactionStatus"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    st.send_callback(Outgoing {
        provider: Provider::Exirom,
        object: record.id.clone(),
        status,
        url: url.to_owned(),
        callback,
    });
}

/// A payment or payout moved to `status` (`APPROVED`, `DECLINED`, …), then its callback.
/// A decline gets decline code `05` (as the test card's), any other status none.
pub(super) fn settle(st: &Inner, id: &str, status: &str) -> Result<(), SandboxError> {
    let unknown = || SandboxError::UnknownObject {
        provider: Provider::Exirom,
        id: id.to_owned(),
    };
    let (kind, record) = Kind::find(st, id).ok_or_else(unknown)?;
    let key = record.request["requestId"].as_str().unwrap_or_default();
    let updated = kind
        .with(st, |s| {
            s.update(key, |r| {
                r.answer["transactionStatus"] = json!(status);
                if let Some(answer) = r.answer.as_object_mut() {
                    if status == "DECLINED" {
                        answer.entry("declineCode").or_insert(json!("05"));
                    } else {
                        answer.remove("declineCode");
                    }
                }
                r.clone()
            })
        })
        .ok_or_else(unknown)?;
    notify(st, kind, &updated);
    Ok(())
}

impl Sandbox {
    /// exirom's signed callback for payment or payout `transaction_id` (`X-Checksum` with
    /// the current merchant secret, the body in the configured form), or `None` for an
    /// unknown one.
    pub fn exirom_callback(&self, transaction_id: &str) -> Option<SignedCallback> {
        let (kind, record) = Kind::find(&self.inner, transaction_id)?;
        signed(&self.inner, kind, &record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_minor_units_follow_the_currency() {
        assert_eq!(minor_units("10.00", 2), Some(1000));
        assert_eq!(minor_units("10.5", 2), Some(1050));
        assert_eq!(minor_units("10", 2), Some(1000));
        assert_eq!(minor_units("10.000", 2), Some(1000));
        assert_eq!(minor_units("10.001", 2), None);
        assert_eq!(minor_units("1000", exponent("JPY")), Some(1000));
        assert_eq!(minor_units("1.234", exponent("kwd")), Some(1234));
        assert_eq!(minor_units("99999999999999999999", 2), None);
        assert_eq!(minor_units("-1", 2), None);
        assert_eq!(minor_units(".5", 2), None);
    }
}
