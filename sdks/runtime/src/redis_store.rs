//! Redis as the fleet-wide second-level token cache (feature `redis`).

use std::sync::Arc;

use crate::store::TokenStore;

/// The store configured by the environment (`AUTH_RUNTIME_REDIS_URL`, …),
/// if any.
pub fn from_env() -> Option<Arc<dyn TokenStore>> {
    None
}
