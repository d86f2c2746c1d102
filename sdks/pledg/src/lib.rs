//! Pledg: OAuth2 client credentials over HTTP Basic → 10-minute tokens.
//!
//! `expires_in` is relative: the deadline is measured on the local
//! monotonic clock when the response arrives, so a skewed wall clock does
//! not matter.
//!
//! ```no_run
//! # async fn demo() -> Result<(), pledg::Error> {
//! let client = pledg::builder()
//!     .base_url("https://staging.api.pledg.example")
//!     .credentials(pledg::Credentials { api_key: "your_key".into(), api_secret: "…".into() })
//!     .build()?;
//! let token = client.bearer().await?;
//! # let _ = token; Ok(()) }
//! ```

#[rustfmt::skip]
pub mod generated;

use std::time::Duration;

use auth_runtime::{
    BoxFuture, Connect, ExpiryHints, Issued, Lead, Profile, Provider, TokenFlow, auth_body,
};
pub use generated::types;

auth_runtime::sdk_entry_points!(
    Pledg,
    generated::Client,
    "`PLEDG_BASE_URL`, `PLEDG_API_KEY`, `PLEDG_API_SECRET`"
);

#[derive(Debug)]
pub struct Pledg;

/// The client API key (Basic user) and secret (Basic password).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub api_key: String,
    pub api_secret: Secret,
}

const NAME: &str = "pledg";

impl Provider for Pledg {
    const PROFILE: Profile = Profile {
        name: NAME,
        refresh_lead: Lead::Fraction(0.15),
        assumed_lifetime: Duration::from_secs(60),
        base_url_env: "PLEDG_BASE_URL",
        sandbox_url: None,
        production_url: None,
    };
    type Credentials = Credentials;
    type Client = Client;

    fn credentials_from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Credentials, Error> {
        let var = |k: &str| auth_runtime::require_env(get, NAME, k);
        Ok(Credentials {
            api_key: var("PLEDG_API_KEY")?,
            api_secret: Secret::new(var("PLEDG_API_SECRET")?),
        })
    }

    fn connect(connect: Connect, credentials: Credentials) -> Result<Client, Error> {
        let login = connect
            .session()
            .basic(&credentials.api_key, &credentials.api_secret);
        let principal = connect
            .principal()
            .part("api_key", credentials.api_key.as_str())
            .secret("api_secret", &credentials.api_secret);
        Ok(connect.sdk(
            generated::Client::new_with_client,
            login,
            &principal,
            |login| Flow { login },
        ))
    }
}

struct Flow {
    login: generated::Client,
}

impl TokenFlow for Flow {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        Box::pin(async move {
            let body = types::TokenRequest {
                grant_type: types::TokenRequestGrantType::ClientCredentials,
            };
            let response = auth_body(NAME, self.login.create_token().body(body).send()).await?;
            Ok(issued(response))
        })
    }
}

#[doc(hidden)] // public for the workspace's property tests
/// OAuth2: `expires_in` is relative (a negative one is ignored: the JWT
/// `exp` or the assumed lifetime decide).
pub fn issued(response: types::AccessTokenResponse) -> Issued {
    Issued {
        access_token: Secret::new(response.access_token),
        refresh_token: None,
        hints: ExpiryHints {
            relative: u64::try_from(response.expires_in)
                .ok()
                .map(Duration::from_secs),
            ..ExpiryHints::default()
        },
    }
}
