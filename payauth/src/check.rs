//! `payauth check` (one provider or `--all`) and `payauth token`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use payauth::providers;
use payauth_runtime::Token;
use payauth_runtime::descriptor::{ClientOptions, Deployment, Descriptor, DynClient, env_or_file};
use payauth_runtime::provider::ExpirySource;
use serde_json::{Value, json};

use crate::failure::{self, CONFIG, Failure, OK, Target};
use crate::timefmt::{human, issued_at, rfc3339, unix, wall};
use crate::variables::Variables;

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

pub fn descriptor(name: &str) -> Result<&'static Descriptor, Failure> {
    providers::find(name).ok_or_else(|| Failure::usage(format!("no provider `{name}`")))
}

/// A client and where it talks to.
struct Connected {
    client: Arc<dyn DynClient>,
    target: Target,
    /// `--base-url`, the variable's name, or `default`.
    from: String,
}

/// The base URL (`--base-url`, the variable, or the documented sandbox
/// host) and a client for it.
fn connect(
    d: &'static Descriptor,
    vars: &Variables,
    base_url: Option<&str>,
) -> Result<Connected, Failure> {
    let get = |k: &str| vars.get(k);
    let (url, from) = match base_url {
        Some(url) => (url.to_string(), "--base-url".to_string()),
        None => match env_or_file(&get, d.name, d.base_url_env) {
            Err(e) => return Err(failure::from_error(d, &e, None)),
            Ok(Some(url)) => (url, d.base_url_env.to_string()),
            Ok(None) => match d.sandbox_url {
                Some(url) => (url.to_string(), "default".to_string()),
                None => {
                    return Err(Failure::new(
                        CONFIG,
                        "config",
                        format!(
                            "{}: {} is not set, and the provider documents no default host",
                            d.name, d.base_url_env
                        ),
                    )
                    .hint(format!(
                        "set {} to the provider's API (or pass --base-url)",
                        d.base_url_env
                    )));
                }
            },
        },
    };
    let client = d
        .connect(&get, ClientOptions::default().base_url(url))
        .map_err(|e| failure::from_error(d, &e, None))?;
    let base_url = client.base_url().to_string();
    Ok(Connected {
        target: Target {
            deployment: d.deployment(&base_url),
            base_url,
        },
        client,
        from,
    })
}

fn environment_json(c: &Connected) -> Value {
    json!({
        "base_url": c.target.base_url,
        "deployment": c.target.deployment.as_str(),
        "from": c.from,
    })
}

fn environment_words(d: &Descriptor, c: &Connected) -> String {
    let what = match c.target.deployment {
        Deployment::Sandbox => format!("{}'s sandbox host", d.name),
        Deployment::Production => format!("{}'s production host", d.name),
        Deployment::Local => "a loopback host: a local emulator".to_string(),
        Deployment::Other => format!("a host {} does not document", d.name),
    };
    let from = match c.from.as_str() {
        "default" => format!("the default; set {} for another", d.base_url_env),
        other => format!("from {other}"),
    };
    format!("{} ({what}; {from})", c.target.base_url)
}

fn expiry_from(source: ExpirySource) -> &'static str {
    match source {
        ExpirySource::JwtExp => "jwt_exp",
        ExpirySource::UnixSeconds => "unix_seconds",
        ExpirySource::Relative => "relative",
        ExpirySource::DateTime => "date_time",
        ExpirySource::Assumed => "assumed",
    }
}

/// What a check found: the JSON report, the text lines, a table cell.
pub struct Checked {
    pub json: Value,
    pub lines: Vec<String>,
    pub summary: String,
    pub target: String,
}

