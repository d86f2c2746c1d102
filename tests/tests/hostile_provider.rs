//! Whatever a provider sends: each case states the typed outcome, an
//! upper bound on elapsed time (generous: it catches hangs, not slowness)
//! and a bound on the calls the server saw. The server is
//! `workspace_tests::hostile`, not the sandbox.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use payauth_runtime::provider::ExpirySource;
use payauth_runtime::{ErrorKind, RetryPolicy, Secret};
use workspace_tests::hostile::{Hostile, Reply};

const EXIROM_LOGIN: &str = "/v1/auth";
const AXEPT_LOGIN: &str = "/api/authenticate";
const BURSAGB_LOGIN: &str = "/Login/Customer/Api/Verify";
const PLEDG_LOGIN: &str = "/api/token";
const API: &str = "/v1/data";
const MIB: u64 = 1024 * 1024;
const TEN_YEARS: Duration = Duration::from_secs(10 * 365 * 86_400);

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An unsigned-looking HS256 JWT with `exp` given as raw JSON.
fn jwt(exp_json: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = b64.encode(format!(r#"{{"sub":"merchant","exp":{exp_json}}}"#));
    format!("{header}.{claims}.c2lnbmF0dXJl")
}

fn good_jwt() -> String {
    jwt(&(now_unix() + 3600).to_string())
}

fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(50))
}

fn exirom_with(h: &Hostile, builder: exirom::Builder) -> exirom::Client {
    builder
        .base_url(h.base_url())
        .credentials(exirom::Credentials::new("mk_hostile", "ms_hostile"))
        .retry_policy(policy())
        .timeout(Duration::from_secs(1))
        .shared_cache(false)
        .build()
        .expect("client builds")
}

fn exirom(h: &Hostile) -> exirom::Client {
    exirom_with(h, exirom::builder())
}

