//! `cargo xtask demo`: the embedded sandbox and every provider's SDK over
//! the whole token lifecycle, each step printed with what it expects — and
//! checked: a step that does not happen prints `FAILED`, and the demo
//! exits non-zero (`tests/demo.rs` runs it in `cargo xtask test`).
//!
//! The clock moves by the runtime's own schedule (the cached token's
//! refresh time), never by a constant: the refresh falls anywhere in the
//! jittered lead, and a fixed step was on the wrong side of it in about
//! half the runs.

use std::io::Write;
use std::time::Duration;

use payauth_runtime::Clock as _;
use payauth_runtime::descriptor::{CallAuth, Descriptor, human_duration};
use payauth_sandbox::{Fault, Provider, Route};

use crate::support::{self, AnyClient, Env, Outcome, fast_retries};
use crate::telemetry_summary::InMemoryTelemetry;

/// What a demo run found.
#[derive(Debug, Default)]
pub struct Report {
    pub calls: u32,
    pub failed_calls: u32,
    pub checks: u32,
    pub failed_checks: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failed_calls == 0 && self.failed_checks.is_empty()
    }
}

struct Row {
    provider: Provider,
    calls: u32,
    ok: u32,
    logins: u64,
    refreshes: u64,
    recoveries: u64,
    retries: u64,
    unauthorized: u64,
}

async fn wait_for_new_token(client: &AnyClient, old: u64) -> bool {
    for _ in 0..300 {
        if client
            .bearer()
            .await
            .map(|t| t.id() != old)
            .unwrap_or(false)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// The bearer-authenticated call each provider's lifecycle is shown with:
/// its descriptor's example where that takes a bearer token; otherwise
/// (pledg's typed purchase link is signed, with no token) the hand-made
/// `send` path.
async fn bearer_call(env: &Env, client: &AnyClient) -> (String, Outcome) {
    if client.descriptor().about.example.auth == CallAuth::Bearer {
        let (operation, route, out) = client.operation(&env.sandbox).await;
        (format!("{operation} ({route})"), out)
    } else {
        (
            "GET /sandbox/protected (hand-made `send`, bearer)".to_string(),
            client.protected().await,
        )
    }
}

/// Whether the demo shows `d`'s example as a call with no token (step 1b).
fn example_without_token(d: &Descriptor) -> bool {
    d.about.example.auth != CallAuth::Bearer
}

/// Whether a 503 on the bearer call is retried (step 5): its example is a
/// bearer call that is safe to repeat; otherwise the 503 goes to a GET.
fn example_retried(d: &Descriptor) -> bool {
    d.about.example.auth == CallAuth::Bearer && d.about.example.retry_safe
}

/// The checks a run makes, from the descriptors: per provider, cached
/// calls, refresh, 401 and 503, its telemetry against the counters, plus
/// the example without a token and the refresh token where they apply.
pub fn expected_checks() -> u32 {
    support::providers()
        .map(|p| {
            let d = support::descriptor(p);
            5 + u32::from(example_without_token(d)) + u32::from(d.about.lifetimes.refresh.is_some())
        })
        .sum()
}

struct Run<'a> {
    out: &'a mut dyn Write,
    report: Report,
    /// The provider whose steps are printed.
    name: &'static str,
    calls: u32,
    ok: u32,
}

impl Run<'_> {
    fn call(&mut self, out: Outcome) -> Outcome {
        self.calls += 1;
        self.ok += u32::from(out.ok());
        out
    }

    /// One line: what happened, and whether it is what was expected.
    fn check(&mut self, expected: bool, line: String) {
        self.report.checks += 1;
        let mark = if expected { "ok    " } else { "FAILED" };
        let _ = writeln!(self.out, "  {mark} {:<12} {line}", self.name);
        if !expected {
            self.report
                .failed_checks
                .push(format!("{}: {line}", self.name));
        }
    }

    fn say(&mut self, line: String) {
        let _ = writeln!(self.out, "         {:<12} {line}", self.name);
    }
}

