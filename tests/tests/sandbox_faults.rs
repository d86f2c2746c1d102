//! Sandbox fault injection, counters, clock, control plane, load.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use payauth_sandbox::{Fault, FaultMix, PledgConfig, Provider, Route, Sandbox, SandboxError};
use serde_json::{Value, json};
use workspace_tests::raw::{
    Control, Sent as _, http, login_request, login_token, protected_status, url,
};

const PLEDG: Provider = Provider::Pledg;

async fn start() -> Sandbox {
    Sandbox::start().await.expect("sandbox starts")
}

/// The status of pledg's login, sent now.
async fn pledg_login(sb: &Sandbox) -> u16 {
    login_request(sb, PLEDG).status().await
}

#[tokio::test]
async fn status_fault_with_retry_after_is_fifo_and_one_shot() {
    let sb = start().await;
    let at = SystemTime::now() + Duration::from_secs(120);
    for fault in [
        Fault::status(503).retry_after_secs(2),
        Fault::status(429).retry_after_date(at),
        Fault::status(500).retry_after_ms(250),
    ] {
        sb.inject(PLEDG, Route::Login, fault);
    }

    let r = login_request(&sb, PLEDG).answer().await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "2");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "temporarily_unavailable");

    let r = login_request(&sb, PLEDG).answer().await;
    assert_eq!(r.status(), 429);
    let date = httpdate::parse_http_date(r.headers()["retry-after"].to_str().unwrap()).unwrap();
    let diff = date
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .as_secs();
    assert!((100..=121).contains(&diff), "{diff}");

    let r = login_request(&sb, PLEDG).answer().await;
    assert_eq!(r.status(), 500);
    assert_eq!(r.headers()["retry-after-ms"], "250");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "server_error");

    // Queue drained: back to normal.
    assert_eq!(pledg_login(&sb).await, 200);
    let c = sb.counters().route(PLEDG, Route::Login);
    assert_eq!((c.requests, c.faults_served, c.logins), (4, 3, 1));

    // Error bodies keep each provider's own format.
    sb.inject(Provider::Institution, Route::Login, Fault::status(503));
    let v = login_request(&sb, Provider::Institution).json_body().await;
    assert_eq!(v["errors"][0]["code"], "SERVICE_UNAVAILABLE");
    sb.inject(Provider::Axept, Route::Login, Fault::status(500));
    let v = login_request(&sb, Provider::Axept).json_body().await;
    assert!(v["message"].is_string());
    let (p, r) = (Provider::Bursagb, Route::SupplierProductsList);
    sb.inject(p, r, Fault::status(401));
    let r = http().post(url(&sb, p, r)).json(&json!({})).answer().await;
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], -23);
}

#[tokio::test]
async fn faults_are_per_route() {
    let sb = start().await;
    let t = login_token(&sb, PLEDG).await;
    sb.inject(PLEDG, Route::Protected, Fault::status(502));
    // Login is unaffected, the protected call takes the fault.
    let _ = login_token(&sb, PLEDG).await;
    assert_eq!(protected_status(&sb, PLEDG, &t).await, 502);
    assert_eq!(protected_status(&sb, PLEDG, &t).await, 200);
    assert!(
        sb.try_inject(PLEDG, Route::Refresh, Fault::status(500))
            .is_err()
    );
}