fn token_report(token: &Token, client: &dyn DynClient, lines: &mut Vec<String>) -> Value {
    let received = SystemTime::now();
    let lifetime = token.lifetime();
    let expires = wall(token.deadline());
    let refresh = wall(token.refresh_at());
    let refresh_in = token.refresh_at().saturating_duration_since(Instant::now());
    // Positive: the provider's clock is ahead of ours.
    let skew = issued_at(token.secret().expose()).map(|iat| iat - unix(received));
    let rt_expires = client.refresh_token_expires_at();
    let lead = token
        .deadline()
        .saturating_duration_since(token.refresh_at());
    lines.push(format!(
        "  token lifetime  {} (from {})",
        human(lifetime),
        expiry_from(token.expiry_source())
    ));
    lines.push(format!("  expires at      {}", rfc3339(expires)));
    lines.push(format!(
        "  refresh at      {} (in {}; {} before expiry, at {:.1} % of its life)",
        rfc3339(refresh),
        human(refresh_in),
        human(lead),
        100.0 * (1.0 - lead.as_secs_f64() / lifetime.as_secs_f64().max(1.0))
    ));
    lines.push(match skew {
        Some(s) if s.abs() <= 5 => format!("  clock skew      {s:+} s against the token's iat (fine)"),
        Some(s) => format!(
            "  clock skew      {s:+} s against the token's iat: check this machine's clock (the runtime measures expiry on its own monotonic clock, so tokens still refresh in time)"
        ),
        None => "  clock skew      unknown (the token carries no iat)".to_string(),
    });
    if let Some(t) = rt_expires {
        lines.push(format!(
            "  refresh token   expires {} (lives {})",
            rfc3339(t),
            human(t.duration_since(received).unwrap_or_default())
        ));
    }
    json!({
        "lifetime_secs": lifetime.as_secs(),
        "expires_at": rfc3339(expires),
        "expiry_from": expiry_from(token.expiry_source()),
        "refresh_at": rfc3339(refresh),
        "refresh_in_secs": refresh_in.as_secs(),
        "clock_skew_secs": skew,
        "refresh_token_expires_at": rt_expires.map(rfc3339),
        "refresh_token_lifetime_secs": rt_expires
            .map(|t| t.duration_since(received).map(|d| d.as_secs()).unwrap_or(0)),
    })
}

/// Log in (when the credentials use a token) and run the probe (when the
/// provider has one): one provider's check.
pub async fn check_one(
    d: &'static Descriptor,
    vars: &Variables,
    base_url: Option<&str>,
) -> Result<Checked, Failure> {
    let c = connect(d, vars, base_url)?;
    let fail = |e: &payauth_runtime::Error| failure::from_error(d, e, Some(&c.target));
    let mut lines = vec![
        format!("  environment     {}", environment_words(d, &c)),
        format!("  mechanism       {}", d.about.mechanism),
    ];
    let mut summary = Vec::new();
    let mut report = json!({
        "provider": d.name,
        "environment": environment_json(&c),
        "mechanism": d.about.mechanism,
        "login": false,
        "lifetime_secs": null, "expires_at": null, "expiry_from": null, "refresh_at": null,
        "refresh_in_secs": null, "clock_skew_secs": null, "refresh_token_expires_at": null,
        "refresh_token_lifetime_secs": null,
        "probe": null,
    });
    if c.client.token_manager().is_some() {
        let token = with_progress(format!("logging in to {}…", d.name), c.client.bearer())
            .await
            .map_err(|e| fail(&e))?;
        let facts = token_report(&token, c.client.as_ref(), &mut lines);
        if let (Some(all), Some(facts)) = (report.as_object_mut(), facts.as_object()) {
            all.extend(facts.clone());
            all.insert("login".into(), Value::Bool(true));
        }
        summary.push(format!(
            "token for {}, refresh in {}",
            human(token.lifetime()),
            human(token.refresh_at().saturating_duration_since(Instant::now()))
        ));
    }
    if let (Some(call), Some(probe)) = (d.about.probe, c.client.probe()) {
        let answered = with_progress(format!("calling {}…", call.operation), probe)
            .await
            .map_err(|e| {
                let f = fail(&e);
                match (f.code, call.needs) {
                    // The probe's own credential was refused, not the login's.
                    (failure::CREDENTIALS, Some(var)) => f.hint(format!(
                        "check {var}: {} {} was refused by {}",
                        call.method, call.path, c.target.base_url
                    )),
                    _ => f,
                }
            })?;
        lines.push(format!(
            "  probe           {} {} ({}): HTTP {}",
            call.method, call.path, call.operation, answered.status
        ));
        summary.push(format!("{}: HTTP {}", call.operation, answered.status));
        report["probe"] = json!({
            "operation": call.operation,
            "method": call.method,
            "path": call.path,
            "status": answered.status,
        });
    }
    if summary.is_empty() {
        return Err(Failure::new(
            CONFIG,
            "unverifiable",
            format!(
                "{}: these credentials use no token, and the provider documents no read-only call to check them with",
                d.name
            ),
        )
        .hint(format!(
            "to check login credentials, leave the API key unset and set {}",
            failure::variable_list(d, true)
        )));
    }
    Ok(Checked {
        json: report,
        lines,
        summary: summary.join("; "),
        target: format!("{} ({})", c.target.base_url, c.target.deployment.as_str()),
    })
}

