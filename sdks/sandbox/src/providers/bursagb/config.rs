//! bursagb's identity, routes and configuration (reseller, storefront customers, API keys).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::{at_least_a_second, sealed::ConfigImpl};
use crate::credentials::{Credentials, random_secret};
use crate::provider::Provider;
use crate::route::Route;

#[allow(non_upper_case_globals)] // read like the enum variant it replaced
impl Provider {
    /// The emulated bursagb.
    pub const Bursagb: Provider = Provider::named("bursagb");
}

#[allow(non_upper_case_globals)]
impl Route {
    /// bursagb `POST /Orders/Create`.
    pub const OrdersCreate: Route = Route::named("orders_create");
    /// bursagb `POST /Supplier/Products/List`.
    pub const SupplierProductsList: Route = Route::named("supplier_products_list");
    /// bursagb `GET /Customer/Get`.
    pub const CustomerGet: Route = Route::named("customer_get");
}

/// A bursagb login account (reseller or storefront customer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BursagbAccount {
    /// The login's `Email`.
    pub email: String,
    /// The login's `Password`.
    pub password: String,
    /// Customer identifier put in the token (`sub`, `customerId`).
    pub customer_id: String,
    /// The tenant put in the token (`tenant` claim).
    pub tenant: String,
    /// Scopes put in the token, e.g. `orders:read`, `orders:write`.
    pub scopes: Vec<String>,
}

/// A bursagb Payment/Supplier API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BursagbApiKey {
    /// The key, as the `ApiKey` header carries it.
    pub key: String,
    /// The tenant it belongs to.
    pub tenant: String,
    /// Whether the key's tenant may call the Supplier API (else 403).
    pub supplier_access: bool,
}

/// bursagb: HS256 tokens (1 h by default), storefront customers, API keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BursagbConfig {
    /// The reseller's account (the one reported in [`crate::Credentials`]).
    pub reseller: BursagbAccount,
    /// The storefront customers' accounts (by default the second lacks
    /// `orders:write`).
    pub customers: Vec<BursagbAccount>,
    /// The first key with `supplier_access` is the one reported in [`crate::Credentials`].
    pub api_keys: Vec<BursagbApiKey>,
    /// How long a token lives (default one hour).
    pub token_lifetime: Duration,
    /// Region used when the `h-region-code` header is absent.
    pub default_region: String,
}

impl Default for BursagbConfig {
    fn default() -> Self {
        let scopes = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let account = |email: &str, password: &str, id: &str, s: &[&str]| BursagbAccount {
            email: email.into(),
            password: password.into(),
            customer_id: id.into(),
            tenant: "tenant-sandbox".into(),
            scopes: scopes(s),
        };
        BursagbConfig {
            reseller: account(
                "reseller@sandbox-bursagb.test",
                "Reseller-Passw0rd-1",
                "reseller-0001",
                &["orders:read", "orders:write", "reseller"],
            ),
            customers: vec![
                account(
                    "alice@sandbox-bursagb.test",
                    "Alice-Passw0rd-1",
                    "cust-0001",
                    &["orders:read", "orders:write"],
                ),
                account(
                    "bob@sandbox-bursagb.test",
                    "Bob-Passw0rd-1",
                    "cust-0002",
                    &["orders:read"],
                ),
                account(
                    "carol@sandbox-bursagb.test",
                    "Carol-Passw0rd-1",
                    "cust-0003",
                    &["orders:read", "orders:write"],
                ),
            ],
            api_keys: vec![
                BursagbApiKey {
                    key: "ak_test_8f3b1c0e5a4d4f2c9b1e7d6c5a4b3c2d".into(),
                    tenant: "tenant-sandbox".into(),
                    supplier_access: true,
                },
                BursagbApiKey {
                    key: "ak_test_0b1d2f3e4c5a6b7c8d9e0f1a2b3c4d5e".into(),
                    tenant: "tenant-no-supplier".into(),
                    supplier_access: false,
                },
            ],
            token_lifetime: Duration::from_secs(3600),
            default_region: "TR".into(),
        }
    }
}

impl ConfigImpl for BursagbConfig {
    const PROVIDER: Provider = Provider::Bursagb;
    fn credentials(&self) -> Credentials {
        let api_key = self
            .api_keys
            .iter()
            .find(|k| k.supplier_access)
            .map(|k| k.key.clone())
            .unwrap_or_default();
        let customers: Vec<(String, String)> = self
            .customers
            .iter()
            .map(|c| (c.email.clone(), c.password.clone()))
            .collect();
        Credentials::new(Provider::Bursagb)
            // The reseller account (`POST /Login/Customer/Api/Verify`).
            .with("email", self.reseller.email.as_str())
            .with("password", self.reseller.password.as_str())
            // Payment/Supplier API key (header `ApiKey`) whose tenant has supplier access.
            .with("api_key", api_key)
            // Storefront customers `[email, password]`; by default the SECOND one lacks
            // `orders:write` (see `Sandbox::bursagb_customer_without_orders_scope`).
            .with("customers", json!(customers))
    }
    fn rotate_secrets(&mut self) {
        self.reseller.password = random_secret("Pw-");
        for c in &mut self.customers {
            c.password = random_secret("Pw-");
        }
        if let Some(k) = self.api_keys.iter_mut().find(|k| k.supplier_access) {
            k.key = random_secret("ak_test_");
        }
    }
    fn token_lifetime(&self) -> Duration {
        self.token_lifetime
    }
    fn set_token_lifetime(&mut self, d: Duration) {
        self.token_lifetime = d;
    }
    fn validate(&self) -> Result<(), String> {
        let mut emails: Vec<&str> = std::iter::once(&self.reseller)
            .chain(self.customers.iter())
            .map(|a| a.email.as_str())
            .collect();
        emails.sort_unstable();
        let before = emails.len();
        emails.dedup();
        if emails.len() != before {
            return Err("reseller and customers need unique emails".into());
        }
        if !self.api_keys.iter().any(|k| k.supplier_access) {
            return Err("api_keys needs at least one key with supplier access".into());
        }
        at_least_a_second("token_lifetime", self.token_lifetime)
    }
}

pub(super) fn restricted_api_key(c: &BursagbConfig) -> Option<String> {
    c.api_keys
        .iter()
        .find(|k| !k.supplier_access)
        .map(|k| k.key.clone())
}

pub(super) fn customer_without_orders_scope(c: &BursagbConfig) -> Option<(String, String)> {
    c.customers
        .iter()
        .find(|c| !c.scopes.iter().any(|s| s == "orders:write"))
        .map(|c| (c.email.clone(), c.password.clone()))
}
