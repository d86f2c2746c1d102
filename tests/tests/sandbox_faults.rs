//! Sandbox fault injection, counters, clock, control plane, load.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use reqwest::{Client, StatusCode};
use sandbox::{Fault, FaultMix, PledgConfig, Provider, Route, Sandbox, SandboxError};
use serde_json::{Value, json};
use workspace_tests::raw::{login_request, login_token};

fn client() -> Client {
    Client::builder().no_proxy().build().unwrap()
}

async fn protected_status(sb: &Sandbox, p: Provider, token: &str) -> StatusCode {
    client()
        .get(sb.url(p, Route::Protected).unwrap())
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn status_fault_with_retry_after_is_fifo_and_one_shot() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(
        Provider::Pledg,
        Route::Login,
        Fault::status(503).retry_after_secs(2),
    );
    let at = SystemTime::now() + Duration::from_secs(120);
    sb.inject(
        Provider::Pledg,
        Route::Login,
        Fault::status(429).retry_after_date(at),
    );
    sb.inject(
        Provider::Pledg,
        Route::Login,
        Fault::status(500).retry_after_ms(250),
    );

    let r = login_request(&sb, Provider::Pledg).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "2");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "temporarily_unavailable");

    let r = login_request(&sb, Provider::Pledg).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let date = httpdate::parse_http_date(r.headers()["retry-after"].to_str().unwrap()).unwrap();
    let diff = date
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .as_secs();
    assert!((100..=121).contains(&diff), "{diff}");

    let r = login_request(&sb, Provider::Pledg).send().await.unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.headers()["retry-after-ms"], "250");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "server_error");

    // Queue drained: back to normal.
    let r = login_request(&sb, Provider::Pledg).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let c = sb.counters().route(Provider::Pledg, Route::Login);
    assert_eq!((c.requests, c.faults_served, c.logins), (4, 3, 1));

    // Error bodies keep each provider's own format.
    sb.inject(Provider::Institution, Route::Login, Fault::status(503));
    let v: Value = login_request(&sb, Provider::Institution)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["errors"][0]["code"], "SERVICE_UNAVAILABLE");
    sb.inject(Provider::Axept, Route::Login, Fault::status(500));
    let v: Value = login_request(&sb, Provider::Axept)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["message"].is_string());
    sb.inject(
        Provider::Bursagb,
        Route::SupplierProductsList,
        Fault::status(401),
    );
    let r = client()
        .post(
            sb.url(Provider::Bursagb, Route::SupplierProductsList)
                .unwrap(),
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], -23);
}

#[tokio::test]
async fn faults_are_per_route() {
    let sb = Sandbox::start().await.unwrap();
    let t = login_token(&sb, Provider::Pledg).await;
    sb.inject(Provider::Pledg, Route::Protected, Fault::status(502));
    // Login is unaffected, the protected call takes the fault.
    let _ = login_token(&sb, Provider::Pledg).await;
    assert_eq!(protected_status(&sb, Provider::Pledg, &t).await, 502);
    assert_eq!(protected_status(&sb, Provider::Pledg, &t).await, 200);
    assert!(
        sb.try_inject(Provider::Pledg, Route::Refresh, Fault::status(500))
            .is_err()
    );
}

