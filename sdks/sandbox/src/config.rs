//! Sandbox configuration: accounts, token lifetimes, response variants, bind address.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::types::{SandboxError, Variant};

/// Whole-sandbox configuration. `Default` gives the documented lifetimes, the default test
/// credentials and an ephemeral port on 127.0.0.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SandboxConfig {
    /// Listen address (default `127.0.0.1:0`, an ephemeral port).
    pub bind: SocketAddr,
    pub exirom: ExiromConfig,
    pub institution: InstitutionConfig,
    pub pledg: PledgConfig,
    pub bursagb: BursagbConfig,
    pub axept: AxeptConfig,
    /// Largest request body accepted (bigger bodies get the provider's 400).
    pub max_body_bytes: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            exirom: ExiromConfig::default(),
            institution: InstitutionConfig::default(),
            pledg: PledgConfig::default(),
            bursagb: BursagbConfig::default(),
            axept: AxeptConfig::default(),
            max_body_bytes: 1024 * 1024,
        }
    }
}

impl SandboxConfig {
    /// Default configuration listening on `127.0.0.1:port`.
    pub fn with_port(port: u16) -> Self {
        SandboxConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], port)),
            ..Self::default()
        }
    }

    pub(crate) fn validate(&self) -> Result<(), SandboxError> {
        if !matches!(
            self.exirom.variant,
            Variant::ExiromBareString | Variant::ExiromObject
        ) {
            return Err(SandboxError::InvalidConfig(
                "exirom.variant must be ExiromBareString or ExiromObject".into(),
            ));
        }
        if !matches!(
            self.axept.variant,
            Variant::AxeptCamel | Variant::AxeptPascal
        ) {
            return Err(SandboxError::InvalidConfig(
                "axept.variant must be AxeptCamel or AxeptPascal".into(),
            ));
        }
        let b = &self.bursagb;
        let mut emails: Vec<&str> = std::iter::once(&b.reseller)
            .chain(b.customers.iter())
            .map(|a| a.email.as_str())
            .collect();
        emails.sort_unstable();
        let before = emails.len();
        emails.dedup();
        if emails.len() != before {
            return Err(SandboxError::InvalidConfig(
                "bursagb account emails must be unique".into(),
            ));
        }
        if !b.api_keys.iter().any(|k| k.supplier_access) {
            return Err(SandboxError::InvalidConfig(
                "bursagb.api_keys needs at least one key with supplier access".into(),
            ));
        }
        for (name, d) in [
            ("exirom.token_lifetime", self.exirom.token_lifetime),
            (
                "institution.access_token_lifetime",
                self.institution.access_token_lifetime,
            ),
            (
                "institution.refresh_token_lifetime",
                self.institution.refresh_token_lifetime,
            ),
            ("pledg.token_lifetime", self.pledg.token_lifetime),
            ("bursagb.token_lifetime", self.bursagb.token_lifetime),
            ("axept.token_lifetime", self.axept.token_lifetime),
        ] {
            if d.as_secs() == 0 {
                return Err(SandboxError::InvalidConfig(format!(
                    "{name} must be at least one second"
                )));
            }
        }
        Ok(())
    }
}

/// exirom: HS256 token, 30 days by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExiromConfig {
    pub merchant_key: String,
    pub merchant_secret: String,
    pub token_lifetime: Duration,
    /// `ExiromBareString` (default) or `ExiromObject`.
    pub variant: Variant,
}

impl Default for ExiromConfig {
    fn default() -> Self {
        ExiromConfig {
            merchant_key: "sbx-exirom-merchant-key".into(),
            merchant_secret: "sbx-exirom-merchant-secret".into(),
            token_lifetime: Duration::from_secs(30 * 24 * 3600),
            variant: Variant::ExiromBareString,
        }
    }
}

/// institution: RS256 access token (30 min) + rotating refresh token (2 days), or an API key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstitutionConfig {
    pub email: String,
    pub password: String,
    /// Value the `merchant_id` header must carry.
    pub merchant_id: String,
    /// Persistent key accepted in header `Api-key`.
    pub api_key: String,
    pub access_token_lifetime: Duration,
    pub refresh_token_lifetime: Duration,
}