/// Exirom's login answers a token, the API path answers `api`.
async fn exirom_server(api: impl Fn() -> Reply + Send + Sync + 'static) -> Hostile {
    let token = good_jwt();
    Hostile::start(move |_, path| match path {
        EXIROM_LOGIN => Reply::json(200, format!(r#"{{"token":"{token}"}}"#)),
        _ => api(),
    })
    .await
}

/// Runs `fut`, failing the test past `limit`; returns its output and the
/// elapsed time.
async fn bounded<T>(limit: Duration, fut: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = tokio::time::timeout(limit, fut)
        .await
        .unwrap_or_else(|_| panic!("not done within {limit:?}"));
    (out, started.elapsed())
}

fn kind<T>(r: &Result<T, payauth_runtime::Error>) -> Option<ErrorKind> {
    r.as_ref().err().map(|e| e.kind())
}

#[tokio::test]
async fn a_login_that_hangs_times_out_per_attempt() {
    let h = Hostile::start(|_, _| Reply::Hang).await;
    let client = exirom(&h);
    let (r, _) = bounded(Duration::from_secs(15), client.bearer()).await;
    assert_eq!(kind(&r), Some(ErrorKind::Transient), "{r:?}");
    assert!((1..=3).contains(&h.hits(EXIROM_LOGIN)));
}

#[tokio::test]
async fn a_hang_is_bounded_even_with_an_application_client_without_timeouts() {
    let h = Hostile::start(|_, _| Reply::Hang).await;
    let client = exirom_with(
        &h,
        exirom::builder()
            .http_client(reqwest::Client::new())
            .timeout(Duration::from_millis(500)),
    );
    let (r, _) = bounded(Duration::from_secs(15), client.bearer()).await;
    assert_eq!(kind(&r), Some(ErrorKind::Transient), "{r:?}");
    assert!((1..=3).contains(&h.hits(EXIROM_LOGIN)));
}

/// API answers are not buffered: the caller reads the body, and that read
/// is bounded by the attempt timeout too — by the request's own timeout
/// on an application's client without one, by the client's on the SDK's.
#[tokio::test]
async fn a_trickled_api_body_is_bounded_while_the_caller_reads_it() {
    for app_client in [true, false] {
        let h = exirom_server(|| Reply::Trickle {
            body: vec![b' '; 4096],
            every: Duration::from_millis(200),
        })
        .await;
        let builder = exirom::builder().timeout(Duration::from_millis(800));
        let builder = if app_client {
            builder.http_client(reqwest::Client::new())
        } else {
            builder
        };
        let client = exirom_with(&h, builder);
        let call = async {
            let resp = client
                .send(client.request(reqwest::Method::GET, API))
                .await
                .expect("headers arrive");
            resp.bytes().await
        };
        let (r, _) = bounded(Duration::from_secs(15), call).await;
        let e = r.expect_err("the body never completes in time");
        assert!(e.is_timeout(), "app_client={app_client}: {e:?}");
        assert_eq!(h.hits(API), 1);
    }
}

#[tokio::test]
async fn one_byte_per_200_ms_hits_the_attempt_timeout() {
    let body = format!(r#"{{"token":"{}"}}"#, good_jwt()).into_bytes();
    let h = Hostile::start(move |_, _| Reply::Trickle {
        body: body.clone(),
        every: Duration::from_millis(200),
    })
    .await;
    let client = exirom(&h);
    let (r, _) = bounded(Duration::from_secs(15), client.bearer()).await;
    assert_eq!(kind(&r), Some(ErrorKind::Transient), "{r:?}");
    assert!((1..=3).contains(&h.hits(EXIROM_LOGIN)));
}

#[tokio::test]
async fn a_64_mib_token_answer_is_too_large_and_not_retried() {
    for chunked in [false, true] {
        let h = Hostile::start(move |_, _| Reply::Generated {
            status: 200,
            len: 64 * MIB,
            chunked,
            fill: b' ',
        })
        .await;
        let client = exirom(&h);
        let (r, _) = bounded(Duration::from_secs(30), client.bearer()).await;
        assert_eq!(
            kind(&r),
            Some(ErrorKind::TooLarge),
            "chunked={chunked}: {r:?}"
        );
        assert_eq!(h.hits(EXIROM_LOGIN), 1);
    }
}

#[tokio::test]
async fn a_256_mib_api_answer_is_too_large_and_not_retried() {
    for chunked in [false, true] {
        let h = exirom_server(move || Reply::Generated {
            status: 200,
            len: 256 * MIB,
            chunked,
            fill: b'a',
        })
        .await;
        let client = exirom(&h);
        // A declared length above the cap fails the call before a byte is
        // read; an undeclared one fails the caller's read at the cap (API
        // answers are not buffered). Never a retry, never 256 MiB held.
        let call = async {
            let resp = client
                .send(client.request(reqwest::Method::GET, API))
                .await?;
            assert!(chunked, "a declared 256 MiB answer fails the call");
            resp.bytes()
                .await
                .map_err(|e| payauth_runtime::Error::from_transport("exirom", e, 1))
        };
        let (r, _) = bounded(Duration::from_secs(60), call).await;
        assert_eq!(
            kind(&r),
            Some(ErrorKind::TooLarge),
            "chunked={chunked}: {r:?}"
        );
        assert_eq!(h.hits(API), 1);
    }
}

#[tokio::test]
async fn an_unbuffered_answer_is_capped_while_the_caller_reads_it() {
    // A streaming request body cannot be retried, so its response is not
    // buffered: the cap applies while the application reads.
    let h = exirom_server(|| Reply::Generated {
        status: 200,
        len: 256 * MIB,
        chunked: true,
        fill: b'a',
    })
    .await;
    let client = exirom(&h);
    let body = reqwest::Body::wrap(http_body_util::Full::new(bytes::Bytes::from_static(b"{}")));
    let call = async {
        let resp = client
            .send(client.request(reqwest::Method::POST, API).body(body))
            .await
            .expect("headers arrive");
        assert_eq!(resp.url().path(), API, "the URL survives");
        resp.bytes().await
    };
    let (r, _) = bounded(Duration::from_secs(60), call).await;
    let e = r.expect_err("the body passes the cap");
    assert!(
        payauth_runtime::__private::body::too_large(&e).is_some(),
        "{e:?}"
    );
    assert_eq!(h.hits(API), 1);
}

#[tokio::test]
async fn the_url_of_a_response_is_kept() {
    let h = exirom_server(|| Reply::json(200, "{}")).await;
    let client = exirom(&h);
    let resp = client
        .send(client.request(reqwest::Method::GET, API))
        .await
        .expect("ok");
    assert_eq!(resp.url().as_str(), format!("{}{API}", h.base_url()));
}

#[tokio::test]
async fn malformed_login_answers_are_typed_and_retried_boundedly() {
    let cases: Vec<(&str, Reply)> = vec![
        ("deeply nested JSON", Reply::json(200, "[".repeat(100_000))),
        ("empty body", Reply::json(200, "")),
        ("HTML 200", Reply::html(200)),
        ("JSON null", Reply::json(200, "null")),
        ("a number", Reply::json(200, "1e999999")),
    ];
    for (name, reply) in cases {
        let h = Hostile::start(move |_, _| reply.clone()).await;
        let client = exirom(&h);
        let (r, _) = bounded(Duration::from_secs(10), client.bearer()).await;
        assert_eq!(
            kind(&r),
            Some(ErrorKind::MalformedResponse),
            "{name}: {r:?}"
        );
        // A token call is safe to repeat: asked again twice,
        // then surfaced.
        assert_eq!(
            h.hits(EXIROM_LOGIN),
            1 + payauth_runtime::provider::MALFORMED_RETRIES,
            "{name}"
        );
    }
}

#[tokio::test]
async fn html_401_forever_ends_after_one_renewal() {
    let h = exirom_server(|| Reply::html(401)).await;
    let client = exirom(&h);
    let call = client.send(client.request(reqwest::Method::GET, API));
    let (r, _) = bounded(Duration::from_secs(10), call).await;
    assert_eq!(kind(&r), Some(ErrorKind::Unauthorized), "{r:?}");
    assert_eq!(h.hits(API), 2);
    assert_eq!(h.hits(EXIROM_LOGIN), 2);
}

#[tokio::test]
async fn tokens_that_cannot_form_a_header_are_rejected_and_never_cached() {
    for token in [r"abc\r\ndef", "abc def", "", r"tok\u0000en", r"t\u00f6ken"] {
        let body = format!(r#"{{"token":"{token}"}}"#);
        let h = Hostile::start(move |_, _| Reply::json(200, body.clone())).await;
        let client = exirom(&h);
        for _ in 0..2 {
            let (r, _) = bounded(Duration::from_secs(10), client.bearer()).await;
            assert_eq!(
                kind(&r),
                Some(ErrorKind::MalformedResponse),
                "{token}: {r:?}"
            );
        }
        // Not cached: each call asked again (each time with the bounded
        // re-asks a malformed token answer gets).
        assert_eq!(
            h.hits(EXIROM_LOGIN),
            2 * (1 + payauth_runtime::provider::MALFORMED_RETRIES),
            "{token}"
        );
    }
}

#[tokio::test]
async fn absurd_and_negative_expiries_give_bounded_deadlines() {
    for (exp, source) in [
        ("1e300", ExpirySource::JwtExp),
        ("9223372036854775807", ExpirySource::JwtExp),
        ("-9223372036854775808", ExpirySource::JwtExp),
        ("-5", ExpirySource::JwtExp),
        (r#""not a number""#, ExpirySource::Assumed),
        ("[1,2]", ExpirySource::Assumed),
    ] {
        let token = jwt(exp);
        let h = Hostile::start(move |_, _| Reply::json(200, format!(r#""{token}""#))).await;
        let client = exirom(&h);
        let before = Instant::now();
        let (r, _) = bounded(Duration::from_secs(10), client.bearer()).await;
        let t = r.unwrap_or_else(|e| panic!("exp {exp}: {e}"));
        assert_eq!(t.expiry_source(), source, "exp {exp}");
        assert!(t.deadline() > before, "exp {exp}: never before now");
        assert!(t.deadline() <= Instant::now() + TEN_YEARS, "exp {exp}");
    }
    // pledg: relative `expires_in` of i64::MAX, and negative (ignored),
    // on a JWT without `exp`.
    for (expires_in, source) in [
        ("9223372036854775807", ExpirySource::Relative),
        ("-1", ExpirySource::Assumed),
    ] {
        let token = jwt("null");
        let h = Hostile::start(move |_, _| {
            Reply::json(
                200,
                format!(
                    r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":{expires_in}}}"#
                ),
            )
        })
        .await;
        let client = pledg::builder()
            .base_url(h.base_url())
            .credentials(pledg::Credentials::new("k", "s"))
            .retry_policy(policy())
            .shared_cache(false)
            .build()
            .expect("client");
        let (r, _) = bounded(Duration::from_secs(10), client.bearer()).await;
        let t = r.unwrap_or_else(|e| panic!("expires_in {expires_in}: {e}"));
        assert_eq!(t.expiry_source(), source, "expires_in {expires_in}");
        assert!(t.deadline() <= Instant::now() + TEN_YEARS);
        assert_eq!(h.hits(PLEDG_LOGIN), 1);
    }
}

#[tokio::test]
async fn retry_after_beyond_the_cap_ends_the_call_with_the_requested_wait() {
    let cases: [(&str, &str, Option<Duration>, u32); 6] = [
        (
            "retry-after",
            "99999999999999999999",
            Some(Duration::MAX),
            1,
        ),
        ("retry-after-ms", "1e23", Some(Duration::MAX), 1),
        ("retry-after", "120", Some(Duration::from_secs(120)), 1),
        ("retry-after", "1e400", None, 3),
        ("retry-after", "-5", None, 3),
        ("retry-after-ms", "NaN", None, 3),
    ];
    for (header, value, wait, calls) in cases {
        let h = Hostile::start(move |_, _| Reply::empty(503, &[(header, value)])).await;
        let client = exirom(&h);
        let (r, elapsed) = bounded(Duration::from_secs(10), client.bearer()).await;
        let e = r.expect_err("503");
        assert_eq!(e.kind(), ErrorKind::Transient, "{header}: {value}");
        assert_eq!(e.retry_after(), wait, "{header}: {value}");
        assert_eq!(h.hits(EXIROM_LOGIN), calls, "{header}: {value}");
        assert!(
            elapsed < Duration::from_secs(5),
            "{header}: {value}: {elapsed:?}"
        );
    }
    // On an API call too.
    let h = exirom_server(|| Reply::empty(503, &[("retry-after", "120")])).await;
    let client = exirom(&h);
    let call = client.send(client.request(reqwest::Method::GET, API));
    let (r, _) = bounded(Duration::from_secs(10), call).await;
    let e = r.expect_err("503");
    assert_eq!(e.kind(), ErrorKind::Transient);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(h.hits(API), 1);
}

fn axept(h: &Hostile) -> axept::Client {
    axept::builder()
        .base_url(h.base_url())
        .credentials(axept::Credentials::new(1, 2, Secret::new("k")))
        .retry_policy(policy())
        .shared_cache(false)
        .build()
        .expect("client")
}

fn bursagb(h: &Hostile) -> bursagb::Client {
    bursagb::builder()
        .base_url(h.base_url())
        .credentials(bursagb::Credentials::new("p@example.com", "pw"))
        .retry_policy(policy())
        .shared_cache(false)
        .build()
        .expect("client")
}

fn in_an_hour(format: &str) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(3600))
        .format(format)
        .to_string()
}

#[tokio::test]
async fn dotnet_and_offset_less_expiries_are_read() {
    // The JWT says two hours; the date-time field one hour: it wins.
    let token = jwt(&(now_unix() + 7200).to_string());
    for (field_value, source) in [
        (
            in_an_hour("%Y-%m-%dT%H:%M:%S") + ".1234567",
            ExpirySource::DateTime,
        ),
        (in_an_hour("%Y-%m-%dT%H:%M:%S"), ExpirySource::DateTime),
        (in_an_hour("%Y-%m-%dT%H:%M:%SZ"), ExpirySource::DateTime),
        ("next tuesday".to_string(), ExpirySource::JwtExp),
        (
            "2023-01-31T11:28:09.0000000".to_string(),
            ExpirySource::DateTime,
        ),
    ] {
        let body = format!(r#"{{"Token":"{token}","ExpiresAt":"{field_value}"}}"#);
        let h = Hostile::start(move |_, _| Reply::json(200, body.clone())).await;
        let (r, _) = bounded(Duration::from_secs(10), axept(&h).bearer()).await;
        let t = r.unwrap_or_else(|e| panic!("axept {field_value}: {e}"));
        assert_eq!(t.expiry_source(), source, "axept {field_value}");
        assert!(t.deadline() <= Instant::now() + Duration::from_secs(7200));
        assert_eq!(h.hits(AXEPT_LOGIN), 1);

        let body = format!(
            r#"{{"data":{{"Token":"{token}","Expiration":"{field_value}"}},"success":true,"message":"Success"}}"#
        );
        let h = Hostile::start(move |_, _| Reply::json(200, body.clone())).await;
        let (r, _) = bounded(Duration::from_secs(10), bursagb(&h).bearer()).await;
        let t = r.unwrap_or_else(|e| panic!("bursagb {field_value}: {e}"));
        assert_eq!(t.expiry_source(), source, "bursagb {field_value}");
        assert_eq!(h.hits(BURSAGB_LOGIN), 1);
    }
}

/// Another brand of bursagb's platform answers `data.token` (lower case),
/// with or without `expiration`: both are tokens (FACTS: casing may vary).
#[tokio::test]
async fn bursagb_lower_case_token_data_is_accepted() {
    // The JWT outlives `expiration`: the earlier one decides.
    let token = jwt(&(now_unix() + 7200).to_string());
    let in_an_hour = (chrono::Utc::now() + chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    for (data, source) in [
        (
            format!(r#"{{"token":"{token}","expiration":"{in_an_hour}"}}"#),
            ExpirySource::DateTime,
        ),
        (format!(r#"{{"token":"{token}"}}"#), ExpirySource::JwtExp),
    ] {
        let body = format!(r#"{{"data":{data},"success":true,"message":"Success"}}"#);
        let h = Hostile::start(move |_, _| Reply::json(200, body.clone())).await;
        let (r, _) = bounded(Duration::from_secs(10), bursagb(&h).bearer()).await;
        let t = r.unwrap_or_else(|e| panic!("bursagb {data}: {e}"));
        assert_eq!(t.secret().expose(), token);
        assert_eq!(t.expiry_source(), source, "{data}");
        assert_eq!(h.hits(BURSAGB_LOGIN), 1);
    }
    // Neither casing: malformed.
    let h = Hostile::start(|_, _| Reply::json(200, r#"{"data":{"jwt":"x"},"success":true}"#)).await;
    let (r, _) = bounded(Duration::from_secs(10), bursagb(&h).bearer()).await;
    assert_eq!(kind(&r), Some(ErrorKind::MalformedResponse), "{r:?}");
}

#[tokio::test]
async fn bursagb_success_false_is_invalid_credentials() {
    for (status, body) in [
        (
            200,
            r#"{"data":null,"success":false,"message":"Email or password is incorrect"}"#,
        ),
        (200, r#"{"success":false}"#),
        (
            400,
            r#"{"data":null,"success":false,"message":"Email or password is incorrect"}"#,
        ),
    ] {
        let h = Hostile::start(move |_, _| Reply::json(status, body)).await;
        let (r, _) = bounded(Duration::from_secs(10), bursagb(&h).bearer()).await;
        assert_eq!(
            kind(&r),
            Some(ErrorKind::InvalidCredentials),
            "{status} {body}: {r:?}"
        );
        assert_eq!(h.hits(BURSAGB_LOGIN), 1);
    }
    // success=true without data is malformed, not a refusal.
    let h = Hostile::start(|_, _| Reply::json(200, r#"{"success":true}"#)).await;
    let (r, _) = bounded(Duration::from_secs(10), bursagb(&h).bearer()).await;
    assert_eq!(kind(&r), Some(ErrorKind::MalformedResponse), "{r:?}");
}

#[tokio::test]
async fn duration_max_in_every_setting_does_not_panic() {
    let h = Hostile::start(|_, _| Reply::empty(503, &[("retry-after", "0")])).await;
    let client = exirom::builder()
        .base_url(h.base_url())
        .credentials(exirom::Credentials::new("mk", "ms"))
        .retry_policy(
            RetryPolicy::default()
                .total_deadline(Duration::MAX)
                .max_retry_after(Duration::MAX)
                .max_backoff(Duration::MAX)
                .attempt_timeout(Duration::MAX),
        )
        .timeout(Duration::MAX)
        .shared_cache(false)
        .build()
        .expect("client");
    let (r, _) = bounded(Duration::from_secs(10), client.bearer()).await;
    assert_eq!(kind(&r), Some(ErrorKind::Transient), "{r:?}");
    assert_eq!(h.hits(EXIROM_LOGIN), 3);
}

/// A hand-made request is copied before the credentials go on, and they go
/// on again for each later attempt: its own headers, query and body are
/// sent again as they were, the bearer is the one the session holds then
/// (a new one after a 401), never a leftover of the first attempt.
#[tokio::test]
async fn a_hand_made_request_is_sent_again_as_it_was_with_its_credentials_current() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    let logins = Arc::new(AtomicU32::new(0));
    let api = Arc::new(AtomicU32::new(0));
    let (l, a) = (Arc::clone(&logins), Arc::clone(&api));
    let h = Hostile::start(move |_, path| match path {
        EXIROM_LOGIN => {
            // A different token at each login.
            let n = l.fetch_add(1, Ordering::SeqCst);
            Reply::json(
                200,
                format!(
                    r#"{{"token":"{}"}}"#,
                    jwt(&(now_unix() + 3600 + i64::from(n)).to_string())
                ),
            )
        }
        _ => match a.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::json(401, "{}"),
            1 => Reply::json(503, "{}"),
            2 => Reply::json(429, "{}"),
            _ => Reply::json(200, "{}"),
        },
    })
    .await;
    let client = exirom(&h);
    let resp = client
        .send(
            client
                .request(reqwest::Method::GET, &format!("{API}?page=2"))
                .header("x-trace", "t-1"),
        )
        .await
        .expect("served on the fourth attempt");
    assert_eq!(payauth_runtime::retry::attempts_of(resp.headers()), 4);
    let seen = h.seen(API);
    assert_eq!(seen.len(), 4);
    for s in &seen {
        assert_eq!(s.target, format!("{API}?page=2"));
        assert_eq!(s.header("x-trace"), Some("t-1"));
        assert_eq!(
            s.headers
                .iter()
                .filter(|(k, _)| k == "authorization")
                .count(),
            1
        );
    }
    let bearer = |i: usize| seen[i].header("authorization").unwrap_or_default();
    assert!(bearer(0).starts_with("Bearer "));
    assert_ne!(bearer(0), bearer(1), "a new token after the 401");
    assert_eq!(bearer(1), bearer(2));
    assert_eq!(bearer(2), bearer(3));
    assert_eq!(logins.load(Ordering::SeqCst), 2);

    // A POST's body, refused with 429 (not processed): the same bytes again.
    let h = exirom_server({
        let n = Arc::new(AtomicU32::new(0));
        move || match n.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::json(429, "{}"),
            _ => Reply::json(200, "{}"),
        }
    })
    .await;
    let client = exirom(&h);
    client
        .send(
            client
                .request(reqwest::Method::POST, API)
                .header("content-type", "application/json")
                .body(r#"{"amount":"10.00"}"#),
        )
        .await
        .expect("served on the second attempt");
    let seen = h.seen(API);
    assert_eq!(seen.len(), 2);
    for s in &seen {
        assert_eq!(s.body, br#"{"amount":"10.00"}"#);
        assert_eq!(s.header("content-type"), Some("application/json"));
        assert!(
            s.header("authorization")
                .is_some_and(|v| v.starts_with("Bearer "))
        );
    }
}
