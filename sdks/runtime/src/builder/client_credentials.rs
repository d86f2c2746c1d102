//! OAuth2 client credentials (RFC 6749 §4.4), ready: a standard provider
//! describes its token endpoint as a [`TokenEndpoint`] and connects with
//! [`Connect::client_credentials`]; no `TokenFlow` of its own.
//!
//! The login is `POST {base}{path}`, form body `grant_type=client_credentials`
//! (and `scope` when set), the client authenticated by HTTP Basic or by
//! `client_id` + `client_secret` in the form. It runs through the login
//! session like any token operation (retries, `Retry-After`, the body cap,
//! a span named after the operation); its answer is read by
//! `token/oauth2.rs` (`expires_in`, JWT or opaque tokens, the §5.2 error
//! codes as typed kinds).

use std::fmt;

use bytes::Bytes;
use futures::future::BoxFuture;

use super::connect::Connect;
use super::env::require_env;
use super::sdk::Sdk;
use crate::base::error::Error;
use crate::base::http::headers::attempts_of;
use crate::base::http::response::whole;
use crate::base::secret::Secret;
use crate::base::security::{OperationSecurity, Scheme, SchemeKind};
use crate::call::session::{Session, SessionBuilder};
use crate::token::oauth2::token_answer;
use crate::token::{Issued, TokenFlow};

/// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic base64(client_id:client_secret)`.
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Form,
}

/// A provider's client-credentials token endpoint, as configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenEndpoint {
    /// The token operation's id in the spec (its span, its errors).
    pub operation: &'static str,
    /// Its path below the base URL (`/oauth/token`).
    pub path: &'static str,
    /// How the client's id and secret reach the endpoint.
    pub client_auth: ClientAuth,
    /// The `scope` parameter, when the provider wants one.
    pub scope: Option<&'static str>,
    /// The names the client's id and secret take in the cache's identity
    /// ([`Principal`](crate::Principal)): renaming them moves every client
    /// to a new cache (and a new shared-store record).
    pub principal_parts: (&'static str, &'static str),
}

impl TokenEndpoint {
    /// `operation` at `path`, the client in the form body.
    pub const fn form(operation: &'static str, path: &'static str) -> TokenEndpoint {
        TokenEndpoint {
            operation,
            path,
            client_auth: ClientAuth::Form,
            scope: None,
            principal_parts: ("client_id", "client_secret"),
        }
    }

    /// `operation` at `path`, the client by HTTP Basic.
    pub const fn basic(operation: &'static str, path: &'static str) -> TokenEndpoint {
        TokenEndpoint {
            client_auth: ClientAuth::Basic,
            ..TokenEndpoint::form(operation, path)
        }
    }

    /// With the `scope` parameter.
    pub const fn scope(mut self, scope: &'static str) -> TokenEndpoint {
        self.scope = Some(scope);
        self
    }

    /// With other names for the id and the secret in the cache's identity.
    pub const fn principal_parts(mut self, id: &'static str, secret: &'static str) -> Self {
        self.principal_parts = (id, secret);
        self
    }

    /// The token call's security: Basic, or none (the form carries it).
    fn security(&self) -> OperationSecurity {
        const BASIC: &[&[Scheme]] = &[&[Scheme {
            name: "basicAuth",
            kind: SchemeKind::Basic,
        }]];
        OperationSecurity {
            operation_id: self.operation,
            alternatives: match self.client_auth {
                ClientAuth::Basic => BASIC,
                ClientAuth::Form => &[],
            },
            idempotency_key: None,
            body_checksum: None,
            url_template: Some(self.path),
        }
    }
}

/// An OAuth2 client's id and secret: the credentials of a standard
/// client-credentials provider.
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientCredentials {
    /// The client's id (shown in `Debug`, part of the cache's identity).
    pub client_id: String,
    /// The client's secret (never shown).
    pub client_secret: Secret,
}

impl ClientCredentials {
    /// The client `client_id` with its secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<Secret>) -> Self {
        ClientCredentials {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }

