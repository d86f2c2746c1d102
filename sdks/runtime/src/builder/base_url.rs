//! The base URL a client talks to: checked once, when it is built.

use crate::error::Error;

/// A base URL must parse, and be HTTPS unless its host is loopback.
/// Returns it without a trailing slash.
pub fn check_base_url(provider: &'static str, url: &str) -> Result<String, Error> {
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::config(provider, format!("base URL `{url}` does not parse: {e}")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::config(
                provider,
                format!("base URL `{url}` is plain HTTP; HTTPS is required for non-loopback hosts"),
            ));
        }
        other => {
            return Err(Error::config(
                provider,
                format!("base URL `{url}` has unsupported scheme `{other}`"),
            ));
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::config(
            provider,
            "base URL must not embed credentials",
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}
