//! `url.full` for telemetry: user information and the value of every
//! query parameter named as a secret replaced by `REDACTED` (the semantic
//! conventions' own word), no fragment. Parameters are matched by their
//! whole name, without case — `currency_code`, `postcode` and `monkey`
//! are shown as they are.

/// Query parameters whose values are never reported, compared with the
/// whole name, case aside: the semantic conventions' list (signed URLs of
/// AWS, Azure, Google), then this project's signed parameters (pledg's
/// `signature`, exirom's `checksum`) and the usual names of credentials.
const SECRET_PARAMETERS: [&str; 20] = [
    // The conventions'.
    "AWSAccessKeyId",
    "Signature",
    "sig",
    "X-Goog-Signature",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    // This project's, and credentials by their usual names.
    "checksum",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "password",
    "api_key",
    "apikey",
    "key",
    "secret",
    "client_secret",
    "code",
    "auth",
];

fn carries_secret(name: &str) -> bool {
    SECRET_PARAMETERS
        .iter()
        .any(|secret| name.eq_ignore_ascii_case(secret))
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
    if !url.username().is_empty() || url.password().is_some() {
        let _ = shown.set_username("REDACTED");
        let _ = shown.set_password(Some("REDACTED"));
    }
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
            "https://REDACTED:REDACTED@api.example/v1/pay?signature=REDACTED&id=7&access_token=REDACTED"
        );
    }

    #[test]
    fn a_plain_url_is_shown_as_it_is() {
        let url = url::Url::parse("https://api.example:8443/v1/pay/7").unwrap();
        assert_eq!(redacted_url(&url), "https://api.example:8443/v1/pay/7");
    }

    /// By name, not by substring: a parameter that merely contains `code`,
    /// `key` or `auth` is shown; the conventions' names in any case are not.
    #[test]
    fn parameters_are_matched_by_their_whole_name() {
        let url = url::Url::parse(
            "https://h.example/p?currency_code=EUR&postcode=75001&monkey=1&author=me&Code=c0de&X-AMZ-SIGNATURE=s1&sig=s2&AWSAccessKeyId=AK&x-goog-signature=s3&Key=k",
        )
        .unwrap();
        assert_eq!(
            redacted_url(&url),
            "https://h.example/p?currency_code=EUR&postcode=75001&monkey=1&author=me&Code=REDACTED&X-AMZ-SIGNATURE=REDACTED&sig=REDACTED&AWSAccessKeyId=REDACTED&x-goog-signature=REDACTED&Key=REDACTED"
        );
    }

    proptest! {
        /// Whatever the query, no value of a secret-bearing parameter
        /// survives (in any case, anywhere in the query, repeated or
        /// percent-encoded), and nothing panics.
        #[test]
        fn no_secret_value_survives(
            value in "[A-Za-z0-9._~-]{4,40}",
            other in "[a-z_]{1,12}",
            which in proptest::sample::select(SECRET_PARAMETERS.to_vec()),
            upper in any::<bool>(),
        ) {
            let name = if upper { which.to_ascii_uppercase() } else { which.to_ascii_lowercase() };
            let raw = format!("https://h.example/p?{other}=x&{name}={value}&Signature={value}&{name}={value}");
            let shown = redacted_url(&url::Url::parse(&raw).unwrap());
            prop_assert!(!shown.contains(&format!("={value}")), "{shown}");
        }

        /// Any URL at all: no panic, and a parameter not on the list
        /// keeps its value.
        #[test]
        fn other_values_are_kept(name in "[a-z]{1,6}_(code|key|token|id)", value in "[A-Za-z0-9]{1,20}") {
            let raw = format!("https://h.example/p?{name}={value}");
            let shown = redacted_url(&url::Url::parse(&raw).unwrap());
            prop_assert_eq!(shown, raw);
        }
    }
}