    /// The id and the secret from the variables `id` and `secret` (both
    /// required; `get` as a provider's `credentials_from_env` gets it).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) naming the variable
    /// that is unset.
    pub fn from_env(
        get: &dyn Fn(&str) -> Option<String>,
        provider: &'static str,
        id: &str,
        secret: &str,
    ) -> Result<Self, Error> {
        Ok(ClientCredentials::new(
            require_env(get, provider, id)?,
            require_env(get, provider, secret)?,
        ))
    }
}

/// The id is shown, the secret never.
impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

/// The client-credentials [`TokenFlow`] over a login session.
struct ClientCredentialsFlow {
    login: Session,
    http: reqwest::Client,
    url: String,
    security: OperationSecurity,
    /// The client, when it goes in the form body.
    form: Option<(String, Secret)>,
    scope: Option<&'static str>,
}

impl ClientCredentialsFlow {
    // The error type is the one `Session::call_built` takes (a generated
    // operation's); it is made at most once per attempt.
    #[allow(clippy::result_large_err)]
    fn request(&self) -> Result<reqwest::Request, progenitor_client::Error<()>> {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = self.scope {
            form.push(("scope", scope));
        }
        if let Some((id, secret)) = &self.form {
            // As with Basic: an empty credential is never sent.
            if id.trim().is_empty() || secret.expose().trim().is_empty() {
                return Err(progenitor_client::Error::InvalidRequest(
                    "the client id or secret is empty".into(),
                ));
            }
            form.push(("client_id", id));
            form.push(("client_secret", secret.expose()));
        }
        Ok(self
            .http
            .post(&self.url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .build()?)
    }
}

impl TokenFlow for ClientCredentialsFlow {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        Box::pin(async move {
            let provider = self.login.provider();
            #[allow(clippy::result_large_err)]
            let build = || self.request();
            let mut response = self
                .login
                .call_built(&self.http, &build, &self.security)
                .await
                .map_err(|e| e.into_auth_error(|_| None))?;
            let status = response.status().as_u16();
            let headers = std::mem::take(response.headers_mut());
            // The answers that carry a body worth reading (§5.1, §5.2).
            let body = match status {
                200 | 400 | 401 => match whole(&mut response).await {
                    Ok(body) => body,
                    Err(e) if status == 200 => {
                        return Err(Error::from_transport(provider, e, 1)
                            .with_attempts(attempts_of(&headers)));
                    }
                    Err(_) => Bytes::new(),
                },
                _ => Bytes::new(),
            };
            token_answer(provider, status, &headers, &body)
        })
    }
}

impl Connect {
    /// The client of a standard OAuth2 client-credentials provider: the
    /// token endpoint `endpoint` logs in with `credentials`; `make` is the
    /// generated `Client::new_with_client`.
    pub fn client_credentials<Api>(
        self,
        make: fn(&str, reqwest::Client, Session) -> Api,
        endpoint: &TokenEndpoint,
        credentials: ClientCredentials,
    ) -> Sdk<Api> {
        self.client_credentials_with(make, endpoint, credentials, |api| api)
    }

    /// [`Connect::client_credentials`], with `api` adding static
    /// credentials (a signing secret, a dashboard's Basic) to the API
    /// session next to its bearer.
    pub fn client_credentials_with<Api>(
        self,
        make: fn(&str, reqwest::Client, Session) -> Api,
        endpoint: &TokenEndpoint,
        credentials: ClientCredentials,
        api: impl FnOnce(SessionBuilder) -> SessionBuilder,
    ) -> Sdk<Api> {
        let ClientCredentials {
            client_id,
            client_secret,
        } = credentials;
        let (id_part, secret_part) = endpoint.principal_parts;
        let principal = self
            .principal()
            .part(id_part, client_id.as_str())
            .secret(secret_part, &client_secret);
        let (login, form) = match endpoint.client_auth {
            ClientAuth::Basic => (self.session().basic(&client_id, &client_secret), None),
            ClientAuth::Form => (self.session(), Some((client_id, client_secret))),
        };
        let flow = ClientCredentialsFlow {
            login: login.auth_endpoint().build(),
            http: self.http().clone(),
            url: format!("{}{}", self.base_url(), endpoint.path),
            security: endpoint.security(),
            form,
            scope: endpoint.scope,
        };
        let session = api(self.bearer_session(&principal, flow)).build();
        let client = make(self.base_url(), self.http().clone(), session.clone());
        Sdk::new(client, session, self)
    }
}
