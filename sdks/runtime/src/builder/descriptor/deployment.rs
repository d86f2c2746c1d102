//! Which deployment a base URL is ([`Deployment`]), and whether its host
//! is this machine.

/// Which deployment a base URL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// The provider's documented sandbox (test) host.
    Sandbox,
    /// The provider's documented production host.
    Production,
    /// A loopback host: a local emulator.
    Local,
    /// Any other host (a proxy, a region the docs do not name).
    Other,
}

impl Deployment {
    /// `sandbox`, `production`, `local`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Deployment::Sandbox => "sandbox",
            Deployment::Production => "production",
            Deployment::Local => "local",
            Deployment::Other => "other",
        }
    }
}

/// Whether `url`'s host is a loopback address or `localhost`.
pub(super) fn is_loopback(url: &str) -> bool {
    match url::Url::parse(url).ok().as_ref().and_then(url::Url::host) {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}
