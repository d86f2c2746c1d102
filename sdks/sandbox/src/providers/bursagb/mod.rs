//! bursagb (white-label platform): `POST /Login/Customer/Api/Verify` issues HS256 tokens to
//! the reseller or a storefront customer; `POST /Orders/Create` needs a Bearer token with scope
//! `orders:write`; `POST /Supplier/Products/List` needs header `ApiKey`.
//! Errors: `{"success": false, "message": str, "code": int}`.

mod answers;
mod config;
mod login;
mod operations;
mod registration;

pub use config::{BursagbAccount, BursagbApiKey, BursagbConfig};
pub(crate) use registration::Bursagb;
