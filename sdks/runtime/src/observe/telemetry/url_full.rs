//! `url.full` for telemetry: no user information, no fragment, and the
//! value of every query parameter that may carry a secret replaced by
//! `REDACTED` (the semantic conventions' own word).

/// Parameter names (compared without case, as substrings) whose values
/// are never reported: pledg's `signature`, and the usual names of tokens,
/// keys and passwords.
const SECRET_PARAMETERS: [&str; 8] = [
    "sig",
    "token",
    "key",
    "secret",
    "pass",
    "auth",
    "credential",
    "code",
];

fn carries_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMETERS.iter().any(|s| name.contains(s))
}

/// `url` as telemetry may show it.
pub(crate) fn redacted_url(url: &url::Url) -> String {
    // Nearly every call: nothing to take out, the text as it is.
    if url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
    {
        return url.as_str().to_owned();
    }
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_fragment(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if carries_secret(&k) {
                    "REDACTED".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        shown.set_query(None);
        if !pairs.is_empty() {
            shown.query_pairs_mut().extend_pairs(pairs);
        }
    }
    shown.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signatures_tokens_and_user_information_are_redacted() {
        let url = url::Url::parse(
            "https://user:pw@api.example/v1/pay?signature=eyJ.secret.sig&id=7&access_token=t0k#frag",
        )
        .unwrap();
        let shown = redacted_url(&url);
        assert_eq!(
            shown,
            "https://api.example/v1/pay?signature=REDACTED&id=7&access_token=REDACTED"
        );
    }

    #[test]
    fn a_plain_url_is_shown_as_it_is() {
        let url = url::Url::parse("https://api.example:8443/v1/pay/7").unwrap();
        assert_eq!(redacted_url(&url), "https://api.example:8443/v1/pay/7");
    }

    proptest! {
        /// Whatever the query, no value of a secret-bearing parameter
        /// survives, and nothing panics.
        #[test]
        fn no_secret_value_survives(value in "[A-Za-z0-9._~-]{4,40}", other in "[a-z]{1,8}") {
            let raw = format!("https://h.example/p?{other}=x&Signature={value}&API_KEY={value}");
            let shown = redacted_url(&url::Url::parse(&raw).unwrap());
            prop_assert!(!shown.contains(&format!("={value}")), "{shown}");
        }
    }
}
