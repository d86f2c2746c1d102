//! `cargo run -p payauth-sandbox [-- --port N]`: runs every emulated provider until Ctrl-C.
//! The port comes from `--port`, else `SANDBOX_PORT`, else 8080 (0 = any free port).

use payauth_sandbox::{Provider, Sandbox, SandboxConfig};

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
    for p in Provider::all() {
        println!("\n[{p}] base URL: {}", sb.base_url(p));
        for line in sb.usage(p).lines() {
            println!("    {line}");
        }
    }
    println!(
        "\ncontrol plane: {0}/__sandbox/ (clock/advance, revoke, rotate/{{provider}}, variant, \
         fault/{{provider}}/{{route}}, counters, counters/reset, settle/{{provider}}/{{id}}, \
         callbacks, credentials/{{provider}}, signing/{{provider}})\ncallbacks go to the URL a \
         request names when it is on this machine (`payauth sandbox --forward-to URL` logs \
         and forwards them)\nCtrl-C to stop.",
        sb.root_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    sb.shutdown().await;
}
