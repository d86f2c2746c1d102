//! Raw HTTP against the sandbox, for tests of the sandbox itself: the
//! login request each provider documents, with the sandbox's credentials.

use reqwest::{Client, RequestBuilder};
use sandbox::{Provider, Route, Sandbox};
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
    let cr = sb.credentials(p);
    let t = |field: &str| cr.text(field).to_owned();
    match p {
        Provider::Exirom => c.post(url).json(
            &json!({"merchantKey": t("merchant_key"), "merchantSecret": t("merchant_secret")}),
        ),
        Provider::Institution => c
            .post(url)
            .header("merchant_id", t("merchant_id"))
            .json(&json!({"token": t("email"), "password": t("password")})),
        Provider::Pledg => c
            .post(url)
            .basic_auth(t("api_key"), Some(t("api_secret")))
            .form(&[("grant_type", "client_credentials")]),
        Provider::Bursagb => c
            .post(url)
            .json(&json!({"Email": t("email"), "Password": t("password")})),
        Provider::Axept => c.post(url).json(&json!({
            "merchantId": cr.int("merchant_id"),
            "keyId": cr.int("key_id"),
            "key": t("key"),
        })),
        other => panic!("no login request for {other}"),
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
