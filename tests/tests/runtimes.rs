//! One process, many runtimes, many clients — as applications are built:
//! a runtime per test or per call, several clients of one account with
//! different HTTP settings. The provider runs on a long-lived runtime of
//! its own; each SDK call runs on a runtime made for it. The SDK is used
//! as an application uses it: `pledg::builder()`, the default shared cache.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use payauth_runtime::{Clock, OffsetClock, Secret};
use payauth_sandbox::{Provider, Sandbox};
use tokio::runtime::{Builder, Runtime};
use workspace_tests::hostile::{Hostile, Reply};

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The sandbox on a runtime of its own, kept for the test.
struct Provider_ {
    _runtime: Runtime,
    sandbox: Sandbox,
    clock: Arc<dyn Clock>,
    offset: OffsetClock,
}

fn sandbox() -> Provider_ {
    let runtime = multi_thread();
    let sandbox = runtime.block_on(Sandbox::start()).expect("sandbox starts");
    let offset = OffsetClock::new(sandbox.clock_offset());
    Provider_ {
        _runtime: runtime,
        clock: Arc::new(offset.clone()),
        offset,
        sandbox,
    }
}

impl Provider_ {
    /// A pledg client as an application builds one (the default shared
    /// cache), on the clock the sandbox moves.
    fn pledg(&self) -> pledg::Client {
        let creds = self.sandbox.credentials(Provider::Pledg);
        let (api_key, api_secret) = (creds.text("api_key"), creds.text("api_secret"));
        pledg::builder()
            .base_url(self.sandbox.base_url(Provider::Pledg))
            .credentials(pledg::Credentials::new(api_key, Secret::new(api_secret)))
            .clock(Arc::clone(&self.clock))
            .build()
            .expect("client builds")
    }

    fn logins(&self) -> u64 {
        self.sandbox.counters().logins(Provider::Pledg)
    }
}

/// Row 1 of the issue, from an application: runtime A serves the cached
/// token inside its refresh window (starting the background refresh) and
/// is dropped; runtime B, clock past expiry, gets a token — every time.
#[test]
fn a_runtime_dropped_with_its_background_refresh_does_not_wedge_the_next() {
    let provider = sandbox();
    let first = current_thread()
        .block_on(provider.pledg().bearer())
        .expect("login");
    let into_window = first.refresh_at() - provider.clock.now() + Duration::from_millis(1);
    provider.sandbox.advance_clock(into_window);
    let a = current_thread();
    let served = a.block_on(provider.pledg().bearer()).expect("cached token");
    assert_eq!(served.id(), first.id(), "served from the cache");
    drop(a);
    provider.sandbox.advance_clock(first.lifetime());
    for _ in 0..5 {
        let b = current_thread();
        let t = b
            .block_on(provider.pledg().bearer())
            .expect("runtime B gets a token");
        assert_ne!(t.id(), first.id());
        assert!(provider.clock.now() < t.usable_until());
    }
}

/// 100 sequential current-thread runtimes, a client built per call, the
/// clock moving through ten token lifetimes: no error, and no more logins
/// than lifetimes plus one.
#[test]
fn a_hundred_runtimes_through_ten_lifetimes_log_in_once_per_lifetime() {
    let provider = sandbox();
    let lifetime = current_thread()
        .block_on(provider.pledg().bearer())
        .expect("login")
        .lifetime();
    let before = provider.logins();
    let mut errors = Vec::new();
    for _ in 0..100 {
        let rt = current_thread();
        if let Err(e) = rt.block_on(provider.pledg().bearer()) {
            errors.push(e.to_string());
        }
        drop(rt);
        provider.offset.advance(lifetime / 10);
    }
    assert!(errors.is_empty(), "{errors:?}");
    let logins = provider.logins() - before;
    assert!(logins <= 11, "{logins} logins in 10 lifetimes");
}

