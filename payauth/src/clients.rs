//! One client per provider, from its own environment variables.

use std::sync::Arc;

use auth_runtime::{Error, Token, TokenManager};

use crate::choices::Provider;

/// A client of one of the five SDKs.
#[derive(Debug)]
pub enum Client {
    Exirom(exirom::Client),
    Institution(institution::Client),
    Pledg(pledg::Client),
    Bursagb(bursagb::Client),
    Axept(axept::Client),
}

macro_rules! each {
    ($self:expr, $c:ident => $body:expr) => {
        match $self {
            Client::Exirom($c) => $body,
            Client::Institution($c) => $body,
            Client::Pledg($c) => $body,
            Client::Bursagb($c) => $body,
            Client::Axept($c) => $body,
        }
    };
}

impl Client {
    /// The provider's `from_env()`.
    pub fn from_env(p: Provider) -> Result<Client, Error> {
        Ok(match p {
            Provider::Exirom => Client::Exirom(exirom::from_env()?),
            Provider::Institution => Client::Institution(institution::from_env()?),
            Provider::Pledg => Client::Pledg(pledg::from_env()?),
            Provider::Bursagb => Client::Bursagb(bursagb::from_env()?),
            Provider::Axept => Client::Axept(axept::from_env()?),
        })
    }

    pub async fn bearer(&self) -> Result<Arc<Token>, Error> {
        each!(self, c => c.bearer().await)
    }

    pub fn token_manager(&self) -> Option<&Arc<TokenManager>> {
        each!(self, c => c.session().token_manager())
    }
}

/// How the provider authenticates, in words.
pub fn mechanism(p: Provider) -> &'static str {
    match p {
        Provider::Exirom => "merchant key + secret → 30-day JWT, sent as Bearer",
        Provider::Institution => {
            "email + password + merchant_id → 30-minute JWT + 2-day refresh token, sent as Bearer"
        }
        Provider::Pledg => "OAuth2 client credentials over Basic → access token, sent as Bearer",
        Provider::Bursagb => "email + password (Generate Token) → JWT, sent as Bearer",
        Provider::Axept => "merchantId + keyId + key → JWT with ExpiresAt, sent as Bearer",
    }
}

/// The environment variables a wrong credential points at.
pub fn credential_variables(p: Provider) -> &'static str {
    match p {
        Provider::Exirom => "MERCHANT_KEY / MERCHANT_SECRET",
        Provider::Institution => {
            "INSTITUTION_EMAIL / INSTITUTION_PASSWORD / INSTITUTION_MERCHANT_ID (or INSTITUTION_API_KEY)"
        }
        Provider::Pledg => "PLEDG_API_KEY / PLEDG_API_SECRET",
        Provider::Bursagb => "BURSAGB_EMAIL / BURSAGB_PASSWORD",
        Provider::Axept => "AXEPT_MERCHANT_ID / AXEPT_KEY_ID / AXEPT_KEY",
    }
}
