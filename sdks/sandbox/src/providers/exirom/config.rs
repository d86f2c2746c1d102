//! exirom's identity, routes, variants and configuration.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{at_least_a_second, sealed::ConfigImpl};
use crate::credentials::{Credentials, random_secret};
use crate::provider::Provider;
use crate::route::Route;
use crate::variant::Variant;

#[allow(non_upper_case_globals)] // read like the enum variants they replaced
impl Provider {
    /// The emulated exirom.
    pub const Exirom: Provider = Provider::named("exirom");
}

#[allow(non_upper_case_globals)]
impl Route {
    /// exirom `POST /v1/payments/card`.
    pub const CardPayment: Route = Route::named("card_payment");
    /// exirom `GET /v1/payments/card/status/{id}`.
    pub const CardPaymentStatus: Route = Route::named("card_payment_status");
    /// exirom `POST /v1/payments/apm` (checksummed).
    pub const ApmPayment: Route = Route::named("apm_payment");
    /// exirom `GET /v1/payments/apm/info/{id}`.
    pub const ApmPaymentInfo: Route = Route::named("apm_payment_info");
    /// exirom `POST /v1/payouts/card`.
    pub const CardPayout: Route = Route::named("card_payout");
    /// exirom `GET /v1/payouts/card/info/{id}`.
    pub const CardPayoutInfo: Route = Route::named("card_payout_info");
}

#[allow(non_upper_case_globals)]
impl Variant {
    /// exirom login answers a bare JSON string `"eyJ..."` (API reference; the default).
    pub const ExiromBareString: Variant = Variant::of(Provider::Exirom, "exirom_bare_string");
    /// exirom login answers `{"merchantKey": "...", "token": "eyJ..."}` (guide).
    pub const ExiromObject: Variant = Variant::of(Provider::Exirom, "exirom_object");
}

pub(super) const VARIANTS: &[Variant] = &[Variant::ExiromBareString, Variant::ExiromObject];

/// The body form of exirom's callbacks: the pages disagree on its names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExiromCallbackForm {
    /// `amount`/`currency`, the amount as the request wrote it (`"10.00"`).
    #[default]
    Amount,
    /// `orderAmount`/`orderCurrency`, the amount in minor units (`1000`).
    OrderAmount,
}

/// exirom: HS256 token, 30 days by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExiromConfig {
    /// The `merchantKey` the login must carry.
    pub merchant_key: String,
    /// The `merchantSecret` the login must carry; it also signs the
    /// checksums (APM requests, callbacks).
    pub merchant_secret: String,
    /// How long a token lives (default 30 days).
    pub token_lifetime: Duration,
    /// `ExiromBareString` (default) or `ExiromObject`.
    pub variant: Variant,
    /// The body form of its callbacks (JSON `"amount"`, the default, or `"order_amount"`).
    #[serde(default)]
    pub callback_form: ExiromCallbackForm,
}

impl Default for ExiromConfig {
    fn default() -> Self {
        ExiromConfig {
            merchant_key: "sbx-exirom-merchant-key".into(),
            merchant_secret: "sbx-exirom-merchant-secret".into(),
            token_lifetime: Duration::from_secs(30 * 24 * 3600),
            variant: Variant::ExiromBareString,
            callback_form: ExiromCallbackForm::Amount,
        }
    }
}

impl ConfigImpl for ExiromConfig {
    const PROVIDER: Provider = Provider::Exirom;
    fn credentials(&self) -> Credentials {
        Credentials::new(Provider::Exirom)
            .with("merchant_key", self.merchant_key.as_str())
            .with("merchant_secret", self.merchant_secret.as_str())
    }
    fn rotate_secrets(&mut self) {
        self.merchant_secret = random_secret("sbx-exirom-secret-");
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
