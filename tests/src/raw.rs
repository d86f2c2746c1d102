//! Raw HTTP against the sandbox, for tests of the sandbox itself: the
//! login request each provider documents, with the sandbox's credentials.

use reqwest::{Client, RequestBuilder};
use sandbox::{Credentials, Provider, Route, Sandbox};
use serde_json::{Value, json};

/// A plain client (no proxy: tests talk to 127.0.0.1 only).
pub fn http() -> Client {
    Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client builds")
}

/// The provider's login request with the sandbox's working credentials.
pub fn login_request(sb: &Sandbox, p: Provider) -> RequestBuilder {
    let url = sb
        .url(p, Route::Login)
        .expect("every provider has a login route");
    let c = http();
    match sb.credentials(p) {
        Credentials::Exirom {
            merchant_key,
            merchant_secret,
        } => c
            .post(url)
            .json(&json!({"merchantKey": merchant_key, "merchantSecret": merchant_secret})),
        Credentials::Institution {
            email,
            password,
            merchant_id,
            ..
        } => c
            .post(url)
            .header("merchant_id", merchant_id)
            .json(&json!({"token": email, "password": password})),
        Credentials::Pledg {
            api_key,
            api_secret,
        } => c
            .post(url)
            .basic_auth(api_key, Some(api_secret))
            .form(&[("grant_type", "client_credentials")]),
        Credentials::Bursagb {
            email, password, ..
        } => c
            .post(url)
            .json(&json!({"Email": email, "Password": password})),
        Credentials::Axept {
            merchant_id,
            key_id,
            key,
        } => c
            .post(url)
            .json(&json!({"merchantId": merchant_id, "keyId": key_id, "key": key})),
    }
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
