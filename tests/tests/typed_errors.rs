//! What a generated operation's failure tells its caller: the runtime's
//! kind, the status and headers, the documented error body, a `source()`
//! chain — through `?` into `Box<dyn Error>` and `anyhow` too. The server
//! is `workspace_tests::hostile`: it answers what each case needs.

use std::time::Duration;

use payauth_runtime::{ErrorKind, OperationError, RetryPolicy};
use workspace_tests::hostile::{Hostile, Reply};

const EXIROM_LOGIN: &str = "/v1/auth";
const CANARY: &str = "ms_canary_5ecret";

fn token() -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        + 3600;
    format!(
        "{}.{}.c2ln",
        b64.encode(br#"{"alg":"HS256"}"#),
        b64.encode(format!(r#"{{"exp":{exp}}}"#))
    )
}

/// Exirom's login answers `login`, every other path `api`.
async fn server(
    login: impl Fn() -> Reply + Send + Sync + 'static,
    api: impl Fn() -> Reply + Send + Sync + 'static,
) -> Hostile {
    Hostile::start(move |_, path| match path {
        EXIROM_LOGIN => login(),
        _ => api(),
    })
    .await
}

async fn logged_in(api: impl Fn() -> Reply + Send + Sync + 'static) -> Hostile {
    let token = token();
    server(
        move || Reply::json(200, format!(r#"{{"token":"{token}"}}"#)),
        api,
    )
    .await
}

fn client(h: &Hostile) -> exirom::Client {
    exirom::builder()
        .base_url(h.base_url())
        .credentials(exirom::Credentials::new("mk_typed", CANARY))
        .retry_policy(
            RetryPolicy::default()
                .max_retries(2)
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(5)),
        )
        .timeout(Duration::from_secs(2))
        .shared_cache(false)
        .build()
        .expect("client builds")
}

type StatusResult = Result<
    progenitor_client::ResponseValue<exirom::types::CardPaymentStatus>,
    OperationError<exirom::types::ErrorResponse>,
>;

async fn status_of(c: &exirom::Client) -> StatusResult {
    c.get_card_payment_status().id("pay_1").send().await
}

fn no_secret(printed: &str) {
    assert!(!printed.contains(CANARY), "{printed}");
}

/// A documented 503 whose body is a proxy's HTML page is transient, with
/// its status and the provider's `Retry-After` — not a decoding error.
#[tokio::test]
async fn a_documented_503_with_an_html_body_is_transient_with_its_status() {
    let h = logged_in(|| Reply::Full {
        status: 503,
        headers: vec![
            ("content-type".into(), "text/html".into()),
            ("retry-after".into(), "0".into()),
        ],
        body: b"<html>down</html>".to_vec(),
    })
    .await;
    let e = status_of(&client(&h)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transient, "{e:?}");
    assert!(e.is_retryable());
    assert_eq!(e.status(), Some(503));
    assert_eq!(e.attempts(), 3, "retried twice: {e:?}");
    assert_eq!(e.retry_after(), Some(Duration::ZERO), "{e:?}");
    assert!(e.body().is_none(), "HTML is no documented body");
    assert_eq!(e.headers().expect("headers")["retry-after"], "0");
    assert_eq!(e.operation(), "get_card_payment_status");
    assert_eq!(e.provider(), "exirom");
    no_secret(&format!("{e} {e:?}"));
}

/// A documented error answer keeps its decoded body, its kind from the
/// status.
#[tokio::test]
async fn a_documented_error_keeps_its_body_and_kind() {
    for (status, kind) in [
        (404, ErrorKind::NotFound),
        (401, ErrorKind::Unauthorized),
        (429, ErrorKind::Transient),
    ] {
        let h =
            logged_in(move || Reply::json(status, r#"{"code":"E1","message":"no such payment"}"#))
                .await;
        let e = status_of(&client(&h)).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{status}: {e:?}");
        assert_eq!(e.status(), Some(status));
        let body = e.body().expect("the documented body");
        assert_eq!(body.code.as_deref(), Some("E1"));
        assert_eq!(body.message, "no such payment");
        let body = e.into_body().expect("taken");
        assert_eq!(body.message, "no such payment");
    }
}

/// A status the spec does not list, and a success whose body is not the
/// documented shape: typed, with the status, no body text in the message.
#[tokio::test]
async fn undocumented_answers_are_typed() {
    let h = logged_in(|| Reply::json(418, r#"{"teapot":true}"#)).await;
    let e = status_of(&client(&h)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest, "{e:?}");
    assert_eq!(e.status(), Some(418));

    let h = logged_in(|| Reply::json(302, "")).await;
    let e = status_of(&client(&h)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MalformedResponse, "{e:?}");
    assert_eq!(e.status(), Some(302));

    let h = logged_in(|| Reply::json(200, r#"{"status":"tok_in_body_4242"}"#)).await;
    let e = status_of(&client(&h)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MalformedResponse, "{e:?}");
    assert_eq!(e.status(), Some(200));
    let printed = format!("{e} {e:?}");
    assert!(!printed.contains("tok_in_body_4242"), "{printed}");
}

/// A login refused inside a typed operation: `InvalidCredentials`, kept
/// through `?` into `Box<dyn Error>` and `anyhow::Error` — the value
/// downcasts back, and the runtime's `Error` is its source whatever the
/// body type.
#[tokio::test]
async fn a_refused_login_keeps_its_kind_through_question_mark() {
    let h = server(
        || Reply::json(401, r#"{"message":"bad key"}"#),
        || Reply::json(200, "{}"),
    )
    .await;
    let c = client(&h);

    async fn boxed(c: &exirom::Client) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        status_of(c).await?;
        Ok(())
    }
    let e = boxed(&c).await.unwrap_err();
    let op = e
        .downcast_ref::<OperationError<exirom::types::ErrorResponse>>()
        .expect("downcasts to the operation's error");
    assert_eq!(op.kind(), ErrorKind::InvalidCredentials, "{op:?}");
    assert!(!op.is_retryable());
    let inner = e
        .source()
        .and_then(|s| s.downcast_ref::<payauth_runtime::Error>())
        .expect("the runtime error is the source");
    assert_eq!(inner.kind(), ErrorKind::InvalidCredentials);
    no_secret(&format!("{e} {e:?}"));

    async fn with_anyhow(c: &exirom::Client) -> anyhow::Result<()> {
        status_of(c).await?;
        Ok(())
    }
    let e = with_anyhow(&c).await.unwrap_err();
    let kind = e
        .chain()
        .find_map(|s| s.downcast_ref::<payauth_runtime::Error>())
        .map(payauth_runtime::Error::kind);
    assert_eq!(kind, Some(ErrorKind::InvalidCredentials));
    assert!(
        e.downcast_ref::<OperationError<exirom::types::ErrorResponse>>()
            .is_some()
    );
    no_secret(&format!("{e:#} {e:?}"));

    // And into the runtime's own error, for code that returns it.
    async fn into_runtime(c: &exirom::Client) -> Result<(), exirom::Error> {
        status_of(c).await?;
        Ok(())
    }
    assert_eq!(
        into_runtime(&c).await.unwrap_err().kind(),
        ErrorKind::InvalidCredentials
    );
}

/// A transport failure: transient, no status, the cause as the source
/// with its URL removed.
#[tokio::test]
async fn a_hang_is_transient_with_the_timeout_as_its_source() {
    let h = logged_in(|| Reply::Hang).await;
    let c = exirom::builder()
        .base_url(h.base_url())
        .credentials(exirom::Credentials::new("mk_typed", CANARY))
        .retry_policy(RetryPolicy::default().max_retries(0))
        .timeout(Duration::from_millis(300))
        .shared_cache(false)
        .build()
        .expect("client builds");
    let e = status_of(&c).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transient, "{e:?}");
    assert_eq!(e.status(), None);
    let cause = std::error::Error::source(e.error())
        .and_then(|s| s.downcast_ref::<reqwest::Error>())
        .expect("the transport error");
    assert!(cause.is_timeout(), "{cause:?}");
    assert!(cause.url().is_none());
}
