//! axept as a plug-in: its base path, endpoints, error format and configuration.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::answers::error;
use super::config::{AxeptConfig, VARIANTS};
use super::{login, transactions};
use crate::config::{AnyConfig, default_of, parse_of};
use crate::credentials::Credentials;
use crate::http::reply::Reply;
use crate::plugin::{Endpoint, Plugin, handler};
use crate::provider::Provider;
use crate::route::Route;
use crate::state::Inner;
use crate::variant::Variant;

pub(crate) struct Axept;

const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        route: Route::Login,
        method: Method::POST,
        path: "/api/authenticate",
        handler: handler!(login::authenticate),
    },
    Endpoint {
        route: Route::Protected,
        method: Method::GET,
        path: "/sandbox/protected",
        handler: handler!(login::protected),
    },
    Endpoint {
        route: Route::TransactionStart,
        method: Method::POST,
        path: "/transaction",
        handler: handler!(transactions::transaction_start),
    },
    Endpoint {
        route: Route::TransactionList,
        method: Method::GET,
        path: "/Transaction",
        handler: handler!(transactions::transaction_list),
    },
    Endpoint {
        route: Route::TransactionGet,
        method: Method::GET,
        path: "/Transaction/{uti}",
        handler: handler!(transactions::transaction_get),
    },
    Endpoint {
        route: Route::ProcessDecision,
        method: Method::POST,
        path: "/ProcessDecision",
        handler: handler!(transactions::process_decision),
    },
];

impl Plugin for Axept {
    fn provider(&self) -> Provider {
        Provider::Axept
    }
    fn base_path(&self) -> &'static str {
        "/axept"
    }
    fn endpoints(&self) -> &'static [Endpoint] {
        ENDPOINTS
    }
    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }
    fn default_config(&self) -> Box<dyn AnyConfig> {
        default_of::<AxeptConfig>()
    }
    fn parse_config(&self, v: Value) -> Result<Box<dyn AnyConfig>, String> {
        parse_of::<AxeptConfig>(v)
    }
    fn error(&self, _r: Option<Route>, status: StatusCode, message: &str) -> Reply {
        error(status, message)
    }
    fn forged_subject(&self, st: &Inner) -> String {
        st.live(|c: &AxeptConfig| c.merchant_id.to_string())
    }
    fn login_example(&self, base: &str, c: &Credentials) -> String {
        format!(
            "curl -s -X POST '{base}/api/authenticate' -H 'Content-Type: application/json' \
             -d '{{\"merchantId\":{},\"keyId\":{},\"key\":\"{}\"}}'",
            c.int("merchant_id"),
            c.int("key_id"),
            c.text("key")
        )
    }
}
