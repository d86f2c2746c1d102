//! axept Cloud Connect: `POST {base}/api/authenticate` with `{merchantId: int, keyId: int,
//! key: str}` → HS256 token (30 min) as `{token, expiresAt}` or `{Token, ExpiresAt}`;
//! transactions started by `uti`, listed, read, and signature decisions, each change posted
//! to the request's `webHookUrl`.
//! Errors: `{"message": str}` (400 malformed, 401 wrong merchantId/keyId/key).

mod answers;
mod config;
mod login;
mod registration;
mod transactions;
mod webhooks;

pub use config::AxeptConfig;
pub(crate) use registration::Axept;
