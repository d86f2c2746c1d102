//! One TLS configuration for every HTTP client the SDK builds itself.
//!
//! A `reqwest` client left to configure TLS loads the system's certificate
//! authorities each time one is built (the platform verifier reads the
//! native store): 3.8 ms per client in a release build, 21 ms in a debug
//! one. An application may build an SDK client per request, so the SDK
//! builds that verifier once per process and hands each new client a
//! clone of the finished configuration (reference-counted parts): building
//! a client then costs microseconds.
//!
//! The configuration is what `reqwest` would have made: the process's
//! default crypto provider (or aws-lc-rs, reqwest's), its default protocol
//! versions, the platform verifier over the system's roots, SNI, and ALPN
//! `h2` then `http/1.1`. It holds no connection and no task, so it is not
//! tied to any Tokio runtime. The roots are read once: a certificate
//! authority added to the system later is trusted after a restart. An
//! application that wants other TLS settings passes its own client
//! (`.http(client)`), which the SDK uses untouched.

use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;

/// The shared configuration; `None` when it cannot be made (the platform
/// verifier failed), and then each client configures TLS itself, as
/// `reqwest` does, and reports the failure its own way.
pub(crate) fn shared_client_config() -> Option<ClientConfig> {
    static SHARED: OnceLock<Option<ClientConfig>> = OnceLock::new();
    SHARED.get_or_init(build).clone()
}

fn build() -> Option<ClientConfig> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).ok()?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Some(config)
}

/// Whether `e` failed because the server's certificate was refused
/// (unknown issuer, expired, wrong name, …): not retried, and a
/// configuration error — the base URL names a server this process does
/// not trust (or something stands between them).
pub(crate) fn certificate_refused(e: &reqwest::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = next {
        if let Some(rustls::Error::InvalidCertificate(_)) = err.downcast_ref::<rustls::Error>() {
            return true;
        }
        // An I/O error wrapping another error (hyper-util wraps rustls's
        // in two): its `source()` skips the wrapped error itself.
        next = match err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    false
}

/// A `reqwest` client builder whose TLS is the shared configuration (or
/// `reqwest`'s own when there is none).
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder();
    match shared_client_config() {
        Some(config) => builder.tls_backend_preconfigured(config),
        None => builder,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_configuration_verifies_and_offers_h2_then_http1() {
        let config = shared_client_config().expect("the platform verifier loads");
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(config.enable_sni);
        // Made once: a second call hands out the same verifier.
        let again = shared_client_config().unwrap();
        assert!(Arc::ptr_eq(
            &config.crypto_provider().clone(),
            &again.crypto_provider().clone()
        ));
    }

    #[test]
    fn a_client_builds_with_it() {
        client_builder()
            .build()
            .expect("a client with the shared TLS");
    }
}
