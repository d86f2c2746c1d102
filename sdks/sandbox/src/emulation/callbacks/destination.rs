//! Where a callback goes: the forwarding URL when one is set, else the URL its request
//! named if it is on this machine (or remote callbacks are allowed); and how a URL is shown
//! in events and logs (no user information, no query: either may hold a secret).

use std::net::IpAddr;

use reqwest::Url;

use crate::callback_config::CallbackSettings;

/// The verdict on a callback's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    Send {
        url: Url,
        /// As events show it.
        shown: String,
        forwarded: bool,
    },
    /// Not sent, and why (the URL shown as events show it).
    Refuse { shown: String, reason: String },
}

/// Where the callback whose request named `named` goes.
pub(crate) fn choose(settings: &CallbackSettings, named: &str) -> Destination {
    if let Some(forward) = settings.forward_to.as_deref() {
        // Checked when the sandbox started (`CallbackSettings::validate`).
        if let Ok(url) = Url::parse(forward) {
            return Destination::Send {
                shown: shown(&url),
                url,
                forwarded: true,
            };
        }
    }
    let url = match Url::parse(named) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => url,
        _ => {
            return Destination::Refuse {
                shown: printable(named),
                reason: "not an http(s) URL".into(),
            };
        }
    };
    if !settings.remote && !is_loopback(&url) {
        return Destination::Refuse {
            shown: shown(&url),
            reason: "not on this machine: set a forwarding URL (callbacks.forward_to) to \
                     receive it, or allow remote callbacks"
                .into(),
        };
    }
    Destination::Send {
        shown: shown(&url),
        url,
        forwarded: false,
    }
}

/// `localhost`, `127.0.0.0/8`, `::1` (and IPv4-mapped loopback).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).to_canonical().is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The longest path events show: a request may name a URL of any length, and the recent
/// callbacks keep theirs.
const SHOWN_PATH: usize = 200;

/// `scheme://host[:port]/path`: what events and logs show of a URL (a long path cut).
pub(crate) fn shown(url: &Url) -> String {
    let mut s = format!("{}://", url.scheme());
    if let Some(host) = url.host() {
        s.push_str(&host.to_string());
    }
    if let Some(port) = url.port() {
        s.push_str(&format!(":{port}"));
    }
    let path = url.path();
    match path.char_indices().nth(SHOWN_PATH) {
        Some((cut, _)) => {
            s.push_str(&path[..cut]);
            s.push('…');
        }
        None => s.push_str(path),
    }
    s
}

/// Something that is not a URL, shown safely: printable characters only, at most 80.
fn printable(s: &str) -> String {
    let cut: String = s.chars().filter(|c| !c.is_control()).take(80).collect();
    if s.chars().count() > 80 {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_to(d: &Destination) -> Option<(&str, bool)> {
        match d {
            Destination::Send {
                shown, forwarded, ..
            } => Some((shown.as_str(), *forwarded)),
            Destination::Refuse { .. } => None,
        }
    }

    #[test]
    fn only_this_machine_is_called_unless_forwarded_or_allowed() {
        let s = CallbackSettings::default();
        for local in [
            "http://127.0.0.1:3000/hook",
            "http://127.8.9.10/x",
            "http://localhost:8000/x",
            "http://[::1]:9/x",
            "https://LOCALHOST/x",
        ] {
            assert!(send_to(&choose(&s, local)).is_some(), "{local}");
        }
        for remote in [
            "https://merchant.example.com/callbacks",
            "http://10.0.0.1/x",
            "http://localhost.evil.com/x",
            "http://[::ffff:8.8.8.8]/x",
        ] {
            assert!(send_to(&choose(&s, remote)).is_none(), "{remote}");
        }
        for junk in ["", "abc", "file:///etc/passwd", "ftp://127.0.0.1/x"] {
            assert!(
                matches!(choose(&s, junk), Destination::Refuse { .. }),
                "{junk}"
            );
        }
        let allowed = CallbackSettings {
            remote: true,
            ..CallbackSettings::default()
        };
        assert!(send_to(&choose(&allowed, "https://merchant.example.com/cb")).is_some());
        let forwarding = CallbackSettings::default().forward_to("http://127.0.0.1:4000/in");
        assert_eq!(
            send_to(&choose(&forwarding, "https://merchant.example.com/cb")),
            Some(("http://127.0.0.1:4000/in", true))
        );
    }

    #[test]
    fn a_shown_url_has_no_user_information_nor_query() {
        let url = Url::parse("https://user:pw@127.0.0.1:8443/cb/x?token=s3cret#frag").unwrap();
        assert_eq!(shown(&url), "https://127.0.0.1:8443/cb/x");
        let Destination::Refuse { shown, .. } = choose(&CallbackSettings::default(), "a\nb\u{7}")
        else {
            panic!("refused")
        };
        assert_eq!(shown, "ab");
        let long = Url::parse(&format!("http://127.0.0.1/{}", "a".repeat(100_000))).unwrap();
        assert!(self::shown(&long).len() < 300);
    }
}