#[tokio::test]
async fn latency_fault_delays_the_response() {
    let sb = start().await;
    let axept_login = |latency_ms| {
        sb.inject(
            Provider::Axept,
            Route::Login,
            Fault::latency(Duration::from_millis(latency_ms)),
        );
        login_request(&sb, Provider::Axept)
    };
    let start = Instant::now();
    assert_eq!(axept_login(400).status().await, 200);
    assert!(start.elapsed() >= Duration::from_millis(400));
    // A client timeout shorter than the latency fires.
    let err = axept_login(800)
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn dropped_connection_is_a_transport_error() {
    let sb = start().await;
    sb.inject(PLEDG, Route::Login, Fault::drop_connection());
    let err = login_request(&sb, PLEDG).send().await.unwrap_err();
    assert!(err.status().is_none(), "{err:?}");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    // The next request is served normally.
    assert_eq!(pledg_login(&sb).await, 200);
    let c = sb.counters().route(PLEDG, Route::Login);
    assert_eq!((c.requests, c.faults_served, c.logins), (2, 1, 1));

    // Same on a kept-alive connection of a shared client.
    let c = http();
    let u = url(&sb, Provider::Exirom, Route::Protected);
    assert_eq!(c.get(&u).status().await, 401);
    sb.inject(Provider::Exirom, Route::Protected, Fault::drop_connection());
    let err = c.get(&u).send().await.unwrap_err();
    assert!(err.status().is_none(), "{err:?}");
    assert_eq!(c.get(&u).status().await, 401);
}

#[tokio::test]
async fn truncated_body_fails_while_reading() {
    let sb = start().await;
    sb.inject(Provider::Institution, Route::Login, Fault::truncated_body());
    let r = login_request(&sb, Provider::Institution).answer().await;
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
    let sb = start().await;
    let p = Provider::Exirom;
    sb.inject(p, Route::Login, Fault::malformed_body());
    let r = http()
        .post(url(&sb, p, Route::Login))
        .json(&json!({"merchantKey": "sbx-exirom-merchant-key", "merchantSecret": "sbx-exirom-merchant-secret"}))
        .answer()
        .await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert_eq!(sb.counters().logins(p), 0);
}

#[tokio::test]
async fn wrong_content_type_keeps_the_body() {
    let sb = start().await;
    sb.inject(Provider::Axept, Route::Login, Fault::wrong_content_type());
    let r = login_request(&sb, Provider::Axept).answer().await;
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
    let sb = start().await;
    sb.inject(PLEDG, Route::Login, Fault::token_without_exp());
    let t = login_token(&sb, PLEDG).await;
    let c = payauth_sandbox::peek_claims(&t).unwrap();
    assert!(c.get("exp").is_none() && c["iat"].is_i64());
    assert_eq!(protected_status(&sb, PLEDG, &t).await, 200);

    sb.inject(PLEDG, Route::Login, Fault::expired_token());
    let t = login_token(&sb, PLEDG).await;
    let exp = payauth_sandbox::peek_claims(&t).unwrap()["exp"]
        .as_i64()
        .unwrap();
    assert!(exp < sb.now().timestamp());
    assert_eq!(protected_status(&sb, PLEDG, &t).await, 401);

    // institution: expiresIn follows the token (absolute, in the past).
    let institution_login = |fault| {
        sb.inject(Provider::Institution, Route::Login, fault);
        login_request(&sb, Provider::Institution).json_body()
    };
    let v = institution_login(Fault::expired_token()).await;
    let access = v["data"]["accessToken"].as_str().unwrap();
    assert_eq!(
        payauth_sandbox::peek_claims(access).unwrap()["exp"],
        v["data"]["expiresIn"]
    );
    assert!(v["data"]["expiresIn"].as_i64().unwrap() < sb.now().timestamp());

    let v = institution_login(Fault::token_without_exp()).await;
    let access = v["data"]["accessToken"].as_str().unwrap();
    assert!(
        payauth_sandbox::peek_claims(access)
            .unwrap()
            .get("exp")
            .is_none()
    );
    assert!(v["data"]["expiresIn"].as_i64().unwrap() > sb.now().timestamp());
}

#[tokio::test]
async fn concurrent_logins_are_counted() {
    let sb = start().await;
    for (p, n) in [(PLEDG, 50), (Provider::Institution, 8)] {
        let tasks: Vec<_> = (0..n)
            .map(|_| tokio::spawn(login_request(&sb, p).status()))
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), 200);
        }
    }
    let c = sb.counters();
    assert_eq!(c.logins(PLEDG), 50);
    assert_eq!(c.logins_by(PLEDG, "sbx_pledg_api_key"), 50);
    assert_eq!(c.logins(Provider::Institution), 8);
    assert_eq!(c.route(PLEDG, Route::Login).requests, 50);

    let t = login_token(&sb, PLEDG).await;
    assert_eq!(protected_status(&sb, PLEDG, &t).await, 200);
    assert_eq!(protected_status(&sb, PLEDG, "junk").await, 401);
    let c = sb.counters();
    assert_eq!(c.authenticated(PLEDG), 1);
    assert_eq!(c.unauthorized(PLEDG), 1);
    assert_eq!(c.refreshes(Provider::Institution), 0);
    sb.reset_counters();
    assert_eq!(
        sb.counters().total(),
        payauth_sandbox::RouteCounters::default()
    );
}

#[tokio::test]
async fn clock_is_shared_and_moves_forward() {
    let sb = start().await;
    let offset = sb.clock_offset();
    let before = sb.now();
    sb.advance_clock(Duration::from_secs(3600));
    assert_eq!(offset.load(Ordering::Relaxed), 3_600_000);
    let diff = sb.now() - before;
    assert!(diff >= chrono::Duration::seconds(3600) && diff < chrono::Duration::seconds(3700));
    // Tokens are issued on the sandbox clock.
    let t = login_token(&sb, PLEDG).await;
    let iat = payauth_sandbox::peek_claims(&t).unwrap()["iat"]
        .as_i64()
        .unwrap();
    assert!((iat - sb.now().timestamp()).abs() <= 2);
}

