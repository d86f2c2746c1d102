//! Tests of the call layer through a session: the size of a call's
//! future, and attempts against a real HTTP/2 server.

use reqwest::{Request, StatusCode};

use crate::base::security::OperationSecurity;

mod future_size {
    use super::*;
    use std::sync::Arc;

    /// Every call's future embeds this state and is moved a few times
    /// on its way to the executor: rare paths (token-answer buffering,
    /// 401 renewal, retry sleeps) are boxed so it stays small. It was
    /// 3,536 bytes before they were, 1,416 with only the first attempt
    /// inline but the request kept twice (`async fn` arguments), 760
    /// then, 976 now: the copy of a hand-made request is taken before the
    /// credentials go on (a request with no header of its own then copies
    /// no header map), so it is held across that step too; 992 with the
    /// `otel` feature (the call's `CallTrace`: one word, its spans and
    /// timings boxed only when something records).
    #[test]
    fn a_call_future_stays_small() {
        let session = crate::call::session::SessionBuilder::new(
            "t",
            crate::RetryPolicy::default(),
            Arc::new(crate::base::time::SystemClock),
            Arc::new(crate::Metrics::default()),
        )
        .build();
        let http = reqwest::Client::new();
        let request = Request::new(
            reqwest::Method::GET,
            "http://127.0.0.1:1/x".parse().expect("url"),
        );
        let send = session.send(&http, request);
        eprintln!(
            "Session::send future: {} bytes",
            std::mem::size_of_val(&send)
        );
        assert!(std::mem::size_of_val(&send) <= 1_000);
        // Telemetry costs nothing here without the feature.
        #[cfg(not(feature = "otel"))]
        assert!(std::mem::size_of_val(&send) <= 976);
    }
}

/// HTTP/2 refusals: the client the SDK builds has reqwest's retry layer
/// off, so the session must replay what that layer did — a stream the
/// server refused was not processed, whatever its method.
mod refused_streams {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::base::security::{Scheme, SchemeKind};
    use bytes::Bytes;

    use crate::base::http::headers::ATTEMPTS_HEADER;
    use crate::base::time::SystemClock;
    use crate::call::session::Session;
    use crate::call::session::SessionBuilder;
    use crate::{Metrics, RetryPolicy, Secret};

    const API_KEY_POST: OperationSecurity = OperationSecurity {
        operation_id: "create",
        alternatives: &[&[Scheme {
            name: "apiKey",
            kind: SchemeKind::ApiKeyHeader("Api-key"),
        }]],
        idempotency_key: None,
        body_checksum: None,
        url_template: None,
    };