/// The OpenTelemetry metrics the run produced, one row per provider crate,
/// each checked against the SDK's own counters and the sandbox's.
fn telemetry_summary(
    out: &mut dyn Write,
    report: &mut Report,
    rows: &[Row],
    otel: &InMemoryTelemetry,
) {
    let summary = otel.summary();
    let _ = writeln!(
        out,
        "\nOpenTelemetry metrics (one instrumentation scope per provider crate):\n{:<12} {:>9} {:>8} {:>12} {:>6} {:>6} {:>10} {:>8} {:>8}",
        "scope",
        "requests",
        "mean ms",
        "fetches l/r",
        "hits",
        "waits",
        "proactive",
        "401 ok",
        "retries"
    );
    for r in rows {
        let name = r.provider.as_str();
        let s = summary.get(name).copied().unwrap_or_default();
        let mean_ms = 1000.0 * s.request_seconds / (s.requests.max(1) as f64);
        let _ = writeln!(
            out,
            "{:<12} {:>9} {:>8.2} {:>12} {:>6} {:>6} {:>10} {:>8} {:>8}",
            name,
            s.requests,
            mean_ms,
            format!("{}/{}", s.fetch_logins, s.fetch_refreshes),
            s.hits,
            s.waits,
            s.proactive,
            s.reauthentications,
            s.retries
        );
        // Every operation and every auth call is a request; the fetches
        // are the provider's auth calls; the counters agree.
        let agrees = s.requests >= u64::from(r.calls) + r.logins + r.refreshes
            && s.fetch_logins == r.logins
            && s.fetch_refreshes == r.refreshes
            && s.reauthentications == r.recoveries
            && s.retries == r.retries
            && s.hits > 0;
        report.checks += 1;
        if !agrees {
            report.failed_checks.push(format!(
                "{name}: telemetry disagrees with the counters: {s:?} vs calls {}, logins {}, refreshes {}, recoveries {}, retries {}",
                r.calls, r.logins, r.refreshes, r.recoveries, r.retries
            ));
        }
        let mark = if agrees { "ok    " } else { "FAILED" };
        let _ = writeln!(
            out,
            "  {mark} {name:<12} telemetry matches the counters: {} requests >= {} calls + {} auth calls; fetches {}/{} = logins/refreshes; 401 renewals {}; retries {}",
            s.requests,
            r.calls,
            r.logins + r.refreshes,
            s.fetch_logins,
            s.fetch_refreshes,
            s.reauthentications,
            s.retries
        );
    }
}

