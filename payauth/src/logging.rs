//! `-v` / `-vv` / `-vvv` and `RUST_LOG`: logs on stderr through
//! tracing-subscriber. The flags open the logs of payauth, the runtime and
//! the provider crates only (the HTTP stack's own debug logs stay shut);
//! `RUST_LOG`, when set, decides instead. The runtime logs no secret.

use payauth::providers;
use tracing_subscriber::EnvFilter;

pub fn init(verbose: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => {
            let level = match verbose {
                0 => "error",
                1 => "info",
                2 => "debug",
                _ => "trace",
            };
            let mut spec = format!(
                "error,payauth={level},payauth_runtime={level},payauth_sandbox={level},sandbox={level}"
            );
            for name in providers::names() {
                spec.push_str(&format!(",{name}={level}"));
            }
            EnvFilter::new(spec)
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