    /// An HTTP/2 server that refuses its first `refuse` streams and answers
    /// `{}` to the rest; the streams it saw.
    async fn server(refuse: usize) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let Ok(mut conn) = h2::server::handshake(socket).await else {
                        return;
                    };
                    while let Some(Ok((_request, mut respond))) = conn.accept().await {
                        if counter.fetch_add(1, Ordering::SeqCst) < refuse {
                            respond.send_reset(h2::Reason::REFUSED_STREAM);
                            continue;
                        }
                        let answer = http::Response::builder()
                            .status(200)
                            .body(())
                            .expect("response");
                        if let Ok(mut body) = respond.send_response(answer, false) {
                            let _ = body.send_data(Bytes::from_static(b"{}"), true);
                        }
                    }
                });
            }
        });
        (addr, seen)
    }

    /// reqwest with the SDK's retry setting, speaking HTTP/2 in clear.
    fn http() -> reqwest::Client {
        reqwest::Client::builder()
            .http2_prior_knowledge()
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .build()
            .expect("client")
    }

    fn post(addr: SocketAddr) -> Request {
        let mut r = Request::new(
            reqwest::Method::POST,
            format!("http://{addr}/create").parse().expect("url"),
        );
        *r.body_mut() = Some(reqwest::Body::from("{}"));
        r
    }

    #[tokio::test]
    async fn a_refused_stream_did_not_reach_the_server() {
        let (addr, _) = server(usize::MAX).await;
        let e = http().execute(post(addr)).await.expect_err("refused");
        assert_eq!(
            crate::call::classify::classify_transport(&e),
            Some(false),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn a_refused_post_is_sent_again() {
        let (addr, seen) = server(1).await;
        let session = SessionBuilder::new(
            "t",
            RetryPolicy::default(),
            Arc::new(SystemClock),
            Arc::new(Metrics::default()),
        )
        .api_key(Secret::new("k"))
        .build();
        let resp = session
            .send_with(&http(), post(addr), &API_KEY_POST)
            .await
            .expect("served on the second stream");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[ATTEMPTS_HEADER], "2");
        assert_eq!(seen.load(Ordering::SeqCst), 2);
    }

    fn session() -> Session {
        SessionBuilder::new(
            "t",
            RetryPolicy::default(),
            Arc::new(SystemClock),
            Arc::new(Metrics::default()),
        )
        .api_key(Secret::new("k"))
        .build()
    }

    /// A typed call's request is built once, and again only when another
    /// attempt is due — no spare copy is kept in case.
    #[tokio::test]
    #[expect(clippy::result_large_err, reason = "progenitor's error type")]
    async fn a_typed_call_builds_its_request_again_only_for_another_attempt() {
        for (refused, built) in [(0, 1), (1, 2)] {
            let (addr, seen) = server(refused).await;
            let builds = AtomicUsize::new(0);
            let build = || -> Result<Request, progenitor_client::Error<()>> {
                builds.fetch_add(1, Ordering::SeqCst);
                Ok(post(addr))
            };
            let resp = session()
                .call_built(&http(), &build, &API_KEY_POST)
                .await
                .expect("served");
            assert_eq!(resp.status(), StatusCode::OK);
            assert_eq!(builds.load(Ordering::SeqCst), built, "refused {refused}");
            assert_eq!(seen.load(Ordering::SeqCst), built);
            assert_eq!(
                crate::base::http::headers::attempts_of(resp.headers()),
                built as u32
            );
        }
    }

    /// A request that cannot be built is its error, and nothing is sent;
    /// one that cannot be built again leaves the first answer the last.
    #[tokio::test]
    #[expect(clippy::result_large_err, reason = "progenitor's error type")]
    async fn a_request_not_built_is_not_sent() {
        let (addr, seen) = server(1).await;
        let never = || -> Result<Request, progenitor_client::Error<()>> {
            Err(progenitor_client::Error::InvalidRequest("bad".into()))
        };
        match session().call_built(&http(), &never, &API_KEY_POST).await {
            Err(e) => {
                assert_eq!(e.kind(), crate::ErrorKind::Config, "{e:?}");
                assert!(e.to_string().contains("bad"), "{e}");
            }
            Ok(r) => panic!("expected a config error, got {r:?}"),
        }
        assert_eq!(seen.load(Ordering::SeqCst), 0);

        let builds = AtomicUsize::new(0);
        let once = || -> Result<Request, progenitor_client::Error<()>> {
            if builds.fetch_add(1, Ordering::SeqCst) == 0 {
                Ok(post(addr))
            } else {
                Err(progenitor_client::Error::InvalidRequest("gone".into()))
            }
        };
        match session().call_built(&http(), &once, &API_KEY_POST).await {
            Err(e) => {
                assert_eq!(e.kind(), crate::ErrorKind::Transient, "{e:?}");
                let cause = std::error::Error::source(e.error())
                    .and_then(|c| c.downcast_ref::<reqwest::Error>())
                    .expect("the transport failure is the source");
                assert_eq!(
                    crate::call::classify::classify_transport(cause),
                    Some(false),
                    "{e:?}"
                );
                assert!(cause.url().is_none(), "its URL removed");
            }
            Ok(r) => panic!("expected the refused stream's error, got {r:?}"),
        }
        assert_eq!(builds.load(Ordering::SeqCst), 2);
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }
}
