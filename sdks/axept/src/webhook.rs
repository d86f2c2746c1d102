//! axept's transaction webhook, from the application's side.
//!
//! A `start_transaction` request that carries `webHookUrl` gets a call
//! there about the transaction (the pages: "the webhook fires only when
//! present"). The pages show no signature, no header and no body for it:
//! the body is assumed to be the transaction's `uti` and, perhaps, its
//! state as `GET /Transaction/{uti}` answers (the spec's
//! `TransactionWebhook`, marked `x-assumption`). Nothing proves that axept
//! sent it — anyone who learns the URL can post one — so:
//!
//! 1. [`parse`] reads the body into a [`Webhook`]: which transaction it
//!    names, and what it *claims* about it ([`Webhook::claimed`]).
//! 2. [`confirm`] asks the provider, with the authenticated client, for
//!    that transaction (`GET /Transaction/{uti}`) and returns the
//!    provider's answer ([`Confirmed`]) — never the webhook's claim.
//!
//! ```no_run
//! # async fn demo(client: axept::Client, body: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! let webhook = axept::webhook::parse(body)?; // answer 400 to the sender on an error
//! let now = axept::webhook::confirm(&client, &webhook).await?;
//! if now.is_approved() {
//!     // transApproved and status Complete, as the provider says now
//! }
//! # Ok(()) }
//! ```

use std::fmt;

use payauth_runtime::provider::signing::MAX_CALLBACK_BYTES;
use payauth_runtime::{ErrorKind, OperationError};

use crate::types;

/// Largest webhook body read (bigger ones are refused before parsing).
pub const MAX_WEBHOOK_BYTES: usize = MAX_CALLBACK_BYTES;

/// Why a webhook body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookError {
    /// Over [`MAX_WEBHOOK_BYTES`].
    TooLarge,
    /// Not a JSON object of the webhook's shape (`uti` a string, the
    /// other members of their types).
    Malformed,
    /// `uti` is not a GUID (the pages: the POS chooses a GUID).
    BadUti,
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WebhookError::TooLarge => "the webhook body is too large",
            WebhookError::Malformed => "the webhook body is not a transaction webhook",
            WebhookError::BadUti => "the webhook's uti is not a GUID",
        })
    }
}

impl std::error::Error for WebhookError {}

/// A parsed webhook: the transaction it names and what it claims about
/// it. Unsigned: [`confirm`] it before acting.
#[derive(Debug, Clone)]
pub struct Webhook {
    claimed: types::TransactionWebhook,
}

impl Webhook {
    /// The transaction the webhook is about (a GUID).
    pub fn uti(&self) -> &str {
        &self.claimed.uti
    }

    /// What the body says about the transaction. Anyone can send this:
    /// it is not the transaction's state, only a hint that it changed.
    pub fn claimed(&self) -> &types::TransactionWebhook {
        &self.claimed
    }
}

/// Reads a webhook body. The body is capped at [`MAX_WEBHOOK_BYTES`]; any
/// other input is a typed [`WebhookError`], never a panic.
///
/// # Errors
///
/// [`WebhookError::TooLarge`], [`WebhookError::Malformed`],
/// [`WebhookError::BadUti`].
pub fn parse(body: &[u8]) -> Result<Webhook, WebhookError> {
    if body.len() > MAX_WEBHOOK_BYTES {
        return Err(WebhookError::TooLarge);
    }
    let claimed: types::TransactionWebhook =
        serde_json::from_slice(body).map_err(|_| WebhookError::Malformed)?;
    if !is_guid(&claimed.uti) {
        return Err(WebhookError::BadUti);
    }
    Ok(Webhook { claimed })
}

/// `8-4-4-4-12` hexadecimal digits, either case.
fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The transaction as the provider answered `GET /Transaction/{uti}` when
/// the webhook was confirmed.
#[derive(Debug, Clone)]
pub struct Confirmed {
    transaction: types::Transaction,
}

impl Confirmed {
    /// The provider's answer.
    pub fn transaction(&self) -> &types::Transaction {
        &self.transaction
    }

    /// The provider's answer, taken.
    pub fn into_transaction(self) -> types::Transaction {
        self.transaction
    }

    /// Approved, as the pages define it: `transApproved` is true and
    /// `status` is `Complete` — in the provider's answer.
    pub fn is_approved(&self) -> bool {
        self.transaction.trans_approved && self.transaction.status == "Complete"
    }
}

/// Why a webhook could not be confirmed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfirmError {
    /// The provider did not answer with the transaction: see the error's
    /// `kind()` — [`ErrorKind::NotFound`] means it knows no transaction
    /// of this `uti` for these credentials (the webhook is not about one
    /// of yours), [`ErrorKind::Transient`] that asking again later may work.
    Provider(OperationError<types::ErrorResponse>),
    /// The provider answered about another `uti` than the webhook's.
    OtherTransaction,
}

