//! Decoding a typed operation's answer.
//!
//! Generated operations call [`json`] where progenitor writes
//! `ResponseValue::from_response` (the `codegen::tidy` pass swaps them).
//! The two differ in one thing: progenitor copies the response's header
//! map (two allocations, a reference count per value) and drops the
//! original a moment later; [`json`] moves the map out of the response
//! instead. Status, headers and errors are the same.

use progenitor_client::{Error, ResponseValue};
use serde::de::DeserializeOwned;

/// A JSON answer as the operation's [`ResponseValue`]: the body read whole
/// (a broken body is `Error::ResponseBodyError`), then decoded (a body
/// that is not the documented shape is `Error::InvalidResponsePayload`,
/// with the bytes).
pub async fn json<T: DeserializeOwned, E>(
    mut response: reqwest::Response,
) -> Result<ResponseValue<T>, Error<E>> {
    let status = response.status();
    // Reading the body needs no header: the map moves out.
    let headers = std::mem::take(response.headers_mut());
    let full = response.bytes().await.map_err(Error::ResponseBodyError)?;
    let inner =
        serde_json::from_slice(&full).map_err(|e| Error::InvalidResponsePayload(full, e))?;
    Ok(ResponseValue::new(inner, status, headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &'static str) -> reqwest::Response {
        let mut r = http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header(crate::ATTEMPTS_HEADER, "2")
            .body(body)
            .expect("response");
        r.headers_mut()
            .append("x-many", http::HeaderValue::from_static("a"));
        r.headers_mut()
            .append("x-many", http::HeaderValue::from_static("b"));
        reqwest::Response::from(r)
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Answer {
        ok: bool,
    }

    #[tokio::test]
    async fn same_value_status_and_headers_as_progenitor() {
        let ours: ResponseValue<Answer> = json::<_, ()>(response(201, r#"{"ok":true}"#))
            .await
            .expect("decodes");
        let theirs: ResponseValue<Answer> =
            ResponseValue::from_response::<()>(response(201, r#"{"ok":true}"#))
                .await
                .expect("decodes");
        assert_eq!(ours.status(), theirs.status());
        assert_eq!(ours.headers(), theirs.headers());
        assert_eq!(ours.headers().get_all("x-many").iter().count(), 2);
        assert_eq!(ours.into_inner(), theirs.into_inner());
    }

    #[tokio::test]
    async fn a_body_of_another_shape_is_an_invalid_payload_with_its_bytes() {
        match json::<Answer, ()>(response(200, r#"{"ok":"yes"}"#)).await {
            Err(Error::InvalidResponsePayload(bytes, _)) => {
                assert_eq!(&bytes[..], br#"{"ok":"yes"}"#)
            }
            other => panic!("expected InvalidResponsePayload, got {other:?}"),
        }
        match json::<Answer, ()>(response(200, "{\"ok\":tr")).await {
            Err(Error::InvalidResponsePayload(..)) => {}
            other => panic!("expected InvalidResponsePayload, got {other:?}"),
        }
    }
}
