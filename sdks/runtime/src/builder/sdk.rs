//! The client type every provider crate returns: the generated typed
//! operations (through `Deref`) plus the session behind them.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use futures::future::Either;

use super::connect::Connect;
use crate::base::error::Error;
use crate::base::security::OperationSecurity;
use crate::call::session::{Session, SessionBuilder};
use crate::observe::metrics::MetricsSnapshot;
use crate::token::principal::Principal;
use crate::token::{Token, TokenFlow};

/// A provider client: `Api` is the generated client, whose every operation
/// is authenticated and retried by the runtime.
#[derive(Clone)]
pub struct Sdk<Api> {
    api: Api,
    session: Session,
    connect: Connect,
}

impl<Api> fmt::Debug for Sdk<Api> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sdk")
            .field("provider", &self.connect.profile().name)
            .field("base_url", &self.connect.base_url())
            .field("session", &self.session)
            .finish()
    }
}

impl<Api> Sdk<Api> {
    /// A client of `api` whose calls go through `session`, wired from
    /// `connect`. Provider crates make one with
    /// [`Connect::sdk`](crate::provider::Connect::sdk) or
    /// [`Connect::sdk_with`](crate::provider::Connect::sdk_with) instead.
    pub fn new(api: Api, session: Session, connect: Connect) -> Self {
        Sdk {
            api,
            session,
            connect,
        }
    }

    /// The generated client (also reachable through `Deref`).
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The session every call of this client goes through (credentials,
    /// retries, 401 recovery).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The settings the client was built with.
    pub fn connect(&self) -> &Connect {
        &self.connect
    }

    /// The base URL every call goes to (checked at build, no trailing
    /// slash).
    pub fn base_url(&self) -> &str {
        self.connect.base_url()
    }

    /// A current bearer token for requests made by hand: the cached one, or
    /// one fetched (once for every caller waiting) when none is fresh.
    ///
    /// # Errors
    ///
    /// What the fetch failed with: `InvalidCredentials`, `Transient`
    /// (after its retries, or its fetch timeout), `MalformedResponse`, or
    /// `Config` for a provider that issues no bearer token.
    pub async fn bearer(&self) -> Result<Arc<Token>, Error> {
        self.session.bearer().await
    }

    /// Start a hand-made request to `path` under the base URL; send it with
    /// [`Sdk::send`] to get the same credentials and policy.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.connect
            .http()
            .request(method, format!("{}{path}", self.connect.base_url()))
    }

    /// Send a hand-made request with a bearer token, retries and 401
    /// recovery (see [`Session::send`]).
    ///
    /// # Errors
    ///
    /// `Config` when the request cannot be built or is not for the base
    /// URL's origin; a token fetch's error; a final 401 (`Unauthorized`,
    /// after one re-authentication), 403 (`Forbidden`), or transient
    /// status or transport failure (`Transient`) after the retries. Any
    /// other status is the response, returned as it is.
    pub fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> impl Future<Output = Result<reqwest::Response, Error>> + Send + '_ {
        self.send_with(request, &OperationSecurity::BEARER)
    }

    /// [`Sdk::send`] with an explicit requirement, e.g. a scheme no
    /// operation names (`security::scheme("dashboardBasic")` of pledg).
    pub fn send_with<'a>(
        &'a self,
        request: reqwest::RequestBuilder,
        security: &'a OperationSecurity,
    ) -> impl Future<Output = Result<reqwest::Response, Error>> + Send + 'a {
        // Not an `async fn`: the session's future is the whole call, with
        // no wrapper holding a second copy of the request.
        match request.build() {
            Ok(request) => Either::Left(self.session.send_with(
                self.connect.http(),
                request,
                security,
            )),
            Err(_) => Either::Right(std::future::ready(Err(Error::config(
                self.connect.profile().name,
                "the request could not be built",
            )))),
        }
    }

    /// This client's counters with its token cache's (logins, refreshes,
    /// requests, retries, 401 recoveries), as they are now.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.session.metrics_snapshot()
    }
}

impl<Api> Deref for Sdk<Api> {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

/// Building the client: the login client, the flow over it, the API
/// client whose bearer tokens come from that flow.
impl Connect {
    /// Wire the usual shape: a login client (`login_session`: static
    /// credentials only, never a bearer), a [`TokenFlow`] over it, and the
    /// API client whose bearer tokens come from that flow, cached per
    /// principal `identity`. `make` is the generated `Client::new_with_client`.
    pub fn sdk<Api, F: TokenFlow>(
        self,
        make: fn(&str, reqwest::Client, Session) -> Api,
        login_session: SessionBuilder,
        principal: &Principal,
        flow: impl FnOnce(Api) -> F,
    ) -> Sdk<Api> {
        self.sdk_with(make, login_session, principal, flow, |api| api)
    }

    /// [`Connect::sdk`], with `api` adding static credentials (signing
    /// secret, dashboard Basic) to the API session next to its bearer.
    pub fn sdk_with<Api, F: TokenFlow>(
        self,
        make: fn(&str, reqwest::Client, Session) -> Api,
        login_session: SessionBuilder,
        principal: &Principal,
        flow: impl FnOnce(Api) -> F,
        api: impl FnOnce(SessionBuilder) -> SessionBuilder,
    ) -> Sdk<Api> {
        let login = make(
            self.base_url(),
            self.http().clone(),
            login_session.auth_endpoint().build(),
        );
        let session = api(self.bearer_session(principal, flow(login))).build();
        let api = make(self.base_url(), self.http().clone(), session.clone());
        Sdk::new(api, session, self)
    }
}