impl ConfirmError {
    /// The provider knows no transaction of the webhook's `uti`.
    pub fn is_unknown_transaction(&self) -> bool {
        matches!(self, ConfirmError::Provider(e) if e.kind() == ErrorKind::NotFound)
    }
}

impl fmt::Display for ConfirmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfirmError::Provider(e) => write!(f, "the transaction could not be read: {e}"),
            ConfirmError::OtherTransaction => {
                f.write_str("the provider answered about another transaction")
            }
        }
    }
}

impl std::error::Error for ConfirmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfirmError::Provider(e) => Some(e),
            ConfirmError::OtherTransaction => None,
        }
    }
}

/// Fetches the webhook's transaction with the authenticated client and
/// returns what the provider says now. The webhook's claims play no part:
/// only its `uti` is used.
///
/// # Errors
///
/// [`ConfirmError::Provider`] when the provider does not answer with the
/// transaction (unknown `uti`: [`ConfirmError::is_unknown_transaction`]);
/// [`ConfirmError::OtherTransaction`] when it answers about another one.
pub async fn confirm(client: &crate::Client, webhook: &Webhook) -> Result<Confirmed, ConfirmError> {
    let transaction = client
        .get_transaction()
        .uti(webhook.uti())
        .send()
        .await
        .map_err(ConfirmError::Provider)?
        .into_inner();
    if !transaction.uti.eq_ignore_ascii_case(webhook.uti()) {
        return Err(ConfirmError::OtherTransaction);
    }
    Ok(Confirmed { transaction })
}

#[cfg(test)]
mod tests {
    use super::*;

    const UTI: &str = "3f2c9a4e-6a51-4d0b-9d0e-5b7b1a2c3d4e";

    #[test]
    fn the_claim_is_read_and_the_uti_checked() {
        let w = parse(
            br#"{"uti":"3f2c9a4e-6a51-4d0b-9d0e-5b7b1a2c3d4e","status":"Complete","transApproved":true,"extra":[1]}"#,
        )
        .expect("parsed");
        assert_eq!(w.uti(), UTI);
        assert_eq!(w.claimed().status.as_deref(), Some("Complete"));
        assert_eq!(w.claimed().trans_approved, Some(true));
        // Only the uti is needed.
        assert!(parse(br#"{"uti":"3F2C9A4E-6A51-4D0B-9D0E-5B7B1A2C3D4E"}"#).is_ok());
        for (body, want) in [
            (&b"{}"[..], WebhookError::Malformed),
            (b"[]", WebhookError::Malformed),
            (b"not json", WebhookError::Malformed),
            (br#"{"uti":7}"#, WebhookError::Malformed),
            (br#"{"uti":null}"#, WebhookError::Malformed),
            (
                br#"{"uti":"3f2c9a4e-6a51-4d0b-9d0e-5b7b1a2c3d4e","transApproved":"yes"}"#,
                WebhookError::Malformed,
            ),
            (br#"{"uti":"../../admin"}"#, WebhookError::BadUti),
            (
                br#"{"uti":"3f2c9a4e-6a51-4d0b-9d0e-5b7b1a2c3d4g"}"#,
                WebhookError::BadUti,
            ),
            (br#"{"uti":""}"#, WebhookError::BadUti),
        ] {
            assert_eq!(
                parse(body).map(|w| w.uti().to_owned()),
                Err(want),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let mut big = br#"{"uti":""#.to_vec();
        big.resize(MAX_WEBHOOK_BYTES + 1, b'a');
        assert_eq!(parse(&big).map(|_| ()), Err(WebhookError::TooLarge));
    }

    proptest::proptest! {
        /// Any bytes: a webhook or a typed error, never a panic; a parsed
        /// webhook's uti is a GUID.
        #[test]
        fn any_bytes_parse_or_fail_typed(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            if let Ok(w) = parse(&body) {
                proptest::prop_assert!(is_guid(w.uti()));
            }
        }

        /// Any JSON object with a `uti` of any text: parsed exactly when
        /// the text is a GUID.
        #[test]
        fn any_uti_text(uti in "[0-9a-fA-F-]{30,40}|\\PC{0,40}", status in "\\PC{0,20}") {
            let body = serde_json::json!({"uti": uti, "status": status}).to_string();
            match parse(body.as_bytes()) {
                Ok(w) => {
                    proptest::prop_assert_eq!(w.uti(), uti.as_str());
                    proptest::prop_assert_eq!(w.claimed().status.as_deref(), Some(status.as_str()));
                }
                Err(e) => {
                    proptest::prop_assert_eq!(e, WebhookError::BadUti);
                    proptest::prop_assert!(!is_guid(&uti));
                }
            }
        }
    }
}
