//! `cargo xtask demo`: the embedded sandbox and the five SDKs, each
//! through one real typed operation of its spec, over the whole token
//! lifecycle, with a table of what happened.

use std::time::Duration;

use sandbox::{Fault, Provider, Route};
use workspace_tests::support::{AnyClient, Env};

/// Where each provider's token is due for a proactive refresh (its lead,
/// jitter included, has started by then).
fn due(p: Provider) -> Duration {
    match p {
        Provider::Exirom => Duration::from_secs(29 * 24 * 3600 + 12 * 3600),
        Provider::Institution | Provider::Axept => Duration::from_secs(26 * 60),
        Provider::Pledg => Duration::from_secs(510),
        Provider::Bursagb => Duration::from_secs(51 * 60),
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{}h {}min", s / 3600, s % 3600 / 60),
        s => format!("{}min {}s", s / 60, s % 60),
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
    for _ in 0..200 {
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

#[tokio::main]
async fn main() {
    let env = Env::start().await;
    println!(
        "sandbox: {} (all five providers, in-process)\n",
        env.sandbox.root_url()
    );
    let mut rows = Vec::new();
    for p in Provider::ALL {
        let client = env.client(p);
        let (mut calls, mut ok) = (0u32, 0u32);
        let mut call = |out: workspace_tests::support::Outcome| {
            calls += 1;
            ok += u32::from(out.ok());
            out
        };
        let say = |what: &str| println!("  {:<12} {what}", p.as_str());

        // 1. Login once, then reuse the cached token (pledg's purchase link
        //    is signed with the merchant's key instead: no token at all).
        let (operation, route, _) = client.operation(&env.sandbox).await;
        say(&format!("operation: {operation} ({route})"));
        call(client.operation(&env.sandbox).await.2);
        for _ in 1..20 {
            call(client.operation(&env.sandbox).await.2);
        }
        say(&format!("20 calls, {} login", env.logins(p)));

        // 2. Proactive refresh: move time into the refresh window.
        let first = client.bearer().await.map(|t| t.id()).unwrap_or(0);
        env.advance(due(p));
        call(client.operation(&env.sandbox).await.2);
        let refreshed = wait_for_new_token(&client, first).await;
        say(&format!(
            "clock +{}: refreshed in the background before expiry: {refreshed}",
            human(due(p))
        ));

        // 3. Institution: expire the access token; the refresh token rotates.
        if p == Provider::Institution {
            env.advance(Duration::from_secs(31 * 60));
            call(client.operation(&env.sandbox).await.2);
            say(&format!(
                "access token expired: refresh-token exchanges so far {}",
                env.refreshes(p)
            ));
        }

        // 4. 401 recovery: the provider revokes the token mid-flight.
        if let Ok(t) = client.bearer().await {
            env.sandbox.revoke_token(t.secret().expose());
        }
        let out = call(client.operation(&env.sandbox).await.2);
        say(&format!(
            "token revoked: call ok={} after {} attempts",
            out.ok(),
            out.attempts
        ));

        // 5. A 503 on the next call is retried where that is safe: GETs and
        //    exirom's payment (its `requestId` is an idempotency key). The
        //    institution and pledg POSTs are not retried, so the 503 goes to
        //    a hand-made GET there.
        let out = if matches!(p, Provider::Institution | Provider::Pledg) {
            env.sandbox.inject(p, Route::Protected, Fault::status(503));
            call(client.protected().await)
        } else {
            env.sandbox.inject(p, route, Fault::status(503));
            call(client.operation(&env.sandbox).await.2)
        };
        say(&format!(
            "503 injected: call ok={} after {} attempts",
            out.ok(),
            out.attempts
        ));

        let m = client.metrics();
        rows.push(Row {
            provider: p,
            calls,
            ok,
            logins: env.logins(p),
            refreshes: env.refreshes(p),
            recoveries: m.reauthentications,
            retries: m.retries,
            unauthorized: env.unauthorized(p),
        });
        println!();
    }

    println!(
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
    for r in &rows {
        println!(
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
    }
    let failed: u32 = rows.iter().map(|r| r.calls - r.ok).sum();
    println!(
        "\n{} calls, {} failed.",
        rows.iter().map(|r| r.calls).sum::<u32>(),
        failed
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
