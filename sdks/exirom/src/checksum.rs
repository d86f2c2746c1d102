//! Exirom's checksums: APM payment requests carry
//! `checksum = Base64(HMAC-SHA256(secret, accountId|amount|currency|requestId))`,
//! and callbacks carry "the same kind of checksum" in `X-Checksum` (the
//! pages' words). That a callback's checksum covers the same four fields,
//! under the same secret, is our assumption (marked in the spec's
//! callbacks): [`CallbackVerifier`] checks exactly that.
//!
//! The pages disagree on the amount's form: minor units (`1000`) on one,
//! the exact decimal string (`"10.00"`) on the other. Outbound we default
//! to [`AmountForm::Decimal`]: it is the form the payment bodies of the API
//! reference carry (`amount: "10.00"`), and a checksum over the text that
//! is actually sent is the one a server can recompute without knowing the
//! currency's exponent. [`AmountForm::MinorUnits`] selects the other page's
//! form. Inbound, the checksum is computed over the amount exactly as the
//! callback body carries it (string or number), which covers both pages;
//! the callback's field names vary too (`amount`/`currency` vs
//! `orderAmount`/`orderCurrency`) and both are read.
//!
//! A JSON number is hashed as the text the provider sent (`10.00`, `1e3`),
//! never as serde_json writes it back (`10.0`, `1000.0`): the checksummed
//! fields are read as [`RawValue`]s (serde_json's `raw_value` feature, which
//! only adds that type) rather than through `arbitrary_precision`, which
//! would change how every `serde_json::Number` in an application's build
//! behaves. A string is hashed as its decoded content (`"10.00"` → `10.00`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use payauth_runtime::Secret;
use payauth_runtime::SeenKeys;
use payauth_runtime::provider::replay::SharedReplayGuard;
use payauth_runtime::provider::signing::{self, CallbackError, MAX_CALLBACK_BYTES};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// How the amount enters an outbound checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AmountForm {
    /// The decimal string as sent, e.g. `10.00` (API reference; default).
    #[default]
    Decimal,
    /// Minor units, e.g. `1000` for `10.00` with `exponent` 2.
    MinorUnits {
        /// The currency's decimal places (2 for EUR, 0 for JPY).
        exponent: u32,
    },
}

/// The `checksum` of an APM payment request. `amount` is the decimal
/// string the request carries (`"10.00"`); with [`AmountForm::MinorUnits`]
/// it is converted (`None` if it is not a plain decimal or overflows).
pub fn apm_checksum(
    secret: &Secret,
    account_id: &str,
    amount: &str,
    currency: &str,
    request_id: &str,
    form: AmountForm,
) -> Option<String> {
    let amount = match form {
        AmountForm::Decimal => amount.to_owned(),
        AmountForm::MinorUnits { exponent } => to_minor_units(amount, exponent)?.to_string(),
    };
    Some(signing::hmac_checksum(
        secret,
        &[account_id, &amount, currency, request_id],
    ))
}