/// A token answer of the hostile provider's that the test can tell apart.
fn token_server() -> (Runtime, Hostile) {
    let runtime = multi_thread();
    let issued = Arc::new(AtomicU32::new(0));
    let hostile = runtime.block_on(Hostile::start(move |_, path| {
        if path == "/api/token" {
            let n = issued.fetch_add(1, Ordering::SeqCst);
            Reply::json(
                200,
                format!(r#"{{"access_token":"tok-{n}","token_type":"Bearer","expires_in":600}}"#),
            )
        } else {
            Reply::json(404, "{}")
        }
    }));
    (runtime, hostile)
}

/// A pledg client whose HTTP client marks every request with `x-client`.
fn marked_client(base: &str, clock: &Arc<dyn Clock>, mark: &'static str) -> pledg::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-client", reqwest::header::HeaderValue::from_static(mark));
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("http client");
    pledg::builder()
        .base_url(base)
        .credentials(pledg::Credentials::new("merchant", "api-secret"))
        .clock(Arc::clone(clock))
        .http_client(http)
        .build()
        .expect("client builds")
}

/// Two clients of one account share the cache but not their settings: a
/// login runs with the HTTP client of the client whose call triggered it,
/// and both clients report the cache's login count.
#[test]
fn a_login_runs_with_the_triggering_clients_http_client() {
    let (_rt, server) = token_server();
    let offset = OffsetClock::new(Default::default());
    let clock: Arc<dyn Clock> = Arc::new(offset.clone());
    let a = marked_client(&server.base_url(), &clock, "A");
    let b = marked_client(&server.base_url(), &clock, "B");
    let rt = current_thread();
    let t1 = rt.block_on(a.bearer()).expect("A logs in");
    let t2 = rt.block_on(b.bearer()).expect("B shares A's token");
    assert_eq!(t1.id(), t2.id(), "one cache for the principal");
    offset.advance(Duration::from_secs(601));
    rt.block_on(b.bearer()).expect("B logs in");
    let marks: Vec<_> = server
        .seen("/api/token")
        .iter()
        .map(|s| s.header("x-client").unwrap_or("none").to_string())
        .collect();
    assert_eq!(marks, ["A", "B"], "each login through its own client");
    // The cache's counters, whichever client triggered them.
    assert_eq!(a.metrics().logins, 2);
    assert_eq!(b.metrics().logins, 2);
}

/// Retries wait on the client's timer: with `SimulatedTime` as clock and
/// timer, a 503 asking for 30 s is waited out by moving time, not by
/// sleeping; and the client's fetch timeout follows its retry policy.
#[test]
fn a_retry_after_is_waited_on_the_injected_timer() {
    use payauth_runtime::{RetryPolicy, SimulatedTime};
    let runtime = multi_thread();
    let calls = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&calls);
    let server = runtime.block_on(Hostile::start(move |_, path| match path {
        "/api/token" => Reply::json(
            200,
            r#"{"access_token":"tok","token_type":"Bearer","expires_in":600}"#,
        ),
        _ if seen.fetch_add(1, Ordering::SeqCst) == 0 => {
            Reply::empty(503, &[("retry-after", "30")])
        }
        _ => Reply::json(200, "{}"),
    }));
    let time = SimulatedTime::new();
    let policy = RetryPolicy::default().attempt_timeout(Duration::from_secs(5));
    let client = pledg::builder()
        .base_url(server.base_url())
        .credentials(pledg::Credentials::new("merchant", "api-secret"))
        .clock(Arc::new(time.clone()))
        .sleep(Arc::new(time.clone()))
        .retry_policy(policy.clone())
        .build()
        .expect("client builds");
    assert_eq!(client.connect().fetch_timeout(), policy.fetch_timeout());
    // (3 attempts × 5 s + 30 s of waits) × 2 calls.
    assert_eq!(client.connect().fetch_timeout(), Duration::from_secs(90));
    let call = std::thread::spawn(move || {
        current_thread().block_on(async {
            let response = client
                .send(client.request(reqwest::Method::GET, "/api/status"))
                .await?;
            Ok::<_, payauth_runtime::Error>(response.status().as_u16())
        })
    });
    // The call waits on simulated time for exactly what the server asked
    // (once the login, bounded by the fetch timeout, is over).
    let asked = Some(Duration::from_secs(30));
    let started = std::time::Instant::now();
    while time.next_wake() != asked {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never waited: {:?}",
            time.next_wake()
        );
        std::thread::yield_now();
    }
    time.advance(Duration::from_secs(30));
    let status = call
        .join()
        .expect("call thread")
        .expect("the retry succeeds");
    assert_eq!(status, 200);
    assert_eq!(server.hits("/api/status"), 2);
}
