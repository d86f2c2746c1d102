//! [`SignedCallback`]: a callback signed as its provider signs it. The sandbox sends them
//! itself when its objects change (`emulation/callbacks`); [`crate::Sandbox::deliver`] sends
//! one by hand.

/// A callback the sandbox signed as the provider does: the raw body and
/// the headers to send with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCallback {
    /// The raw body, exactly as signed (a verifier reads these bytes).
    pub body: Vec<u8>,
    /// The headers to send with it, `(name, value)`: `content-type` and
    /// the provider's signature header, when it signs one.
    pub headers: Vec<(String, String)>,
}

impl SignedCallback {
    /// A JSON body and its signature headers (`content-type` added).
    pub(crate) fn json(body: &serde_json::Value, headers: Vec<(String, String)>) -> Self {
        let mut all = vec![("content-type".to_owned(), "application/json".to_owned())];
        all.extend(headers);
        SignedCallback {
            body: body.to_string().into_bytes(),
            headers: all,
        }
    }
}
