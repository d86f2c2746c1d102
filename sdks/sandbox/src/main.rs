//! `cargo run -p sandbox [-- --port N]`: runs the five emulated providers until Ctrl-C.
//! The port comes from `--port`, else `SANDBOX_PORT`, else 8080 (0 = any free port).

use sandbox::{Credentials, Provider, Sandbox, SandboxConfig};

const USAGE: &str =
    "usage: sandbox [--port N]   (env SANDBOX_PORT; default 8080; 0 = any free port)";

fn parse_port() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port: Option<String> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "-p" | "--port" => {
                port = Some(args.next().ok_or("--port needs a value")?);
            }
            s if s.starts_with("--port=") => port = Some(s["--port=".len()..].to_owned()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let port = port.or_else(|| std::env::var("SANDBOX_PORT").ok());
    match port {
        None => Ok(8080),
        Some(p) => p
            .trim()
            .parse::<u16>()
            .map_err(|_| format!("invalid port `{p}`")),
    }
}

fn curl(sb: &Sandbox, p: Provider) -> String {
    let base = sb.base_url(p);
    match sb.credentials(p) {
        Credentials::Exirom {
            merchant_key,
            merchant_secret,
        } => format!(
            "curl -s -X POST '{base}/v1/auth' -H 'Content-Type: application/json' \
             -d '{{\"merchantKey\":\"{merchant_key}\",\"merchantSecret\":\"{merchant_secret}\"}}'"
        ),
        Credentials::Institution {
            email,
            password,
            merchant_id,
            ..
        } => format!(
            "curl -s -X POST '{base}/v2/auth/login' -H 'Content-Type: application/json' \
             -H 'merchant_id: {merchant_id}' -d '{{\"token\":\"{email}\",\"password\":\"{password}\"}}'"
        ),
        Credentials::Pledg {
            api_key,
            api_secret,
        } => format!(
            "curl -s -X POST '{base}/api/token' -u '{api_key}:{api_secret}' \
             -H 'Content-Type: application/x-www-form-urlencoded' -d 'grant_type=client_credentials'"
        ),
        Credentials::Bursagb {
            email, password, ..
        } => format!(
            "curl -s -X POST '{base}/Login/Customer/Api/Verify' -H 'Content-Type: application/json' \
             -H 'h-region-code: TR' -d '{{\"Email\":\"{email}\",\"Password\":\"{password}\"}}'"
        ),
        Credentials::Axept {
            merchant_id,
            key_id,
            key,
        } => format!(
            "curl -s -X POST '{base}/api/authenticate' -H 'Content-Type: application/json' \
             -d '{{\"merchantId\":{merchant_id},\"keyId\":{key_id},\"key\":\"{key}\"}}'"
        ),
    }
}

fn describe(c: &Credentials) -> String {
    match c {
        Credentials::Exirom {
            merchant_key,
            merchant_secret,
        } => format!("merchantKey={merchant_key} merchantSecret={merchant_secret}"),
        Credentials::Institution {
            email,
            password,
            merchant_id,
            api_key,
        } => {
            format!("email={email} password={password} merchant_id={merchant_id} Api-key={api_key}")
        }
        Credentials::Pledg {
            api_key,
            api_secret,
        } => format!("api key={api_key} api secret={api_secret}"),
        Credentials::Bursagb {
            email,
            password,
            api_key,
            customers,
        } => {
            let cs: Vec<String> = customers.iter().map(|(e, p)| format!("{e}/{p}")).collect();
            format!(
                "reseller Email={email} Password={password} ApiKey={api_key}\n    customers: {}",
                cs.join(", ")
            )
        }
        Credentials::Axept {
            merchant_id,
            key_id,
            key,
        } => format!("merchantId={merchant_id} keyId={key_id} key={key}"),
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let port = match parse_port() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("sandbox: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let sb = match Sandbox::start_with(SandboxConfig::with_port(port)).await {
        Ok(sb) => sb,
        Err(e) => {
            eprintln!("sandbox: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "sandbox (SANDBOX-ONLY keys and credentials) listening on {}",
        sb.root_url()
    );
    for p in Provider::ALL {
        println!("\n[{p}] base URL: {}", sb.base_url(p));
        println!("    credentials: {}", describe(&sb.credentials(p)));
        println!("    {}", curl(&sb, p));
    }
    if let Some(k) = sb.bursagb_restricted_api_key() {
        println!("    (ApiKey without Supplier access: {k})");
    }
    if let Some((e, _)) = sb.bursagb_customer_without_orders_scope() {
        println!("    (customer without orders:write: {e})");
    }
    println!(
        "\ncontrol plane: {0}/__sandbox/ (clock/advance, revoke, rotate/{{provider}}, variant, \
         fault/{{provider}}/{{route}}, counters, counters/reset)\nCtrl-C to stop.",
        sb.root_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    sb.shutdown().await;
}
