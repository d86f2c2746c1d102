//! Decoding a typed operation's answer.
//!
//! Generated operations call [`json`] where progenitor writes
//! `ResponseValue::from_response` (the `codegen::tidy` pass swaps them).
//! The two differ in one thing: progenitor copies the response's header
//! map (two allocations, a reference count per value) and drops the
//! original a moment later; [`json`] moves the map out of the response
//! instead. Status, headers and errors are the same.

use bytes::{Bytes, BytesMut};
use progenitor_client::{Error, ResponseValue};
use serde::de::DeserializeOwned;

/// A JSON answer as the operation's [`ResponseValue`]: the body read whole
/// (a broken body is `Error::ResponseBodyError`), then decoded (a body
/// that is not the documented shape is `Error::InvalidResponsePayload`,
/// with the bytes).
///
/// Not an `async fn`, and not `Response::bytes`: every operation's future
/// holds this one, and those kept the response three times (the argument,
/// the body's variable, `bytes`' own argument) — 944 bytes, moved with the
/// operation's future. Read chunk by chunk, as `bytes` does underneath: a
/// body in one chunk (a small JSON answer) is kept as it came, without a
/// copy; more are joined.
///
/// # Errors
///
/// `Error::ResponseBodyError` when the body breaks off (or passes the
/// cap), `Error::InvalidResponsePayload` when it does not decode.
pub fn json<T: DeserializeOwned, E>(
    mut response: reqwest::Response,
) -> impl Future<Output = Result<ResponseValue<T>, Error<E>>> + Send {
    let status = response.status();
    // Reading the body needs no header: the map moves out.
    let headers = std::mem::take(response.headers_mut());
    async move {
        let full = whole(&mut response)
            .await
            .map_err(Error::ResponseBodyError)?;
        let inner =
            serde_json::from_slice(&full).map_err(|e| Error::InvalidResponsePayload(full, e))?;
        Ok(ResponseValue::new(inner, status, headers))
    }
}

/// The whole body: its one chunk as it came, or its chunks joined.
pub(crate) async fn whole(response: &mut reqwest::Response) -> reqwest::Result<Bytes> {
    let Some(first) = response.chunk().await? else {
        return Ok(Bytes::new());
    };
    let Some(second) = response.chunk().await? else {
        return Ok(first);
    };
    let mut joined = BytesMut::with_capacity(first.len() + second.len());
    joined.extend_from_slice(&first);
    joined.extend_from_slice(&second);
    while let Some(more) = response.chunk().await? {
        joined.extend_from_slice(&more);
    }
    Ok(joined.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &'static str) -> reqwest::Response {
        let mut r = http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header(crate::base::http::headers::ATTEMPTS_HEADER, "2")
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

    /// A body in several chunks (what an answer without a length, or a
    /// large one, comes as) reads whole, in order; an empty one is an
    /// invalid payload, as it was with `Response::bytes`.
    #[tokio::test]
    async fn a_body_in_chunks_is_joined_in_order() {
        use http_body_util::StreamBody;
        fn chunked(parts: &[&'static str]) -> reqwest::Response {
            let frames: Vec<_> = parts
                .iter()
                .map(|p| {
                    Ok::<_, std::io::Error>(http_body::Frame::data(Bytes::from_static(
                        p.as_bytes(),
                    )))
                })
                .collect();
            let body = reqwest::Body::wrap(StreamBody::new(futures::stream::iter(frames)));
            reqwest::Response::from(http::Response::builder().status(200).body(body).unwrap())
        }
        for parts in [
            vec![r#"{"ok":true}"#],
            vec![r#"{"ok""#, r#":true}"#],
            vec!["{", r#""ok":"#, "", "true", "}"],
        ] {
            let value: ResponseValue<Answer> =
                json::<_, ()>(chunked(&parts)).await.expect("decodes");
            assert_eq!(value.into_inner(), Answer { ok: true }, "{parts:?}");
        }
        match json::<Answer, ()>(chunked(&[r#"{"ok""#, r#":tr"#, "ue,"])).await {
            Err(Error::InvalidResponsePayload(bytes, _)) => {
                assert_eq!(&bytes[..], br#"{"ok":true,"#)
            }
            other => panic!("expected InvalidResponsePayload, got {other:?}"),
        }
        match json::<Answer, ()>(chunked(&[])).await {
            Err(Error::InvalidResponsePayload(bytes, _)) => assert!(bytes.is_empty()),
            other => panic!("expected InvalidResponsePayload, got {other:?}"),
        }
    }

    /// A body that fails mid-way is `ResponseBodyError`, as before.
    #[tokio::test]
    async fn a_broken_body_is_a_body_error() {
        use http_body_util::StreamBody;
        let frames = vec![
            Ok(http_body::Frame::data(Bytes::from_static(b"{\"ok\""))),
            Err(std::io::Error::other("connection reset")),
        ];
        let body = reqwest::Body::wrap(StreamBody::new(futures::stream::iter(frames)));
        let response =
            reqwest::Response::from(http::Response::builder().status(200).body(body).unwrap());
        match json::<Answer, ()>(response).await {
            Err(Error::ResponseBodyError(_)) => {}
            other => panic!("expected ResponseBodyError, got {other:?}"),
        }
    }

    #[test]
    fn the_decoding_future_stays_small() {
        let f = json::<Answer, ()>(response(200, "{}"));
        eprintln!("json future: {} bytes", std::mem::size_of_val(&f));
        // 944 bytes as an `async fn` over `Response::bytes`.
        assert!(std::mem::size_of_val(&f) <= 400);
    }

    proptest::proptest! {
        /// Any bytes, cut into any chunks (empty ones included): the body
        /// read is the bytes in order, and the decoding is serde_json's on
        /// them whole — a value, or an invalid payload carrying them.
        #[test]
        fn any_body_in_any_chunks_reads_whole(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
            cuts in proptest::collection::vec(0usize..257, 0..8),
        ) {
            use http_body_util::StreamBody;
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut frames = Vec::new();
            let mut at = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                frames.push(Ok::<_, std::io::Error>(http_body::Frame::data(Bytes::copy_from_slice(
                    &bytes[at..cut],
                ))));
                at = cut;
            }
            let body = reqwest::Body::wrap(StreamBody::new(futures::stream::iter(frames)));
            let resp = reqwest::Response::from(
                http::Response::builder().status(200).body(body).expect("response"),
            );
            let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            let ours = rt.block_on(json::<serde_json::Value, ()>(resp));
            match (ours, serde_json::from_slice::<serde_json::Value>(&bytes)) {
                (Ok(v), Ok(want)) => proptest::prop_assert_eq!(v.into_inner(), want),
                (Err(Error::InvalidResponsePayload(got, _)), Err(_)) => {
                    proptest::prop_assert_eq!(&got[..], &bytes[..])
                }
                (other, want) => proptest::prop_assert!(false, "{other:?} vs {want:?}"),
            }
        }
    }
}
