//! exirom: `POST {base}/v1/auth` with `{merchantKey, merchantSecret}` → HS256 JWT (30 days);
//! card payments, APM payments and card payouts, idempotent by `requestId`.
//! Errors: `{"message": str, "errors": [{"field", "message"}]}`.

mod answers;
mod config;
mod login;
mod payments;
mod payouts;
mod registration;

pub use config::ExiromConfig;
pub(crate) use registration::Exirom;
