//! bursagb as a plug-in: its base path, endpoints, error format and configuration, and
//! the sandbox helpers that hand out its special test accounts.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::answers::{CODE_API_KEY, error};
use super::config::{BursagbConfig, customer_without_orders_scope, restricted_api_key};
use super::{login, operations};
use crate::config::{AnyConfig, default_of, parse_of};
use crate::credentials::Credentials;
use crate::handle::Sandbox;
use crate::http::reply::Reply;
use crate::plugin::{Endpoint, Plugin, handler};
use crate::provider::Provider;
use crate::route::Route;
use crate::state::Inner;

pub(crate) struct Bursagb;

const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        route: Route::Login,
        method: Method::POST,
        path: "/Login/Customer/Api/Verify",
        handler: handler!(login::verify),
    },
    Endpoint {
        route: Route::OrdersCreate,
        method: Method::POST,
        path: "/Orders/Create",
        handler: handler!(operations::orders_create),
    },
    Endpoint {
        route: Route::SupplierProductsList,
        method: Method::POST,
        path: "/Supplier/Products/List",
        handler: handler!(operations::supplier_products),
    },
    Endpoint {
        route: Route::Protected,
        method: Method::GET,
        path: "/sandbox/protected",
        handler: handler!(login::protected),
    },
    Endpoint {
        route: Route::CustomerGet,
        method: Method::GET,
        path: "/Customer/Get",
        handler: handler!(login::customer_get),
    },
];

impl Plugin for Bursagb {
    fn provider(&self) -> Provider {
        Provider::Bursagb
    }
    fn base_path(&self) -> &'static str {
        "/bursagb"
    }
    fn endpoints(&self) -> &'static [Endpoint] {
        ENDPOINTS
    }
    fn default_config(&self) -> Box<dyn AnyConfig> {
        default_of::<BursagbConfig>()
    }
    fn parse_config(&self, v: Value) -> Result<Box<dyn AnyConfig>, String> {
        parse_of::<BursagbConfig>(v)
    }
    fn error(&self, r: Option<Route>, status: StatusCode, message: &str) -> Reply {
        let code = match (status.as_u16(), r) {
            (401, Some(Route::SupplierProductsList)) => CODE_API_KEY,
            (s, _) => -i64::from(s),
        };
        error(status, message, code)
    }
    fn forged_subject(&self, st: &Inner) -> String {
        st.live(|c: &BursagbConfig| c.reseller.customer_id.clone())
    }
    fn login_example(&self, base: &str, c: &Credentials) -> String {
        format!(
            "curl -s -X POST '{base}/Login/Customer/Api/Verify' -H 'Content-Type: application/json' \
             -H 'h-region-code: TR' -d '{{\"Email\":\"{}\",\"Password\":\"{}\"}}'",
            c.text("email"),
            c.text("password")
        )
    }
    fn notes(&self, st: &Inner) -> Vec<String> {
        let sb = |f: fn(&BursagbConfig) -> Option<String>| st.live(f);
        let mut notes = Vec::new();
        if let Some(k) = sb(restricted_api_key) {
            notes.push(format!("(ApiKey without Supplier access: {k})"));
        }
        if let Some(e) = sb(|c| customer_without_orders_scope(c).map(|(e, _)| e)) {
            notes.push(format!("(customer without orders:write: {e})"));
        }
        notes
    }
}

impl Sandbox {
    /// A bursagb `ApiKey` that is valid but whose tenant lacks Supplier API access (→ 403).
    pub fn bursagb_restricted_api_key(&self) -> Option<String> {
        self.inner.live(restricted_api_key)
    }

    /// A bursagb storefront customer `(email, password)` whose tokens lack `orders:write`.
    pub fn bursagb_customer_without_orders_scope(&self) -> Option<(String, String)> {
        self.inner.live(customer_without_orders_scope)
    }
}
