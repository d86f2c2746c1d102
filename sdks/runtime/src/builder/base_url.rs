//! The base URL a client talks to: checked once, when it is built.

use std::borrow::Cow;

use crate::base::error::Error;

/// `url` with anything that may be user information removed, for
/// messages: everything between `scheme://` (or the start) and the last
/// `@` goes. It works on text that does not parse, and errs on the side of
/// removing (a path with an `@` loses a little).
pub fn without_userinfo(url: &str) -> Cow<'_, str> {
    let Some(at) = url.rfind('@') else {
        return Cow::Borrowed(url);
    };
    let start = url.find("://").map_or(0, |i| i + 3).min(at);
    Cow::Owned(format!("{}{}", &url[..start], &url[at + 1..]))
}

/// A base URL must parse, and be HTTPS unless its host is loopback.
/// Returns it without a trailing slash.
///
/// # Errors
///
/// `Config` (naming the URL without its user information): not a URL, a
/// URL with user information, or plain HTTP to a host that is not
/// loopback.
pub fn check_base_url(provider: &'static str, url: &str) -> Result<String, Error> {
    // User information first, before any message quotes the URL: any `@`
    // (a base URL has no business with one; text the URL parser reads as
    // a scheme and a path — `user:pass@host` — may still be a password).
    let parsed = url::Url::parse(url).ok();
    let userinfo = parsed
        .as_ref()
        .is_some_and(|u| !u.username().is_empty() || u.password().is_some());
    if userinfo || url.contains('@') {
        return Err(Error::config(
            provider,
            format!(
                "base URL `{}` must not embed credentials",
                without_userinfo(url)
            ),
        ));
    }
    let parsed = parsed.ok_or_else(|| {
        let why = url::Url::parse(url)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        Error::config(provider, format!("base URL `{url}` does not parse: {why}"))
    })?;
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
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A base URL with user information is refused without echoing it,
    /// whatever else is wrong with it (plain HTTP, another scheme, a URL
    /// that does not parse).
    #[test]
    fn a_base_url_with_credentials_is_refused_without_echoing_them() {
        for url in [
            "http://user:hunter2pw@example.com",
            "https://user:hunter2pw@example.com",
            "ftp://user:hunter2pw@example.com",
            "http://user:hunter2pw@exa mple.com",
            "http://user:hunter2pw@[::1",
            "user:hunter2pw@example.com",
            "https://user:hun/ter2pw@example.com/x",
            "https://hunter2pw@example.com",
            "http://user:hunter2pw@127.0.0.1:8080",
        ] {
            let e = check_base_url("test", url).expect_err(url);
            assert!(e.is_config());
            for shown in [e.to_string(), format!("{e:?}")] {
                assert!(
                    !shown.contains("hunter2pw") && !shown.contains("ter2pw"),
                    "{url}: {shown}"
                );
                assert!(!shown.contains("user"), "{url}: {shown}");
            }
        }
        assert_eq!(without_userinfo("https://u:p@h/x"), "https://h/x");
        assert_eq!(without_userinfo("https://h/x"), "https://h/x");
        assert!(check_base_url("test", "https://example.com/").is_ok());
        assert!(check_base_url("test", "http://127.0.0.1:1/").is_ok());
    }
}