#[tokio::test]
async fn latency_fault_delays_the_response() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(
        Provider::Axept,
        Route::Login,
        Fault::latency(Duration::from_millis(400)),
    );
    let start = Instant::now();
    let r = login_request(&sb, Provider::Axept).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(start.elapsed() >= Duration::from_millis(400));
    // A client timeout shorter than the latency fires.
    sb.inject(
        Provider::Axept,
        Route::Login,
        Fault::latency(Duration::from_millis(800)),
    );
    let err = login_request(&sb, Provider::Axept)
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn dropped_connection_is_a_transport_error() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(Provider::Pledg, Route::Login, Fault::drop_connection());
    let err = login_request(&sb, Provider::Pledg)
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "{err:?}");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    // The next request is served normally.
    assert_eq!(
        login_request(&sb, Provider::Pledg)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let c = sb.counters().route(Provider::Pledg, Route::Login);
    assert_eq!((c.requests, c.faults_served, c.logins), (2, 1, 1));

    // Same on a kept-alive connection of a shared client.
    let c = client();
    let u = sb.url(Provider::Exirom, Route::Protected).unwrap();
    assert_eq!(c.get(&u).send().await.unwrap().status(), 401);
    sb.inject(Provider::Exirom, Route::Protected, Fault::drop_connection());
    let err = c.get(&u).send().await.unwrap_err();
    assert!(err.status().is_none(), "{err:?}");
    assert_eq!(c.get(&u).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn truncated_body_fails_while_reading() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(Provider::Institution, Route::Login, Fault::truncated_body());
    let r = login_request(&sb, Provider::Institution)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let declared: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(declared > 0);
    let err = r.bytes().await.unwrap_err();
    assert!(
        err.is_body() || err.is_decode() || err.is_request(),
        "{err:?}"
    );
    // The login happened server-side.
    assert_eq!(sb.counters().logins(Provider::Institution), 1);
}

#[tokio::test]
async fn malformed_body_is_200_but_not_json() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(Provider::Exirom, Route::Login, Fault::malformed_body());
    let r = client()
        .post(sb.url(Provider::Exirom, Route::Login).unwrap())
        .json(&json!({"merchantKey": "sbx-exirom-merchant-key", "merchantSecret": "sbx-exirom-merchant-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert_eq!(sb.counters().logins(Provider::Exirom), 0);
}

#[tokio::test]
async fn wrong_content_type_keeps_the_body() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(Provider::Axept, Route::Login, Fault::wrong_content_type());
    let r = login_request(&sb, Provider::Axept).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(v["token"].is_string());
}

#[tokio::test]
async fn token_without_exp_and_expired_token() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(Provider::Pledg, Route::Login, Fault::token_without_exp());
    let t = login_token(&sb, Provider::Pledg).await;
    let c = sandbox::peek_claims(&t).unwrap();
    assert!(c.get("exp").is_none() && c["iat"].is_i64());
    assert_eq!(protected_status(&sb, Provider::Pledg, &t).await, 200);

    sb.inject(Provider::Pledg, Route::Login, Fault::expired_token());
    let t = login_token(&sb, Provider::Pledg).await;
    let exp = sandbox::peek_claims(&t).unwrap()["exp"].as_i64().unwrap();
    assert!(exp < sb.now().timestamp());
    assert_eq!(protected_status(&sb, Provider::Pledg, &t).await, 401);

    // institution: expiresIn follows the token (absolute, in the past).
    sb.inject(Provider::Institution, Route::Login, Fault::expired_token());
    let v: Value = login_request(&sb, Provider::Institution)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = v["data"]["accessToken"].as_str().unwrap();
    assert_eq!(
        sandbox::peek_claims(access).unwrap()["exp"],
        v["data"]["expiresIn"]
    );
    assert!(v["data"]["expiresIn"].as_i64().unwrap() < sb.now().timestamp());

    sb.inject(
        Provider::Institution,
        Route::Login,
        Fault::token_without_exp(),
    );
    let v: Value = login_request(&sb, Provider::Institution)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = v["data"]["accessToken"].as_str().unwrap();
    assert!(sandbox::peek_claims(access).unwrap().get("exp").is_none());
    assert!(v["data"]["expiresIn"].as_i64().unwrap() > sb.now().timestamp());
}

#[tokio::test]
async fn concurrent_logins_are_counted() {
    let sb = Sandbox::start().await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let rb = login_request(&sb, Provider::Pledg);
            tokio::spawn(async move { rb.send().await.unwrap().status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let rb = login_request(&sb, Provider::Institution);
            tokio::spawn(async move { rb.send().await.unwrap().status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let c = sb.counters();
    assert_eq!(c.logins(Provider::Pledg), 50);
    assert_eq!(c.logins_by(Provider::Pledg, "sbx_pledg_api_key"), 50);
    assert_eq!(c.logins(Provider::Institution), 8);
    assert_eq!(c.route(Provider::Pledg, Route::Login).requests, 50);

    let t = login_token(&sb, Provider::Pledg).await;
    assert_eq!(protected_status(&sb, Provider::Pledg, &t).await, 200);
    assert_eq!(protected_status(&sb, Provider::Pledg, "junk").await, 401);
    let c = sb.counters();
    assert_eq!(c.authenticated(Provider::Pledg), 1);
    assert_eq!(c.unauthorized(Provider::Pledg), 1);
    assert_eq!(c.refreshes(Provider::Institution), 0);
    sb.reset_counters();
    assert_eq!(sb.counters().total(), sandbox::RouteCounters::default());
}

#[tokio::test]
async fn clock_is_shared_and_moves_forward() {
    let sb = Sandbox::start().await.unwrap();
    let offset = sb.clock_offset();
    let before = sb.now();
    sb.advance_clock(Duration::from_secs(3600));
    assert_eq!(offset.load(Ordering::Relaxed), 3_600_000);
    let diff = sb.now() - before;
    assert!(diff >= chrono::Duration::seconds(3600) && diff < chrono::Duration::seconds(3700));
    // Tokens are issued on the sandbox clock.
    let t = login_token(&sb, Provider::Pledg).await;
    let iat = sandbox::peek_claims(&t).unwrap()["iat"].as_i64().unwrap();
    assert!((iat - sb.now().timestamp()).abs() <= 2);
}

#[tokio::test]
async fn control_plane_over_http() {
    let sb = Sandbox::start().await.unwrap();
    let c = client();
    let ctl = |path: &str| format!("{}/__sandbox/{path}", sb.root_url());

    // Clock.
    let t = login_token(&sb, Provider::Pledg).await;
    let r = c
        .post(ctl("clock/advance"))
        .json(&json!({"seconds": 601}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(protected_status(&sb, Provider::Pledg, &t).await, 401);

    // Revoke.
    let t = login_token(&sb, Provider::Pledg).await;
    let r = c
        .post(ctl("revoke"))
        .json(&json!({"token": t}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(protected_status(&sb, Provider::Pledg, &t).await, 401);

    // Rotate.
    let old = sb.credentials(Provider::Pledg);
    let new: Value = c
        .post(ctl("rotate/pledg"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(new["provider"], "pledg");
    assert_ne!(serde_json::to_value(&old).unwrap(), new);
    let creds = old;
    let api_key = creds.text("api_key").to_owned();
    let api_secret = creds.text("api_secret").to_owned();
    let r = client()
        .post(sb.url(Provider::Pledg, Route::Login).unwrap())
        .basic_auth(&api_key, Some(&api_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        login_request(&sb, Provider::Pledg)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Variant.
    let r = c
        .post(ctl("variant"))
        .json(&json!({"variant": "axept_pascal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = login_request(&sb, Provider::Axept)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["Token"].is_string());

    // Fault.
    let r = c
        .post(ctl("fault/axept/login"))
        .json(&json!({"status": 503, "retry_after": 7, "retry_after_ms": 7000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = login_request(&sb, Provider::Axept).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(r.headers()["retry-after-ms"], "7000");
    let r = c
        .post(ctl("fault/pledg/login"))
        .json(&json!({"drop_connection": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(login_request(&sb, Provider::Pledg).send().await.is_err());
    let r = c
        .post(ctl("fault/pledg/login"))
        .json(&json!({"latency_ms": 300}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let start = Instant::now();
    assert_eq!(
        login_request(&sb, Provider::Pledg)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(start.elapsed() >= Duration::from_millis(300));

    // Counters.
    let v: Value = c
        .get(ctl("counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let counters: sandbox::Counters = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(counters, sb.counters());
    assert!(v["routes"]["pledg"]["login"]["logins"].as_u64().unwrap() >= 3);
    let r = c.post(ctl("counters/reset")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sb.counters().total().requests, 0);

    // Errors of the control plane itself.
    assert_eq!(
        c.post(ctl("rotate/nobody")).send().await.unwrap().status(),
        400
    );
    assert_eq!(
        c.post(ctl("fault/pledg/orders_create"))
            .json(&json!({"status": 500}))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        c.post(ctl("fault/pledg/login"))
            .json(&json!({"status": "x"}))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(c.get(ctl("nothing")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn shutdown_releases_the_port() {
    let sb = Sandbox::start().await.unwrap();
    let addr = sb.local_addr();
    assert_eq!(
        login_request(&sb, Provider::Pledg)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    sb.clone().shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// Thousands of authenticated requests on 2 cores: the sandbox must not be the bottleneck.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_thousands_of_requests() {
    let sb = Sandbox::start().await.unwrap();
    let token = login_token(&sb, Provider::Pledg).await;
    let c = client();
    let url = sb.url(Provider::Pledg, Route::Protected).unwrap();
    let n_tasks = 32;
    let per_task = 100;
    let start = Instant::now();
    let tasks: Vec<_> = (0..n_tasks)
        .map(|_| {
            let (c, url, token) = (c.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                for _ in 0..per_task {
                    let r = c.get(&url).bearer_auth(&token).send().await.unwrap();
                    assert_eq!(r.status(), 200);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    assert_eq!(
        sb.counters().authenticated(Provider::Pledg),
        (n_tasks * per_task) as u64
    );
    // Generous bound for a debug build on a loaded 2-core machine.
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    eprintln!("{} protected requests in {elapsed:?}", n_tasks * per_task);
}

/// Statuses of `n` sequential protected calls of pledg under the current fault mix.
async fn statuses(sb: &Sandbox, token: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(protected_status(sb, Provider::Pledg, token).await.as_u16());
    }
    out
}

#[tokio::test]
async fn fault_mix_draws_faults_at_its_rate_reproducibly() {
    let mix = FaultMix::new(
        0.2,
        vec![Fault::status(503), Fault::status(429).retry_after_ms(10)],
    )
    .seed(42);
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sb = Sandbox::start().await.unwrap();
        let token = login_token(&sb, Provider::Pledg).await;
        sb.set_fault_mix(Provider::Pledg, Route::Protected, mix.clone())
            .unwrap();
        let s = statuses(&sb, &token, 400).await;
        let c = sb.counters().route(Provider::Pledg, Route::Protected);
        let faulted = s.iter().filter(|&&x| x != 200).count() as u64;
        assert_eq!(c.faults_served, faulted);
        // Binomial(400, 0.2): mean 80, sd 8.
        assert!((48..=112).contains(&faulted), "{faulted} faults in 400");
        assert!(s.contains(&503) && s.contains(&429), "both kinds drawn");
        assert!(s.iter().all(|x| [200, 429, 503].contains(x)));
        // Other routes are untouched.
        assert_eq!(
            login_request(&sb, Provider::Pledg)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        // Queued faults come first; clearing drops the mix too.
        sb.inject(Provider::Pledg, Route::Protected, Fault::status(500));
        assert_eq!(protected_status(&sb, Provider::Pledg, &token).await, 500);
        sb.clear_faults();
        assert!(statuses(&sb, &token, 50).await.iter().all(|&x| x == 200));
        runs.push(s);
    }
    // Same seed, same sequential requests: the same faults.
    assert_eq!(runs[0], runs[1]);

    let sb = Sandbox::start().await.unwrap();
    let token = login_token(&sb, Provider::Pledg).await;
    for (rate, want) in [(0.0, 200), (1.0, 503)] {
        sb.set_fault_mix(
            Provider::Pledg,
            Route::Protected,
            FaultMix::new(rate, vec![Fault::status(503)]),
        )
        .unwrap();
        assert!(statuses(&sb, &token, 30).await.iter().all(|&x| x == want));
    }
    for bad in [
        FaultMix::new(1.5, vec![Fault::status(503)]),
        FaultMix::new(f64::NAN, vec![Fault::status(503)]),
        FaultMix::new(0.1, vec![]),
    ] {
        assert!(matches!(
            sb.set_fault_mix(Provider::Pledg, Route::Protected, bad),
            Err(SandboxError::InvalidConfig(_))
        ));
    }
    assert!(matches!(
        sb.set_fault_mix(Provider::Pledg, Route::Refresh, mix.clone()),
        Err(SandboxError::RouteNotOffered { .. })
    ));

    // Over the control plane.
    let url = format!("{}/__sandbox/fault_mix/pledg/protected", sb.root_url());
    let r = client()
        .post(&url)
        .json(&json!({"rate": 1.0, "faults": [{"status": 502}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(protected_status(&sb, Provider::Pledg, &token).await, 502);
    let r = client()
        .post(&url)
        .json(&json!({"rate": 2, "faults": [{"status": 502}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client()
        .post(format!(
            "{}/__sandbox/fault_mix/pledg/refresh",
            sb.root_url()
        ))
        .json(&json!({"rate": 0.5, "faults": [{"status": 502}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// `exp` is whole seconds: rounding the issue time down made a token live up to a second
/// less than configured (a "2 s" token lived 1-2 s).
#[tokio::test]
async fn tokens_live_at_least_their_configured_lifetime() {
    let sb = Sandbox::start().await.unwrap();
    // Put the sandbox clock half-way through a second.
    let ms = sb.now().timestamp_subsec_millis() as u64;
    sb.advance_clock(Duration::from_millis(1500 - ms));
    let before = sb.now();
    let t = login_token(&sb, Provider::Pledg).await;
    let c = sandbox::peek_claims(&t).unwrap();
    let exp_ms = c["exp"].as_i64().unwrap() * 1000;
    let lifetime_ms = sb
        .config()
        .provider::<PledgConfig>()
        .token_lifetime
        .as_millis() as i64;
    assert!(
        exp_ms >= before.timestamp_millis() + lifetime_ms,
        "exp {exp_ms} < issued ({}) + {lifetime_ms} ms",
        before.timestamp_millis()
    );
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 600);
}