/// Run the demo, writing to `out`.
pub async fn run(out: &mut dyn Write) -> Report {
    let env = Env::start().await;
    // The application's OpenTelemetry, in memory: summed up at the end.
    let otel = InMemoryTelemetry::default();
    let _ = writeln!(
        out,
        "sandbox: {} (all {} providers, in-process; simulated clock)\n",
        env.sandbox.root_url(),
        support::providers().count()
    );
    let mut rows = Vec::new();
    let mut run = Run {
        out,
        report: Report::default(),
        name: "",
        calls: 0,
        ok: 0,
    };
    for p in support::providers() {
        let d = support::descriptor(p);
        run.name = d.name;
        run.calls = 0;
        run.ok = 0;
        let client = env.client_reporting(p, fast_retries(), otel.telemetry());

        // 1. Login once, then reuse the cached token.
        let (label, first_call) = bearer_call(&env, &client).await;
        run.say(format!("bearer call: {label}"));
        let mut all_ok = run.call(first_call).ok();
        for _ in 1..20 {
            all_ok &= run.call(bearer_call(&env, &client).await.1).ok();
        }
        let logins = env.logins(p);
        run.check(
            all_ok && logins == 1,
            format!(
                "20 calls, all ok: {all_ok}; logins: {logins} (expected 1: the token is cached)"
            ),
        );

        // An example with no token at all (pledg's signed purchase link).
        if example_without_token(d) {
            let (operation, _, out) = client.operation(&env.sandbox).await;
            let ok = run.call(out).ok();
            let logins_after = env.logins(p);
            run.check(
                ok && logins_after == logins,
                format!(
                    "{operation} ({:?}, no token): ok {ok}, no login ({logins_after} in all)",
                    d.about.example.auth
                ),
            );
        }

        // 2. Proactive refresh: the clock moves to the token's own refresh
        //    time (lead and jitter as the runtime chose them), plus a second.
        let Ok(first) = client.bearer().await else {
            run.check(false, "a cached token to refresh".into());
            continue;
        };
        let until_refresh = first
            .refresh_at()
            .saturating_duration_since(env.clock.now());
        let lifetime = first.lifetime();
        env.advance(until_refresh + Duration::from_secs(1));
        let ok = run.call(bearer_call(&env, &client).await.1).ok();
        let refreshed = wait_for_new_token(&client, first.id()).await;
        let unauthorized = env.unauthorized(p);
        run.check(
            ok && refreshed && unauthorized == 0,
            format!(
                "clock +{} (the token's refresh time, {:.1} % of its {} life): refreshed in the background before expiry, no 401",
                human_duration(until_refresh + Duration::from_secs(1)),
                100.0 * until_refresh.as_secs_f64() / lifetime.as_secs_f64().max(1.0),
                human_duration(lifetime),
            ),
        );

        // 3. A provider with refresh tokens (institution): the access token
        //    expires; the refresh token (rotated on every use) gets the
        //    next one, with no new login.
        if d.about.lifetimes.refresh.is_some() {
            let refreshes = env.refreshes(p);
            let past_expiry = match client.bearer().await {
                Ok(t) => t.deadline().saturating_duration_since(env.clock.now()),
                Err(_) => lifetime,
            } + Duration::from_secs(60);
            env.advance(past_expiry);
            let ok = run.call(bearer_call(&env, &client).await.1).ok();
            let now = env.refreshes(p);
            run.check(
                ok && now > refreshes && env.logins(p) == 1,
                format!(
                    "clock +{} (access token expired): call ok {ok}; refresh-token exchanges {refreshes} → {now}, logins still {}",
                    human_duration(past_expiry),
                    env.logins(p)
                ),
            );
        }

        // 4. 401 recovery: the provider revokes the token mid-flight.
        let recoveries = client.metrics().reauthentications;
        if let Ok(t) = client.bearer().await {
            env.sandbox.revoke_token(t.secret().expose());
        }
        let out = run.call(bearer_call(&env, &client).await.1);
        let recovered = client.metrics().reauthentications - recoveries;
        run.check(
            out.ok() && out.attempts == 2 && recovered == 1,
            format!(
                "token revoked at the provider: call ok {} after {} attempts (expected 2: one 401, one new token)",
                out.ok(),
                out.attempts
            ),
        );

        // 5. A 503 is retried where that is safe: GETs and exirom's payment
        //    (its `requestId` is an idempotency key). A POST that is not
        //    safe to repeat (institution's) is not retried, so its 503 goes
        //    to a hand-made GET.
        let out = if example_retried(d) {
            env.sandbox
                .inject(p, client.operation_route(), Fault::status(503));
            run.call(bearer_call(&env, &client).await.1)
        } else {
            env.sandbox.inject(p, Route::Protected, Fault::status(503));
            run.call(client.protected().await)
        };
        run.check(
            out.ok() && out.attempts == 2,
            format!(
                "503 injected: call ok {} after {} attempts (expected 2: retried once)",
                out.ok(),
                out.attempts
            ),
        );

        let m = client.metrics();
        rows.push(Row {
            provider: p,
            calls: run.calls,
            ok: run.ok,
            logins: env.logins(p),
            refreshes: env.refreshes(p),
            recoveries: m.reauthentications,
            retries: m.retries,
            unauthorized: env.unauthorized(p),
        });
        let _ = writeln!(run.out);
    }

    let out = run.out;
    let _ = writeln!(
        out,
        "{:<12} {:>6} {:>4} {:>7} {:>10} {:>11} {:>8} {:>10} {:>11}",
        "provider",
        "calls",
        "ok",
        "logins",
        "refreshes",
        "auth calls",
        "retries",
        "401 seen",
        "recoveries"
    );
    let mut report = run.report;
    for r in &rows {
        let _ = writeln!(
            out,
            "{:<12} {:>6} {:>4} {:>7} {:>10} {:>11} {:>8} {:>10} {:>11}",
            r.provider.as_str(),
            r.calls,
            r.ok,
            r.logins,
            r.refreshes,
            r.logins + r.refreshes,
            r.retries,
            r.unauthorized,
            r.recoveries
        );
        report.calls += r.calls;
        report.failed_calls += r.calls - r.ok;
    }
    telemetry_summary(out, &mut report, &rows, &otel);
    let _ = writeln!(
        out,
        "\n{} calls, {} failed; {} checks, {} failed.",
        report.calls,
        report.failed_calls,
        report.checks,
        report.failed_checks.len()
    );
    for failed in &report.failed_checks {
        let _ = writeln!(out, "FAILED: {failed}");
    }
    env.sandbox.shutdown().await;
    report
}
