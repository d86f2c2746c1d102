//! [`SignedCallback`]: a callback signed as its provider signs it, and its delivery.

use std::time::Duration;

/// A callback the sandbox signed as the provider does: the raw body and
/// the headers to send with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCallback {
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

/// POSTs `callback` to `url` and returns the status the receiver answered.
pub(crate) async fn deliver(url: &str, callback: &SignedCallback) -> Result<u16, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let mut req = client.post(url).body(callback.body.clone());
    for (k, v) in &callback.headers {
        req = req.header(k, v);
    }
    req.send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.without_url().to_string())
}