pub async fn check(
    name: &str,
    vars: &Variables,
    base_url: Option<&str>,
    as_json: bool,
) -> Result<u8, Failure> {
    let d = descriptor(name)?;
    let checked = check_one(d, vars, base_url).await?;
    if as_json {
        println!("{}", checked.json);
    } else {
        println!("{}: credentials work", d.name);
        for line in &checked.lines {
            println!("{line}");
        }
    }
    Ok(OK)
}

/// Every provider whose variables are set: a table, the highest exit code.
pub async fn check_all(vars: &Variables, as_json: bool) -> Result<u8, Failure> {
    let get = |k: &str| vars.get(k);
    let configured: Vec<&'static Descriptor> = providers::ALL
        .iter()
        .copied()
        .filter(|d| d.is_configured(&get))
        .collect();
    if configured.is_empty() {
        return Err(Failure::new(
            CONFIG,
            "nothing_configured",
            "no provider's variables are set",
        )
        .hint("set a provider's variables (`payauth --help` lists them), or pass --env-file"));
    }
    let mut rows = Vec::new();
    for d in configured {
        rows.push((d, check_one(d, vars, None).await));
    }
    let worst = rows
        .iter()
        .map(|(_, r)| r.as_ref().map_or_else(|f| f.code, |_| OK))
        .max()
        .unwrap_or(OK);
    if as_json {
        let providers: Vec<Value> = rows
            .iter()
            .map(|(d, r)| match r {
                Ok(c) => json!({"provider": d.name, "exit_code": OK, "report": c.json, "error": null}),
                Err(f) => json!({"provider": d.name, "exit_code": f.code, "report": null, "error": f.to_json()["error"]}),
            })
            .collect();
        println!("{}", json!({"providers": providers, "exit_code": worst}));
        return Ok(worst);
    }
    println!(
        "{:<12} {:<5} {:<48} result",
        "provider", "exit", "environment"
    );
    for (d, r) in &rows {
        match r {
            Ok(c) => println!(
                "{:<12} {:<5} {:<48} ok: {}",
                d.name, OK, c.target, c.summary
            ),
            Err(f) => println!(
                "{:<12} {:<5} {:<48} {}: {}",
                d.name, f.code, "-", f.kind, f.message
            ),
        }
    }
    for (d, r) in &rows {
        if let Err(Failure {
            hint: Some(hint), ..
        }) = r
        {
            println!("hint: {}: {hint}", d.name);
        }
    }
    Ok(worst)
}

/// What `token` prints.
#[derive(Debug, Clone, Copy)]
pub struct TokenOutput {
    pub reveal: bool,
    pub header: bool,
    pub json: bool,
}

pub async fn token(
    name: &str,
    vars: &Variables,
    base_url: Option<&str>,
    out: TokenOutput,
) -> Result<u8, Failure> {
    if !out.reveal {
        return Err(Failure::usage(
            "refusing to print a live token without --reveal (it grants API access to anyone who reads it)",
        )
        .hint("add --reveal; with --header, pipe it to `curl -H @-` to keep it off curl's command line"));
    }
    let d = descriptor(name)?;
    let c = connect(d, vars, base_url)?;
    if c.client.token_manager().is_none() {
        return Err(Failure::new(
            CONFIG,
            "no_token",
            format!("{}: these credentials use no token (an API key)", d.name),
        )
        .hint(format!(
            "set {} for a token",
            failure::variable_list(d, true)
        )));
    }
    let token = with_progress(format!("logging in to {}…", d.name), c.client.bearer())
        .await
        .map_err(|e| failure::from_error(d, &e, Some(&c.target)))?;
    let expires = rfc3339(wall(token.deadline()));
    eprintln!(
        "warning: this is a live {} bearer token for {}, valid until {expires}; keep it out of logs, tickets and shell history",
        d.name,
        environment_words(d, &c)
    );
    let secret = token.secret().expose();
    if out.json {
        println!(
            "{}",
            json!({
                "provider": d.name,
                "environment": environment_json(&c),
                "token": secret,
                "expires_at": expires,
            })
        );
    } else if out.header {
        println!("Authorization: Bearer {secret}");
    } else {
        println!("{secret}");
    }
    Ok(OK)
}