/// `"10.00"` → 1000 (exponent 2). No sign, at most `exponent` decimals.
fn to_minor_units(amount: &str, exponent: u32) -> Option<u64> {
    let (whole, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > exponent as usize {
        return None;
    }
    let scale = 10u64.checked_pow(exponent)?;
    let whole: u64 = whole.parse().ok()?;
    let frac_scaled: u64 = if frac.is_empty() {
        0
    } else {
        let f: u64 = frac.parse().ok()?;
        f.checked_mul(10u64.checked_pow(exponent - frac.len() as u32)?)?
    };
    whole.checked_mul(scale)?.checked_add(frac_scaled)
}

/// A value a callback carries outside what its checksum covers: whoever
/// holds one genuine callback could send it again with this changed.
/// Confirm it with the provider (a status query) before acting on it.
#[derive(Clone, PartialEq, Eq)]
pub struct Unsigned<T>(T);

impl<T> Unsigned<T> {
    /// Marks `value` as not covered by a checksum.
    pub fn new(value: T) -> Self {
        Unsigned(value)
    }
    /// The value, not covered by the checksum.
    pub fn unverified(&self) -> &T {
        &self.0
    }
    /// The value, not covered by the checksum, taken out.
    pub fn into_unverified(self) -> T {
        self.0
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Unsigned<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Unsigned").field(&self.0).finish()
    }
}

/// A verified callback. The checksum is taken to cover `accountId`, the
/// amount, the currency and `requestId` (the APM request's recipe: the
/// pages say only "the same kind of checksum", so which fields it covers
/// is our assumption); the transaction's id and status are [`Unsigned`].
#[derive(Debug, Clone, PartialEq)]
pub struct Callback {
    /// The merchant's account (`accountId`), covered by the checksum.
    pub account_id: String,
    /// The payment request's id (`requestId`, the idempotency key the
    /// payment was created with), covered by the checksum.
    pub request_id: String,
    /// The amount exactly as the body writes it: a string's content
    /// (`"10.00"` → `10.00`) or a number's text (`10.00`, `1000`, `1e3`).
    pub amount: String,
    /// ISO 4217 code (`EUR`), covered by the checksum.
    pub currency: String,
    /// Exirom's `transactionId`, when present — not covered by the
    /// checksum.
    pub transaction_id: Unsigned<Option<String>>,
    /// `PENDING`, `APPROVED`, … — not covered by the checksum.
    pub transaction_status: Unsigned<Option<String>>,
    /// Every field of the body (signed or not, as above). Numbers here are
    /// as serde_json reads them (`10.00` becomes `10.0`): read the amount
    /// from [`Callback::amount`].
    pub fields: Map<String, Value>,
}

/// The text a checksummed field contributes: a string's decoded content,
/// or a number's JSON text exactly as sent. Anything else is `None`.
fn checksummed_text(raw: &RawValue) -> Option<String> {
    let text = raw.get();
    match text.as_bytes().first()? {
        b'"' => serde_json::from_str::<String>(text).ok(),
        b'-' | b'0'..=b'9' => Some(text.to_owned()),
        _ => None,
    }
}

/// Verifies callbacks' `X-Checksum` with the checksum secret (constant
/// time), and refuses a callback seen before (a replay). The checksum is
/// taken to cover the payment (`accountId|amount|currency|requestId`, our
/// assumption), not its status: the provider's callbacks for one payment
/// (`PENDING`, then `APPROVED`) would share it, so each status update is
/// accepted once — a replay is the same callback (checksum, transaction
/// and status) again.
///
/// Where replays are remembered: [`CallbackVerifier::verify`] in this
/// process's memory (bounded at 10,000 callbacks; forgotten on a restart;
/// not seen by other instances). [`CallbackVerifier::verify_shared`] in the
/// shared store when one is set ([`CallbackVerifier::replay_store`], or the
/// environment's Redis store with `payauth-runtime`'s `redis` feature), so
/// that exactly one process of a fleet accepts a callback.
#[derive(Debug)]
pub struct CallbackVerifier {
    secret: Secret,
    replays: SharedReplayGuard,
}

/// Header carrying a callback's checksum.
pub const CHECKSUM_HEADER: &str = "x-checksum";

/// The namespace of exirom's callbacks in a shared store of seen callbacks.
const REPLAY_NAMESPACE: &str = "exirom";

impl CallbackVerifier {
    /// A verifier with the checksum secret; replays kept in memory, and in
    /// the environment's shared store for [`CallbackVerifier::verify_shared`]
    /// when it configures one.
    pub fn new(secret: Secret) -> Self {
        CallbackVerifier {
            secret,
            replays: SharedReplayGuard::new(REPLAY_NAMESPACE),
        }
    }

    /// Remember callbacks in `store` (for [`CallbackVerifier::verify_shared`]),
    /// e.g. an `payauth_runtime::redis_store::RedisStore` shared by the fleet.
    pub fn replay_store(mut self, store: Arc<dyn SeenKeys>) -> Self {
        self.replays = self.replays.with_store(store);
        self
    }

    /// In memory only, even when the environment configures a store.
    pub fn replays_in_memory(mut self) -> Self {
        self.replays = SharedReplayGuard::in_memory(REPLAY_NAMESPACE);
        self
    }

    /// How long the shared store remembers a callback (default 30 days,
    /// `payauth_runtime::provider::replay::DEFAULT_SEEN_TTL`): exirom's
    /// callbacks carry no timestamp, so a replay after it is accepted.
    pub fn replay_ttl(mut self, ttl: Duration) -> Self {
        self.replays = self.replays.ttl(ttl);
        self
    }

    /// Check the raw body and headers of a callback; refuse a replay to
    /// this process (memory). `_now` is unused: exirom's callbacks carry
    /// no timestamp on the pages we have, so freshness is enforced by
    /// refusing replays.
    ///
    /// # Errors
    ///
    /// [`CallbackError::Unsigned`]: no `X-Checksum`;
    /// [`CallbackError::BadSignature`]: it does not verify;
    /// [`CallbackError::Malformed`]: the body is not a JSON object with
    /// the checksummed fields, or is over 64 KiB;
    /// [`CallbackError::Replayed`]: this callback was accepted before.
    pub fn verify(
        &self,
        body: &[u8],
        headers: &reqwest::header::HeaderMap,
        _now: SystemTime,
    ) -> Result<Callback, CallbackError> {
        self.replays.admit(self.authentic(body, headers)?)
    }

    /// [`CallbackVerifier::verify`], with replays refused across the
    /// fleet through the shared store when one is set (else in memory).
    ///
    /// # Errors
    ///
    /// As [`CallbackVerifier::verify`], and
    /// [`CallbackError::ReplayCheckUnavailable`] when the store cannot
    /// answer: answer the sender 503 so that it tries again.
    pub async fn verify_shared(
        &self,
        body: &[u8],
        headers: &reqwest::header::HeaderMap,
        _now: SystemTime,
    ) -> Result<Callback, CallbackError> {
        self.replays
            .admit_shared(self.authentic(body, headers)?)
            .await
    }

    /// Whether [`CallbackVerifier::verify_shared`] uses a shared store.
    pub fn is_shared(&self) -> bool {
        self.replays.is_shared()
    }

    /// The callback if its checksum verifies, and its replay identity.
    fn authentic(
        &self,
        body: &[u8],
        headers: &reqwest::header::HeaderMap,
    ) -> Result<(Callback, String), CallbackError> {
        let checksum = match headers.get(CHECKSUM_HEADER).map(|v| v.to_str()) {
            None => return Err(CallbackError::Unsigned),
            Some(Ok(v)) if !v.trim().is_empty() => v.trim(),
            Some(Ok(_)) => return Err(CallbackError::Unsigned),
            Some(Err(_)) => return Err(CallbackError::BadSignature),
        };
        if body.len() > MAX_CALLBACK_BYTES {
            return Err(CallbackError::Malformed);
        }
        // The same body twice: the members as the provider wrote them (for
        // the checksum), and as values (for the application). Both keep
        // the last of a repeated member.
        let Ok(raw) = serde_json::from_slice::<BTreeMap<String, &RawValue>>(body) else {
            return Err(CallbackError::Malformed);
        };
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
            return Err(CallbackError::Malformed);
        };
        let text = |names: &[&str]| -> Option<String> {
            names.iter().find_map(|n| checksummed_text(raw.get(*n)?))
        };
        let (Some(account_id), Some(amount), Some(currency), Some(request_id)) = (
            text(&["accountId"]),
            text(&["amount", "orderAmount"]),
            text(&["currency", "orderCurrency"]),
            text(&["requestId"]),
        ) else {
            return Err(CallbackError::Malformed);
        };
        let message = [
            account_id.as_str(),
            amount.as_str(),
            currency.as_str(),
            request_id.as_str(),
        ]
        .join("|");
        if !signing::verify_hmac_checksum(&self.secret, message.as_bytes(), checksum) {
            return Err(CallbackError::BadSignature);
        }
        let opt = |n: &str| fields.get(n).and_then(Value::as_str).map(str::to_owned);
        let transaction_id = opt("transactionId");
        let transaction_status = opt("transactionStatus");
        // One status update of one transaction of the signed payment.
        let identity = format!(
            "{checksum}\n{}\n{}",
            transaction_id.as_deref().unwrap_or(""),
            transaction_status.as_deref().unwrap_or("")
        );
        let callback = Callback {
            transaction_id: Unsigned::new(transaction_id),
            transaction_status: Unsigned::new(transaction_status),
            account_id,
            request_id,
            amount,
            currency,
            fields,
        };
        Ok((callback, identity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(
        secret: &Secret,
        body: &serde_json::Value,
        parts: &[&str],
    ) -> (Vec<u8>, reqwest::header::HeaderMap) {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            CHECKSUM_HEADER,
            signing::hmac_checksum(secret, parts)
                .parse()
                .expect("header"),
        );
        (serde_json::to_vec(body).expect("json"), headers)
    }

    /// Both callback forms of the pages: `amount`/`currency` (a decimal
    /// string) and `orderAmount`/`orderCurrency` (minor units, a number);
    /// the checksum covers the amount as the body carries it.
    #[test]
    fn both_callback_forms_verify() {
        let secret = Secret::new("cb-secret");
        let now = SystemTime::now();
        let verifier = CallbackVerifier::new(secret.clone());
        let (body, headers) = signed(
            &secret,
            &serde_json::json!({"accountId": "acc", "amount": "10.00", "currency": "EUR",
                                "requestId": "r1", "transactionStatus": "PENDING"}),
            &["acc", "10.00", "EUR", "r1"],
        );
        let cb = verifier.verify(&body, &headers, now).expect("amount form");
        assert_eq!((cb.amount.as_str(), cb.currency.as_str()), ("10.00", "EUR"));
        assert_eq!(
            cb.transaction_status.unverified().as_deref(),
            Some("PENDING")
        );

        let (body, headers) = signed(
            &secret,
            &serde_json::json!({"accountId": "acc", "orderAmount": 1000, "orderCurrency": "EUR",
                                "requestId": "r2", "transactionStatus": "APPROVED"}),
            &["acc", "1000", "EUR", "r2"],
        );
        let cb = verifier
            .verify(&body, &headers, now)
            .expect("orderAmount form");
        assert_eq!((cb.amount.as_str(), cb.currency.as_str()), ("1000", "EUR"));
        // The other form's checksum does not verify it.
        let (body, headers) = signed(
            &secret,
            &serde_json::json!({"accountId": "acc", "orderAmount": 1000, "orderCurrency": "EUR",
                                "requestId": "r3"}),
            &["acc", "10.00", "EUR", "r3"],
        );
        assert_eq!(
            verifier.verify(&body, &headers, now),
            Err(CallbackError::BadSignature)
        );
    }

    /// PENDING then APPROVED for one payment (one checksum): each accepted
    /// once; each again is a replay.
    #[test]
    fn each_status_update_is_accepted_once() {
        let secret = Secret::new("cb-secret");
        let now = SystemTime::now();
        let verifier = CallbackVerifier::new(secret.clone());
        let update = |status: &str| {
            signed(
                &secret,
                &serde_json::json!({"accountId": "acc", "amount": "5.00", "currency": "EUR",
                                    "requestId": "r9", "transactionId": "t9",
                                    "transactionStatus": status}),
                &["acc", "5.00", "EUR", "r9"],
            )
        };
        for status in ["PENDING", "APPROVED"] {
            let (body, headers) = update(status);
            assert!(verifier.verify(&body, &headers, now).is_ok(), "{status}");
        }
        for status in ["PENDING", "APPROVED"] {
            let (body, headers) = update(status);
            assert_eq!(
                verifier.verify(&body, &headers, now),
                Err(CallbackError::Replayed),
                "{status}"
            );
        }
    }

    /// A body written by hand, so the amount is exactly the given JSON text.
    fn raw_callback(amount_member: &str, amount_json: &str, request_id: &str) -> Vec<u8> {
        format!(
            r#"{{"accountId":"acc","{amount_member}":{amount_json},"currency":"EUR","requestId":"{request_id}","transactionStatus":"APPROVED"}}"#
        )
        .into_bytes()
    }

    fn checksum_header(secret: &Secret, parts: &[&str]) -> reqwest::header::HeaderMap {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            CHECKSUM_HEADER,
            signing::hmac_checksum(secret, parts)
                .parse()
                .expect("header"),
        );
        headers
    }

    /// The amount as a JSON number is hashed as the text sent: `10.00`
    /// (which serde_json writes back as `10.0`), `10.50`, `1e3`, `1000`;
    /// as a string, as its content. In both member names.
    #[test]
    fn a_json_number_amount_is_hashed_as_the_text_sent() {
        let secret = Secret::new("cb-secret");
        let now = SystemTime::now();
        let verifier = CallbackVerifier::new(secret.clone());
        let cases = [
            ("10.00", "10.00"),
            ("10.50", "10.50"),
            ("1e3", "1e3"),
            ("1000", "1000"),
            ("0.10", "0.10"),
            ("\"10.00\"", "10.00"),
            ("\"10.50\"", "10.50"),
            ("\"1e3\"", "1e3"),
            // An escaped string is hashed as its content.
            ("\"10\\u002e00\"", "10.00"),
            // Whitespace around the value is not part of it.
            (" 10.00 ", "10.00"),
        ];
        for (i, (json, text)) in cases.iter().enumerate() {
            for member in ["amount", "orderAmount"] {
                let request_id = format!("r-{member}-{i}");
                let body = raw_callback(member, json, &request_id);
                let headers = checksum_header(&secret, &["acc", text, "EUR", &request_id]);
                let cb = verifier
                    .verify(&body, &headers, now)
                    .unwrap_or_else(|e| panic!("{member} {json}: {e}"));
                assert_eq!(cb.amount, *text, "{member} {json}");
            }
        }
        // What the old code hashed (serde_json's re-serialisation) does not verify.
        for (json, reserialised) in [("10.00", "10.0"), ("10.50", "10.5"), ("1e3", "1000.0")] {
            let body = raw_callback("amount", json, "r-old");
            let headers = checksum_header(&secret, &["acc", reserialised, "EUR", "r-old"]);
            assert_eq!(
                verifier.verify(&body, &headers, now),
                Err(CallbackError::BadSignature),
                "{json}"
            );
        }
        // Neither a string nor a number: malformed.
        for json in ["true", "null", "[10]", "{\"v\":10}"] {
            let body = raw_callback("amount", json, "r-bad");
            let headers = checksum_header(&secret, &["acc", json, "EUR", "r-bad"]);
            assert_eq!(
                verifier.verify(&body, &headers, now),
                Err(CallbackError::Malformed),
                "{json}"
            );
        }
    }

    proptest::proptest! {
        /// Any amount the provider may write as a JSON number verifies
        /// against the checksum of its text, and comes back as that text.
        #[test]
        fn any_json_number_amount_verifies_as_written(
            amount in "-?(0|[1-9][0-9]{0,12})(\\.[0-9]{1,4})?([eE][+-]?[0-9]{1,2})?",
            member in proptest::sample::select(vec!["amount", "orderAmount"]),
        ) {
            let secret = Secret::new("cb-secret");
            let verifier = CallbackVerifier::new(secret.clone());
            let body = raw_callback(member, &amount, "r1");
            let headers = checksum_header(&secret, &["acc", &amount, "EUR", "r1"]);
            let cb = verifier.verify(&body, &headers, SystemTime::now());
            proptest::prop_assert_eq!(cb.map(|c| c.amount), Ok(amount));
        }

        /// Any bytes after a callback-shaped start, with any checksum: a
        /// typed error, never a panic.
        #[test]
        fn any_bytes_are_a_typed_error(
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
            checksum in "[ -~]{0,64}",
        ) {
            let verifier = CallbackVerifier::new(Secret::new("k"));
            let mut body = br#"{"accountId":"acc","amount":"#.to_vec();
            body.extend_from_slice(&tail);
            let mut headers = reqwest::header::HeaderMap::new();
            if let Ok(v) = reqwest::header::HeaderValue::from_str(&checksum) {
                headers.insert(CHECKSUM_HEADER, v);
            }
            proptest::prop_assert!(verifier.verify(&body, &headers, SystemTime::now()).is_err());
        }
    }

    #[test]
    fn minor_units() {
        assert_eq!(to_minor_units("10.00", 2), Some(1000));
        assert_eq!(to_minor_units("10.5", 2), Some(1050));
        assert_eq!(to_minor_units("10", 2), Some(1000));
        assert_eq!(to_minor_units("10.001", 2), None);
        assert_eq!(to_minor_units("-1", 2), None);
        assert_eq!(to_minor_units("", 2), None);
        assert_eq!(to_minor_units("99999999999999999999", 2), None);
    }

    #[test]
    fn the_two_forms_differ_and_decimal_is_the_default() {
        let s = Secret::new("k");
        let dec = apm_checksum(&s, "acc", "10.00", "EUR", "r1", AmountForm::default());
        let minor = apm_checksum(
            &s,
            "acc",
            "10.00",
            "EUR",
            "r1",
            AmountForm::MinorUnits { exponent: 2 },
        );
        assert_eq!(
            dec,
            Some(signing::hmac_checksum(&s, &["acc", "10.00", "EUR", "r1"]))
        );
        assert_eq!(
            minor,
            Some(signing::hmac_checksum(&s, &["acc", "1000", "EUR", "r1"]))
        );
        assert_ne!(dec, minor);
    }
}