#[tokio::test]
async fn control_plane_over_http() {
    let sb = start().await;
    let ctl = Control::of(&sb);

    // Clock.
    let t = login_token(&sb, PLEDG).await;
    let advanced = ctl.post("clock/advance").json(&json!({"seconds": 601}));
    assert_eq!(advanced.status().await, 200);
    assert_eq!(protected_status(&sb, PLEDG, &t).await, 401);

    // Revoke.
    let t = login_token(&sb, PLEDG).await;
    let revoked = ctl.post("revoke").json(&json!({"token": t}));
    assert_eq!(revoked.status().await, 200);
    assert_eq!(protected_status(&sb, PLEDG, &t).await, 401);

    // Rotate.
    let old = sb.credentials(PLEDG);
    let new = ctl.post("rotate/pledg").json_body().await;
    assert_eq!(new["provider"], "pledg");
    assert_ne!(serde_json::to_value(&old).unwrap(), new);
    let stale_login = http()
        .post(url(&sb, PLEDG, Route::Login))
        .basic_auth(old.text("api_key"), Some(old.text("api_secret")))
        .form(&[("grant_type", "client_credentials")]);
    assert_eq!(stale_login.status().await, 401);
    assert_eq!(pledg_login(&sb).await, 200);

    // Variant.
    let variant = ctl
        .post("variant")
        .json(&json!({"variant": "axept_pascal"}));
    assert_eq!(variant.status().await, 200);
    let v = login_request(&sb, Provider::Axept).json_body().await;
    assert!(v["Token"].is_string());

    // Fault.
    let fault = |target: &str, fault: Value| ctl.post(&format!("fault/{target}")).json(&fault);
    let set = fault(
        "axept/login",
        json!({"status": 503, "retry_after": 7, "retry_after_ms": 7000}),
    );
    assert_eq!(set.status().await, 200);
    let r = login_request(&sb, Provider::Axept).answer().await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(r.headers()["retry-after-ms"], "7000");
    let set = fault("pledg/login", json!({"drop_connection": true}));
    assert_eq!(set.status().await, 200);
    assert!(login_request(&sb, PLEDG).send().await.is_err());
    let set = fault("pledg/login", json!({"latency_ms": 300}));
    assert_eq!(set.status().await, 200);
    let start = Instant::now();
    assert_eq!(pledg_login(&sb).await, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));

    // Counters.
    let v = ctl.get("counters").json_body().await;
    let counters: payauth_sandbox::Counters = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(counters, sb.counters());
    assert!(v["routes"]["pledg"]["login"]["logins"].as_u64().unwrap() >= 3);
    assert_eq!(ctl.post("counters/reset").status().await, 200);
    assert_eq!(sb.counters().total().requests, 0);

    // Signing secrets, per provider: the handle's, 404 for a provider that signs nothing.
    let mut signers = Vec::new();
    for p in Provider::all() {
        let answer = ctl.get(&format!("signing/{p}")).answer().await;
        match sb.signing_secret(p) {
            Some(secret) => {
                assert_eq!(answer.status(), 200, "{p}");
                let v: Value = answer.json().await.unwrap();
                assert_eq!(v, json!({"provider": p, "secret": secret}));
                signers.push(p);
            }
            None => assert_eq!(answer.status(), 404, "{p}"),
        }
    }
    assert_eq!(signers, [Provider::Exirom, PLEDG]);
    // pledg's is the secret key the older answer shows; exirom's its merchant secret,
    // rotated with its credentials.
    let secret = ctl.get("signing/pledg").json_body().await["secret"].clone();
    assert_eq!(secret, sb.pledg_secret_key());
    assert_eq!(
        ctl.get("signing").json_body().await["pledg_secret_key"],
        secret
    );
    let rotated = ctl.post("rotate/exirom").json_body().await;
    let secret = ctl.get("signing/exirom").json_body().await["secret"].clone();
    assert_eq!(secret, rotated["merchant_secret"]);

    // Errors of the control plane itself.
    assert_eq!(ctl.post("rotate/nobody").status().await, 400);
    assert_eq!(ctl.get("signing/nobody").status().await, 400);
    let no_route = fault("pledg/orders_create", json!({"status": 500}));
    assert_eq!(no_route.status().await, 404);
    let not_a_status = fault("pledg/login", json!({"status": "x"}));
    assert_eq!(not_a_status.status().await, 400);
    assert_eq!(ctl.get("nothing").status().await, 404);
}

