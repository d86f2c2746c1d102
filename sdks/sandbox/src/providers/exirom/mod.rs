//! exirom: `POST {base}/v1/auth` with `{merchantKey, merchantSecret}` → HS256 JWT (30 days);
//! card payments, APM payments and card payouts, idempotent by `requestId`, each calling
//! back its request's `callbackUrl` (signed with `X-Checksum`) when created and settled.
//! Errors: `{"message": str, "errors": [{"field", "message"}]}`.

mod answers;
mod callbacks;
mod config;
mod login;
mod payments;
mod payouts;
mod registration;
mod stores;

pub use config::{ExiromCallbackForm, ExiromConfig};
pub(crate) use registration::Exirom;
