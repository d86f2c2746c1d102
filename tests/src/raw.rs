//! Raw HTTP against the sandbox, for tests of the sandbox itself: the
//! login request each provider documents, with the sandbox's credentials.

use std::collections::HashMap;

use payauth::sandbox_env;
use reqwest::{Client, RequestBuilder};
use sandbox::{Provider, Sandbox};
use serde_json::Value;

/// A plain client (no proxy: tests talk to 127.0.0.1 only).
pub fn http() -> Client {
    Client::builder()
        .no_proxy()
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
    let v: Value = login_request(sb, p)
        .send()
        .await
        .expect("login answers")
        .json()
        .await
        .expect("login answers JSON");
    token_in(&v).unwrap_or_else(|| panic!("{p:?}: no token in {v}"))
}