impl Default for InstitutionConfig {
    fn default() -> Self {
        InstitutionConfig {
            email: "owner@sandbox-institution.test".into(),
            password: "Sandbox-Passw0rd-1".into(),
            merchant_id: "b34555b7-dca4-5ec1-ade3-64a3ad545310".into(),
            api_key: "sbx-institution-api-key-0001".into(),
            access_token_lifetime: Duration::from_secs(30 * 60),
            refresh_token_lifetime: Duration::from_secs(2 * 24 * 3600),
        }
    }
}

/// pledg: OAuth2 client credentials, HS256 token of 600 s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PledgConfig {
    pub api_key: String,
    pub api_secret: String,
    pub token_lifetime: Duration,
    /// The merchant's secret key: verifies `signature` JWTs, signs notifications.
    pub secret_key: String,
    /// Merchant uid whose purchase links the secret key may sign.
    pub merchant_uid: String,
    /// Merchant-dashboard credentials (HTTP Basic).
    pub dashboard_user: String,
    pub dashboard_password: String,
}

impl Default for PledgConfig {
    fn default() -> Self {
        PledgConfig {
            api_key: "sbx_pledg_api_key".into(),
            api_secret: "sbx_pledg_api_secret".into(),
            token_lifetime: Duration::from_secs(600),
            secret_key: "sbx_pledg_merchant_secret_key".into(),
            merchant_uid: "mer_sandbox_001".into(),
            dashboard_user: "dashboard@sandbox-pledg.test".into(),
            dashboard_password: "Dashboard-Passw0rd-1".into(),
        }
    }
}

/// A bursagb login account (reseller or storefront customer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BursagbAccount {
    pub email: String,
    pub password: String,
    /// Customer identifier put in the token (`sub`, `customerId`).
    pub customer_id: String,
    pub tenant: String,
    /// Scopes put in the token, e.g. `orders:read`, `orders:write`.
    pub scopes: Vec<String>,
}

/// A bursagb Payment/Supplier API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BursagbApiKey {
    pub key: String,
    pub tenant: String,
    /// Whether the key's tenant may call the Supplier API (else 403).
    pub supplier_access: bool,
}

/// bursagb: HS256 tokens (1 h by default), storefront customers, API keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BursagbConfig {
    pub reseller: BursagbAccount,
    pub customers: Vec<BursagbAccount>,
    /// The first key with `supplier_access` is the one reported in [`crate::Credentials`].
    pub api_keys: Vec<BursagbApiKey>,
    pub token_lifetime: Duration,
    /// Region used when the `h-region-code` header is absent.
    pub default_region: String,
}

impl Default for BursagbConfig {
    fn default() -> Self {
        let scopes = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        BursagbConfig {
            reseller: BursagbAccount {
                email: "reseller@sandbox-bursagb.test".into(),
                password: "Reseller-Passw0rd-1".into(),
                customer_id: "reseller-0001".into(),
                tenant: "tenant-sandbox".into(),
                scopes: scopes(&["orders:read", "orders:write", "reseller"]),
            },
            customers: vec![
                BursagbAccount {
                    email: "alice@sandbox-bursagb.test".into(),
                    password: "Alice-Passw0rd-1".into(),
                    customer_id: "cust-0001".into(),
                    tenant: "tenant-sandbox".into(),
                    scopes: scopes(&["orders:read", "orders:write"]),
                },
                BursagbAccount {
                    email: "bob@sandbox-bursagb.test".into(),
                    password: "Bob-Passw0rd-1".into(),
                    customer_id: "cust-0002".into(),
                    tenant: "tenant-sandbox".into(),
                    scopes: scopes(&["orders:read"]),
                },
                BursagbAccount {
                    email: "carol@sandbox-bursagb.test".into(),
                    password: "Carol-Passw0rd-1".into(),
                    customer_id: "cust-0003".into(),
                    tenant: "tenant-sandbox".into(),
                    scopes: scopes(&["orders:read", "orders:write"]),
                },
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

/// axept: HS256 token of 30 min.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxeptConfig {
    pub merchant_id: i64,
    pub key_id: i64,
    pub key: String,
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
