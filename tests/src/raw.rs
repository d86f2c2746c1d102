//! Raw HTTP against the sandbox, for tests of the sandbox itself: the
//! login request each provider documents, with the sandbox's credentials;
//! requests to a provider's paths and to the control plane; and [`Sent`],
//! which sends one and panics on a transport failure, so a test states
//! only the request and what it expects of the answer.

use std::collections::HashMap;

use payauth::sandbox_env;
use payauth_sandbox::{Provider, Route, Sandbox};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;

/// A plain client (no proxy: tests talk to 127.0.0.1 only, over plain
/// HTTP). It trusts no certificate authority: loading the system's roots
/// is what makes a client costly to build (21 ms in a debug build), and
/// tests build one per request.
pub fn http() -> Client {
    Client::builder()
        .no_proxy()
        .tls_certs_only(Vec::new())
        .build()
        .expect("reqwest client builds")
}

/// The provider's login request with the sandbox's working credentials,
/// as its descriptor builds it by hand from the variables.
pub fn login_request(sb: &Sandbox, p: Provider) -> RequestBuilder {
    let d = crate::support::descriptor(p);
    let variables: HashMap<&str, String> = sandbox_env::variables(sb, d).into_iter().collect();
    d.login_request(&http(), &sb.base_url(p), &|k| variables.get(k).cloned())
        .unwrap_or_else(|e| panic!("{p:?}: {e}"))
}

/// The access token in any provider's login answer (every documented shape).
pub fn token_in(v: &Value) -> Option<String> {
    [
        "/data/accessToken",
        "/data/Token",
        "/access_token",
        "/token",
        "/Token",
    ]
    .iter()
    .find_map(|ptr| v.pointer(ptr).and_then(Value::as_str))
    .or(v.as_str())
    .map(str::to_owned)
}

/// A live bearer token of the provider, obtained the way a client would.
pub async fn login_token(sb: &Sandbox, p: Provider) -> String {
    let v = login_request(sb, p).json_body().await;
    token_in(&v).unwrap_or_else(|| panic!("{p:?}: no token in {v}"))
}

/// One field of the provider's current credentials in the sandbox
/// (`api_key`, `merchant_secret`, …).
pub fn credential(sb: &Sandbox, p: Provider, field: &str) -> String {
    sb.credentials(p).text(field).to_owned()
}

/// `POST {base}{path}` of the provider (`path` as its API documents it).
pub fn post(sb: &Sandbox, p: Provider, path: &str) -> RequestBuilder {
    http().post(format!("{}{path}", sb.base_url(p)))
}

/// The URL of the provider's route `r`, which it must offer.
pub fn url(sb: &Sandbox, p: Provider, r: Route) -> String {
    sb.url(p, r)
        .unwrap_or_else(|| panic!("{p:?} offers no {r:?}"))
}

/// `GET` of the provider's route `r` with `token` as its bearer.
pub fn with_bearer(sb: &Sandbox, p: Provider, r: Route, token: &str) -> RequestBuilder {
    http().get(url(sb, p, r)).bearer_auth(token)
}

/// The status of `GET {base}/sandbox/protected` with `token` as its bearer.
pub async fn protected_status(sb: &Sandbox, p: Provider, token: &str) -> u16 {
    with_bearer(sb, p, Route::Protected, token).status().await
}

/// The sandbox's control plane (`/__sandbox/…`) over HTTP.
#[derive(Debug)]
pub struct Control<'a> {
    sandbox: &'a Sandbox,
    http: Client,
}

impl<'a> Control<'a> {
    pub fn of(sandbox: &'a Sandbox) -> Self {
        Control {
            sandbox,
            http: http(),
        }
    }

    /// `{root}/__sandbox/{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/__sandbox/{path}", self.sandbox.root_url())
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.http.post(self.url(path))
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.http.get(self.url(path))
    }
}

/// Sending a request a test expects an answer to: a transport failure
/// panics, naming the request.
pub trait Sent {
    /// The answer.
    fn answer(self) -> impl Future<Output = Response> + Send;
    /// The answer's status.
    fn status(self) -> impl Future<Output = u16> + Send;
    /// The answer's body, which must be JSON.
    fn json_body(self) -> impl Future<Output = Value> + Send;
}

impl Sent for RequestBuilder {
    async fn answer(self) -> Response {
        let what = self
            .try_clone()
            .and_then(|rb| rb.build().ok())
            .map(|r| format!("{} {}", r.method(), r.url()))
            .unwrap_or_default();
        self.send()
            .await
            .unwrap_or_else(|e| panic!("{what}: no answer: {e:?}"))
    }

    async fn status(self) -> u16 {
        self.answer().await.status().as_u16()
    }

    async fn json_body(self) -> Value {
        let r = self.answer().await;
        let url = r.url().clone();
        r.json()
            .await
            .unwrap_or_else(|e| panic!("{url}: not JSON: {e:?}"))
    }
}
