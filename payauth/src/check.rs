//! `payauth check` and `payauth token`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use auth_runtime::Token;
use auth_runtime::descriptor::{Descriptor, DynClient};
use payauth::providers;
use serde_json::{Value, json};

use crate::{EXIT_CREDENTIALS, Failure};

/// How long a login may take before a spinner says so on stderr.
const SPINNER_AFTER: Duration = Duration::from_secs(1);

/// `fut`, with a spinner on stderr once it has taken [`SPINNER_AFTER`]
/// (indicatif hides it when stderr is not a terminal).
async fn with_progress<T>(message: String, fut: impl Future<Output = T>) -> T {
    tokio::pin!(fut);
    tokio::select! {
        out = &mut fut => out,
        () = tokio::time::sleep(SPINNER_AFTER) => {
            let spinner = indicatif::ProgressBar::new_spinner().with_message(message);
            spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            spinner.enable_steady_tick(Duration::from_millis(100));
            let out = fut.await;
            spinner.finish_and_clear();
            out
        }
    }
}

/// The variables a refused login points at: the required ones.
fn credential_variables(d: &Descriptor) -> String {
    d.about
        .variables
        .iter()
        .filter(|v| v.required)
        .map(|v| v.name)
        .collect::<Vec<_>>()
        .join(" / ")
}

fn descriptor(name: &str) -> Result<&'static Descriptor, Failure> {
    providers::find(name).ok_or_else(|| Failure::new(2, format!("no provider `{name}`")))
}

/// Log in (or use the cached token) and return it.
async fn login(d: &'static Descriptor) -> Result<(Arc<dyn DynClient>, Arc<Token>), Failure> {
    let client = d.from_env().map_err(|e| Failure::from_error(d.name, &e))?;
    if client.token_manager().is_none() {
        return Err(Failure::new(
            EXIT_CREDENTIALS,
            format!(
                "{}: these credentials use no token (an API key): nothing to log in with",
                d.name
            ),
        ));
    }
    let token = with_progress(format!("logging in to {}…", d.name), client.bearer())
        .await
        .map_err(|e| {
            let mut f = Failure::from_error(d.name, &e);
            if f.code == EXIT_CREDENTIALS && e.is_invalid_credentials() {
                f.message
                    .push_str(&format!("\n  check {}", credential_variables(d)));
            }
            f
        })?;
    Ok((client, token))
}

/// A monotonic instant as wall time.
fn wall(at: Instant) -> SystemTime {
    let now = Instant::now();
    if at >= now {
        SystemTime::now() + (at - now)
    } else {
        SystemTime::now() - (now - at)
    }
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The token's `iat` (unverified: only read to compare clocks).
fn issued_at(token: &str) -> Option<i64> {
    let claims: serde_json::Map<String, Value> =
        jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    auth_runtime::expiry::unix_seconds_of(claims.get("iat")?)
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 86_400 => format!(
            "{}d {}h {}min",
            s / 86_400,
            s % 86_400 / 3600,
            s % 3600 / 60
        ),
        s if s >= 3600 => format!("{}h {}min {}s", s / 3600, s % 3600 / 60, s % 60),
        s => format!("{}min {}s", s / 60, s % 60),
    }
}

pub async fn check(name: &str, as_json: bool) -> Result<(), Failure> {
    let d = descriptor(name)?;
    let (client, token) = login(d).await?;
    let received = SystemTime::now();
    let lifetime = token.lifetime();
    let expires = wall(token.deadline());
    let refresh = wall(token.refresh_at());
    let refresh_in = token.refresh_at().saturating_duration_since(Instant::now());
    // Positive: the provider's clock is ahead of ours.
    let skew = issued_at(token.secret().expose()).map(|iat| iat - unix(received));
    let refresh_token_expires = client.refresh_token_expires_at();
    let report = json!({
        "provider": d.name,
        "mechanism": d.about.mechanism,
        "lifetime_secs": lifetime.as_secs(),
        "expires_at": rfc3339(expires),
        "expiry_from": format!("{:?}", token.expiry_source()),
        "refresh_at": rfc3339(refresh),
        "refresh_in_secs": refresh_in.as_secs(),
        "clock_skew_secs": skew,
        "refresh_token_expires_at": refresh_token_expires.map(rfc3339),
        "refresh_token_lifetime_secs": refresh_token_expires
            .map(|t| t.duration_since(received).map(|d| d.as_secs()).unwrap_or(0)),
    });
    if as_json {
        println!("{report}");
        return Ok(());
    }
    println!("{}: credentials work", d.name);
    println!("  mechanism       {}", d.about.mechanism);
    println!(
        "  token lifetime  {} (from {:?})",
        human(lifetime),
        token.expiry_source()
    );
    println!("  expires at      {}", rfc3339(expires));
    let lead = token
        .deadline()
        .saturating_duration_since(token.refresh_at());
    println!(
        "  refresh at      {} (in {}; {} before expiry, at {:.1} % of its life)",
        rfc3339(refresh),
        human(refresh_in),
        human(lead),
        100.0 * (1.0 - lead.as_secs_f64() / lifetime.as_secs_f64().max(1.0))
    );
    match skew {
        Some(s) if s.abs() <= 5 => {
            println!("  clock skew      {s:+} s against the token's iat (fine)")
        }
        Some(s) => println!(
            "  clock skew      {s:+} s against the token's iat: check this machine's clock (the runtime measures expiry on its own monotonic clock, so tokens still refresh in time)"
        ),
        None => println!("  clock skew      unknown (the token carries no iat)"),
    }
    if let Some(t) = refresh_token_expires {
        println!(
            "  refresh token   expires {} (lives {})",
            rfc3339(t),
            human(t.duration_since(received).unwrap_or_default())
        );
    }
    Ok(())
}

pub async fn token(name: &str, reveal: bool) -> Result<(), Failure> {
    let d = descriptor(name)?;
    if !reveal {
        return Err(Failure::new(
            EXIT_CREDENTIALS,
            "refusing to print a live token without --reveal (it grants API access to anyone who reads it)",
        ));
    }
    let (_, token) = login(d).await?;
    eprintln!(
        "warning: this is a live {} bearer token, valid until {}; keep it out of logs, tickets and shell history",
        d.name,
        rfc3339(wall(token.deadline()))
    );
    println!("{}", token.secret().expose());
    Ok(())
}
