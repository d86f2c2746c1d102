//! Reading a client's settings from environment variables.

use std::sync::Arc;

use crate::base::error::Error;
use crate::token::store::TokenStore;

/// An optional environment variable. **Empty is unset**: a value that is
/// empty or only whitespace counts as absent, in every crate, so
/// `INSTITUTION_API_KEY=""` never selects an empty API key and
/// `BURSAGB_REGION=""` never sends an empty region.
pub fn optional_env(get: &dyn Fn(&str) -> Option<String>, key: &str) -> Option<String> {
    get(key).filter(|v| !v.trim().is_empty())
}

/// A required environment variable (see [`optional_env`]: empty is
/// unset), or a config error naming it.
pub fn require_env(
    get: &dyn Fn(&str) -> Option<String>,
    provider: &'static str,
    key: &str,
) -> Result<String, Error> {
    optional_env(get, key).ok_or_else(|| Error::config(provider, format!("{key} is not set")))
}

/// The shared store the environment configures (`AUTH_RUNTIME_REDIS_URL`
/// and its companions, `redis` feature), read the first time a client is
/// built and kept for the process: a build reads no environment variable
/// of the store's. `auth_runtime::redis_store::from_env` reads it again,
/// explicitly. The store holds no connection until it is used, and then
/// one per runtime that uses it.
pub(super) fn shared_store() -> Option<Arc<dyn TokenStore>> {
    #[cfg(feature = "redis")]
    {
        static FROM_ENV: std::sync::OnceLock<Option<Arc<dyn TokenStore>>> =
            std::sync::OnceLock::new();
        FROM_ENV
            .get_or_init(crate::token::redis_store::from_env)
            .clone()
    }
    #[cfg(not(feature = "redis"))]
    {
        None
    }
}
