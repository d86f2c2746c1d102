//! axept's identity, routes, variants and configuration.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{at_least_a_second, sealed::ConfigImpl};
use crate::credentials::{Credentials, random_secret};
use crate::provider::Provider;
use crate::route::Route;
use crate::variant::Variant;

#[allow(non_upper_case_globals)] // read like the enum variants they replaced
impl Provider {
    /// The emulated axept.
    pub const Axept: Provider = Provider::named("axept");
}

#[allow(non_upper_case_globals)]
impl Route {
    /// axept `POST /transaction`.
    pub const TransactionStart: Route = Route::named("transaction_start");
    /// axept `GET /Transaction`.
    pub const TransactionList: Route = Route::named("transaction_list");
    /// axept `GET /Transaction/{uti}`.
    pub const TransactionGet: Route = Route::named("transaction_get");
    /// axept `POST /ProcessDecision` (signature check decisions).
    pub const ProcessDecision: Route = Route::named("process_decision");
}

#[allow(non_upper_case_globals)]
impl Variant {
    /// axept answers `{"token", "expiresAt"}` (doc example; the default).
    pub const AxeptCamel: Variant = Variant::of(Provider::Axept, "axept_camel");
    /// axept answers `{"Token", "ExpiresAt"}` (doc field table).
    pub const AxeptPascal: Variant = Variant::of(Provider::Axept, "axept_pascal");
}

pub(super) const VARIANTS: &[Variant] = &[Variant::AxeptCamel, Variant::AxeptPascal];

/// axept: HS256 token of 30 min.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxeptConfig {
    /// The Cloud Connect merchant id the login must name (default: the
    /// docs' example, 12345).
    pub merchant_id: i64,
    /// The id of the key (default 12).
    pub key_id: i64,
    /// The key (default: the docs' example value).
    pub key: String,
    /// How long a token lives (default 30 minutes).
    pub token_lifetime: Duration,
    /// `AxeptCamel` (default) or `AxeptPascal`.
    pub variant: Variant,
}

impl Default for AxeptConfig {
    fn default() -> Self {
        // The doc's own example request values.
        AxeptConfig {
            merchant_id: 12345,
            key_id: 12,
            key: "R2lJMTMzZ1RCVy60T1h4V3FNshy=".into(),
            token_lifetime: Duration::from_secs(30 * 60),
            variant: Variant::AxeptCamel,
        }
    }
}

impl ConfigImpl for AxeptConfig {
    const PROVIDER: Provider = Provider::Axept;
    fn credentials(&self) -> Credentials {
        Credentials::new(Provider::Axept)
            .with("merchant_id", self.merchant_id)
            .with("key_id", self.key_id)
            .with("key", self.key.as_str())
    }
    fn rotate_secrets(&mut self) {
        self.key_id += 1;
        self.key = random_secret("");
    }
    fn token_lifetime(&self) -> Duration {
        self.token_lifetime
    }
    fn set_token_lifetime(&mut self, d: Duration) {
        self.token_lifetime = d;
    }
    fn validate(&self) -> Result<(), String> {
        at_least_a_second("token_lifetime", self.token_lifetime)
    }
    fn variant(&self) -> Option<Variant> {
        Some(self.variant)
    }
    fn set_variant(&mut self, v: Variant) {
        self.variant = v;
    }
}
