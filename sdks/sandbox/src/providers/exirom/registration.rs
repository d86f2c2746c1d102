//! exirom as a plug-in: its base path, endpoints, error format and configuration.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::answers::error;
use super::config::{ExiromConfig, VARIANTS};
use super::{callbacks, login, payments, payouts};
use crate::config::{AnyConfig, default_of, parse_of};
use crate::credentials::Credentials;
use crate::error::SandboxError;
use crate::http::reply::Reply;
use crate::plugin::{Endpoint, Plugin, handler};
use crate::provider::Provider;
use crate::route::Route;
use crate::state::Inner;
use crate::variant::Variant;

pub(crate) struct Exirom;

const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        route: Route::Login,
        method: Method::POST,
        path: "/v1/auth",
        handler: handler!(login::login),
    },
    Endpoint {
        route: Route::Protected,
        method: Method::GET,
        path: "/sandbox/protected",
        handler: handler!(login::protected),
    },
    Endpoint {
        route: Route::CardPayment,
        method: Method::POST,
        path: "/v1/payments/card",
        handler: handler!(payments::card_payment),
    },
    Endpoint {
        route: Route::CardPaymentStatus,
        method: Method::GET,
        path: "/v1/payments/card/status/{id}",
        handler: handler!(payments::card_payment_status),
    },
    Endpoint {
        route: Route::ApmPayment,
        method: Method::POST,
        path: "/v1/payments/apm",
        handler: handler!(payments::apm_payment),
    },
    Endpoint {
        route: Route::ApmPaymentInfo,
        method: Method::GET,
        path: "/v1/payments/apm/info/{id}",
        handler: handler!(payments::apm_payment_info),
    },
    Endpoint {
        route: Route::CardPayout,
        method: Method::POST,
        path: "/v1/payouts/card",
        handler: handler!(payouts::card_payout),
    },
    Endpoint {
        route: Route::CardPayoutInfo,
        method: Method::GET,
        path: "/v1/payouts/card/info/{id}",
        handler: handler!(payouts::card_payout_info),
    },
];

impl Plugin for Exirom {
    fn provider(&self) -> Provider {
        Provider::Exirom
    }
    fn base_path(&self) -> &'static str {
        "/exirom/api"
    }
    fn endpoints(&self) -> &'static [Endpoint] {
        ENDPOINTS
    }
    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }
    fn default_config(&self) -> Box<dyn AnyConfig> {
        default_of::<ExiromConfig>()
    }
    fn parse_config(&self, v: Value) -> Result<Box<dyn AnyConfig>, String> {
        parse_of::<ExiromConfig>(v)
    }
    fn error(&self, _r: Option<Route>, status: StatusCode, message: &str) -> Reply {
        error(status, message, Vec::new())
    }
    fn forged_subject(&self, st: &Inner) -> String {
        st.live(|c: &ExiromConfig| c.merchant_key.clone())
    }
    /// The merchant secret: APM requests' and callbacks' checksums.
    fn signing_secret(&self, st: &Inner) -> Option<String> {
        Some(st.live(|c: &ExiromConfig| c.merchant_secret.clone()))
    }
    fn settle(&self, st: &Inner, id: &str, status: &str) -> Result<(), SandboxError> {
        callbacks::settle(st, id, status)
    }
    fn login_example(&self, base: &str, c: &Credentials) -> String {
        format!(
            "curl -s -X POST '{base}/v1/auth' -H 'Content-Type: application/json' \
             -d '{{\"merchantKey\":\"{}\",\"merchantSecret\":\"{}\"}}'",
            c.text("merchant_key"),
            c.text("merchant_secret")
        )
    }
}