#[tokio::test]
async fn shutdown_releases_the_port() {
    let sb = start().await;
    let addr = sb.local_addr();
    assert_eq!(pledg_login(&sb).await, 200);
    sb.clone().shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// Thousands of authenticated requests on 2 cores: the sandbox must not be the bottleneck.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_thousands_of_requests() {
    let sb = start().await;
    let token = login_token(&sb, PLEDG).await;
    let c = http();
    let url = url(&sb, PLEDG, Route::Protected);
    let n_tasks = 32;
    let per_task = 100;
    let start = Instant::now();
    let tasks: Vec<_> = (0..n_tasks)
        .map(|_| {
            let (c, url, token) = (c.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                for _ in 0..per_task {
                    assert_eq!(c.get(&url).bearer_auth(&token).status().await, 200);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    assert_eq!(
        sb.counters().authenticated(PLEDG),
        (n_tasks * per_task) as u64
    );
    // Generous bound for a debug build on a loaded 2-core machine.
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    eprintln!("{} protected requests in {elapsed:?}", n_tasks * per_task);
}

/// Statuses of `n` sequential protected calls of pledg under the current fault mix.
/// `n` protected requests in a row, their statuses. One HTTP client for
/// all of them: building one (its TLS roots) costs more than a request.
async fn statuses(sb: &Sandbox, token: &str, n: usize) -> Vec<u16> {
    let client = http();
    let url = url(sb, PLEDG, Route::Protected);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(client.get(&url).bearer_auth(token).status().await);
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
        let sb = start().await;
        let token = login_token(&sb, PLEDG).await;
        sb.set_fault_mix(PLEDG, Route::Protected, mix.clone())
            .unwrap();
        let s = statuses(&sb, &token, 400).await;
        let c = sb.counters().route(PLEDG, Route::Protected);
        let faulted = s.iter().filter(|&&x| x != 200).count() as u64;
        assert_eq!(c.faults_served, faulted);
        // Binomial(400, 0.2): mean 80, sd 8.
        assert!((48..=112).contains(&faulted), "{faulted} faults in 400");
        assert!(s.contains(&503) && s.contains(&429), "both kinds drawn");
        assert!(s.iter().all(|x| [200, 429, 503].contains(x)));
        // Other routes are untouched.
        assert_eq!(pledg_login(&sb).await, 200);
        // Queued faults come first; clearing drops the mix too.
        sb.inject(PLEDG, Route::Protected, Fault::status(500));
        assert_eq!(protected_status(&sb, PLEDG, &token).await, 500);
        sb.clear_faults();
        assert!(statuses(&sb, &token, 50).await.iter().all(|&x| x == 200));
        runs.push(s);
    }
    // Same seed, same sequential requests: the same faults.
    assert_eq!(runs[0], runs[1]);

    let sb = start().await;
    let token = login_token(&sb, PLEDG).await;
    for (rate, want) in [(0.0, 200), (1.0, 503)] {
        sb.set_fault_mix(
            PLEDG,
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
            sb.set_fault_mix(PLEDG, Route::Protected, bad),
            Err(SandboxError::InvalidConfig(_))
        ));
    }
    assert!(matches!(
        sb.set_fault_mix(PLEDG, Route::Refresh, mix.clone()),
        Err(SandboxError::RouteNotOffered { .. })
    ));

    // Over the control plane.
    let ctl = Control::of(&sb);
    let set_mix =
        |route: &str, mix: Value| ctl.post(&format!("fault_mix/pledg/{route}")).json(&mix);
    let all_502 = set_mix(
        "protected",
        json!({"rate": 1.0, "faults": [{"status": 502}]}),
    );
    assert_eq!(all_502.status().await, 200);
    assert_eq!(protected_status(&sb, PLEDG, &token).await, 502);
    let bad_rate = set_mix("protected", json!({"rate": 2, "faults": [{"status": 502}]}));
    assert_eq!(bad_rate.status().await, 400);
    let no_route = set_mix("refresh", json!({"rate": 0.5, "faults": [{"status": 502}]}));
    assert_eq!(no_route.status().await, 404);
}

/// `exp` is whole seconds: rounding the issue time down made a token live up to a second
/// less than configured (a "2 s" token lived 1-2 s).
#[tokio::test]
async fn tokens_live_at_least_their_configured_lifetime() {
    let sb = start().await;
    // Put the sandbox clock half-way through a second.
    let ms = sb.now().timestamp_subsec_millis() as u64;
    sb.advance_clock(Duration::from_millis(1500 - ms));
    let before = sb.now();
    let t = login_token(&sb, PLEDG).await;
    let c = payauth_sandbox::peek_claims(&t).unwrap();
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
