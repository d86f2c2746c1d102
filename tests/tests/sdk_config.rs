//! The builders: environments, `from_env`, HTTPS, missing credentials.

use std::collections::HashMap;

use payauth_runtime::{ErrorKind, Secret};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn exirom_reads_its_own_variable_names() {
    let get = env(&[
        ("API_BASE_URL", "https://sandbox.api.exirom.com/api"),
        ("MERCHANT_KEY", "mk"),
        ("MERCHANT_SECRET", "ms"),
    ]);
    let client = exirom::builder()
        .from_env_with(&get)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "https://sandbox.api.exirom.com/api");
    let err = exirom::builder()
        .from_env_with(&env(&[("MERCHANT_KEY", "mk")]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains("MERCHANT_SECRET is not set"),
        "{err}"
    );
}

#[test]
fn documented_environments_and_custom_urls() {
    let creds = || exirom::Credentials::new("k", Secret::new("s"));
    let prod = exirom::builder()
        .production()
        .credentials(creds())
        .build()
        .unwrap();
    assert_eq!(prod.base_url(), "https://api.exirom.com/api");
    let sandbox = exirom::builder()
        .sandbox()
        .credentials(creds())
        .build()
        .unwrap();
    assert_eq!(sandbox.base_url(), "https://sandbox.api.exirom.com/api");
    // Institution documents no URL: asking for "sandbox" is a clear error.
    let err = institution::builder()
        .sandbox()
        .credentials(institution::Credentials::api_key(Secret::new("k")))
        .build()
        .unwrap_err();
    assert!(
        err.is_config() && err.to_string().contains("base_url"),
        "{err}"
    );
}

#[test]
fn https_is_required_except_on_loopback() {
    let creds = || pledg::Credentials::new("k", Secret::new("s"));
    for bad in [
        "http://api.pledg.example",
        "ftp://x",
        "not a url",
        "https://user:pw@host",
    ] {
        let err = pledg::builder()
            .base_url(bad)
            .credentials(creds())
            .build()
            .unwrap_err();
        assert!(err.is_config(), "{bad}: {err}");
    }
    for good in [
        "http://127.0.0.1:9/pledg",
        "http://localhost:1",
        "http://[::1]:2",
        "https://api.pledg.example/",
    ] {
        let client = pledg::builder().base_url(good).credentials(creds()).build();
        assert!(client.is_ok(), "{good}");
    }
    let trimmed = pledg::builder()
        .base_url("https://api.pledg.example/")
        .credentials(creds())
        .build()
        .unwrap();
    assert_eq!(trimmed.base_url(), "https://api.pledg.example");
}

#[test]
fn missing_credentials_are_a_config_error() {
    let err = axept::builder().sandbox().build().unwrap_err();
    assert!(err.is_config());
    let err = axept::builder()
        .from_env_with(&env(&[
            ("AXEPT_MERCHANT_ID", "12x"),
            ("AXEPT_KEY_ID", "1"),
            ("AXEPT_KEY", "k"),
        ]))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("AXEPT_MERCHANT_ID is not an integer"),
        "{err}"
    );
}

#[test]
fn institution_prefers_the_api_key_from_env() {
    let client = institution::builder()
        .from_env_with(&env(&[
            ("INSTITUTION_BASE_URL", "https://api.institution.example"),
            ("INSTITUTION_API_KEY", "key"),
        ]))
        .unwrap()
        .build()
        .unwrap();
    assert!(
        client.session().token_manager().is_none(),
        "API key: no token flow"
    );
}

#[tokio::test]
async fn an_operation_without_configured_credentials_fails_clearly() {
    // bursagb without an ApiKey cannot call the Supplier API.
    let client = bursagb::builder()
        .base_url("http://127.0.0.1:9")
        .credentials(bursagb::Credentials::new("e", "p"))
        .build()
        .unwrap();
    let err = client
        .list_supplier_products()
        .body(bursagb::types::ProductListRequest::builder())
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("apiKeyAuth"), "{err}");
}

#[tokio::test]
async fn login_operations_never_carry_a_bearer() {
    let security = institution::generated::security::for_operation("login");
    assert!(security.is_anonymous());
    let client = institution::builder()
        .base_url("http://127.0.0.1:9")
        .credentials(institution::Credentials::api_key(Secret::new("key")))
        .build()
        .unwrap();
    let mut request = reqwest::Request::new(
        reqwest::Method::POST,
        "http://127.0.0.1:9/v2/auth/login".parse().unwrap(),
    );
    request
        .headers_mut()
        .insert("authorization", "Bearer stale".parse().unwrap());
    client
        .session()
        .authorize(&mut request, security)
        .await
        .unwrap();
    assert!(request.headers().get("authorization").is_none());
    // The authenticated operation gets the Api-key (bearer not configured).
    let mut request = reqwest::Request::new(
        reqwest::Method::POST,
        "http://127.0.0.1:9/v2/customer/create".parse().unwrap(),
    );
    let create = institution::generated::security::for_operation("create_customer");
    client
        .session()
        .authorize(&mut request, create)
        .await
        .unwrap();
    assert_eq!(request.headers().get("Api-key").unwrap(), "key");
}

#[test]
fn the_generated_security_table_covers_every_operation() {
    use payauth_runtime::provider::SchemeKind::*;
    let kinds = |ops: &[payauth_runtime::provider::OperationSecurity],
                 id: &str|
     -> Vec<Vec<payauth_runtime::provider::SchemeKind>> {
        ops.iter()
            .find(|o| o.operation_id == id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .alternatives
            .iter()
            .map(|alt| alt.iter().map(|s| s.kind).collect())
            .collect()
    };
    assert_eq!(
        kinds(bursagb::generated::security::OPERATIONS, "create_order"),
        vec![vec![Bearer]]
    );
    assert_eq!(
        kinds(
            bursagb::generated::security::OPERATIONS,
            "list_supplier_products"
        ),
        vec![vec![ApiKeyHeader("ApiKey")]]
    );
    assert_eq!(
        kinds(pledg::generated::security::OPERATIONS, "create_token"),
        vec![vec![Basic]]
    );
    assert_eq!(
        kinds(
            institution::generated::security::OPERATIONS,
            "create_customer"
        ),
        vec![vec![Bearer], vec![ApiKeyHeader("Api-key")]]
    );
    for ops in [
        exirom::generated::security::OPERATIONS,
        axept::generated::security::OPERATIONS,
        bursagb::generated::security::OPERATIONS,
    ] {
        for op in ops
            .iter()
            .filter(|o| ["authenticate", "generate_token"].contains(&o.operation_id))
        {
            assert!(op.is_anonymous(), "{}", op.operation_id);
        }
    }
}

/// Empty is unset, in every crate: an empty (or blank) optional variable
/// never selects a mechanism or sends an empty header; an empty required
/// one is "not set".
#[test]
fn empty_environment_values_are_unset() {
    use payauth_runtime::provider::Provider as _;
    let get = env(&[
        ("INSTITUTION_API_KEY", ""),
        ("INSTITUTION_EMAIL", "ops@example.com"),
        ("INSTITUTION_PASSWORD", "pw"),
        ("INSTITUTION_MERCHANT_ID", "m-1"),
    ]);
    let creds = institution::Institution::credentials_from_env(&get).expect("login variables");
    assert!(
        matches!(creds, institution::Credentials::Login { .. }),
        "an empty INSTITUTION_API_KEY is not an API key: {creds:?}"
    );
    let get = env(&[
        ("BURSAGB_EMAIL", "p@example.com"),
        ("BURSAGB_PASSWORD", "pw"),
        ("BURSAGB_API_KEY", ""),
        ("BURSAGB_REGION", "  "),
    ]);
    let creds = bursagb::Bursagb::credentials_from_env(&get).expect("bursagb");
    assert!(
        creds.api_key.is_none() && creds.region.is_none(),
        "{creds:?}"
    );
    let get = env(&[("MERCHANT_KEY", "mk"), ("MERCHANT_SECRET", "")]);
    let e = exirom::Exirom::credentials_from_env(&get).unwrap_err();
    assert!(
        e.is_config() && e.to_string().contains("MERCHANT_SECRET"),
        "{e}"
    );
    let get = env(&[
        ("PLEDG_API_KEY", "k"),
        ("PLEDG_API_SECRET", "s"),
        ("PLEDG_SECRET_KEY", ""),
    ]);
    let creds = pledg::Pledg::credentials_from_env(&get).expect("pledg");
    assert!(creds.secret_key.is_none());
    // An empty API key given in code is refused at the call, not sent.
    let client = institution::builder()
        .base_url("http://127.0.0.1:9")
        .credentials(institution::Credentials::api_key(Secret::new("")))
        .build()
        .expect("builds");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt
        .block_on(client.send_with(
            client.request(reqwest::Method::GET, "/x"),
            institution::generated::security::scheme("apiKeyAuth").expect("apiKeyAuth scheme"),
        ))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
}

/// Any variable `from_env` reads may come from the file `<VAR>_FILE`
/// names (Docker and Kubernetes secrets): its content, trailing newline
/// trimmed, logs in; both set, or a file that cannot be read, is a
/// `Config` error that quotes neither the file's name nor its content;
/// an empty file is unset.
#[tokio::test]
async fn a_variable_may_come_from_the_file_its_file_variable_names() {
    let sb = payauth_sandbox::Sandbox::start().await.expect("sandbox");
    let creds = sb.credentials(payauth_sandbox::Provider::Exirom);
    let merchant_key = creds.text("merchant_key").to_owned();
    let merchant_secret = creds.text("merchant_secret").to_owned();
    let dir = std::env::temp_dir().join(format!("sdk-config-file-vars-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret_file = dir.join("merchant-secret");
    std::fs::write(&secret_file, format!("{merchant_secret}\n")).unwrap();
    let empty_file = dir.join("empty");
    std::fs::write(&empty_file, "\n").unwrap();
    let missing_file = dir.join("missing-file-name");
    let base_url = sb.base_url(payauth_sandbox::Provider::Exirom);
    let with = |secret: (&str, &str)| {
        env(&[
            ("API_BASE_URL", base_url.as_str()),
            ("MERCHANT_KEY", merchant_key.as_str()),
            secret,
        ])
    };
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();

    let from_file = path(&secret_file);
    let client = exirom::builder()
        .from_env_with(&with(("MERCHANT_SECRET_FILE", &from_file)))
        .expect("the secret from its file")
        .build()
        .expect("builds");
    client.bearer().await.expect("the file's secret logs in");

    let both = env(&[
        ("API_BASE_URL", base_url.as_str()),
        ("MERCHANT_KEY", merchant_key.as_str()),
        ("MERCHANT_SECRET", merchant_secret.as_str()),
        ("MERCHANT_SECRET_FILE", from_file.as_str()),
    ]);
    let missing = path(&missing_file);
    let empty = path(&empty_file);
    for (get, says) in [
        (
            both,
            "both MERCHANT_SECRET and MERCHANT_SECRET_FILE are set",
        ),
        (
            with(("MERCHANT_SECRET_FILE", &missing)),
            "MERCHANT_SECRET_FILE: the file it names cannot be opened",
        ),
        (
            with(("MERCHANT_SECRET_FILE", &empty)),
            "MERCHANT_SECRET is not set",
        ),
    ] {
        let e = exirom::builder().from_env_with(&get).unwrap_err();
        let text = format!("{e} {e:?}");
        assert_eq!(e.kind(), ErrorKind::Config, "{text}");
        assert!(text.contains(says), "{text}");
        for secret in [
            merchant_secret.as_str(),
            dir.to_str().unwrap(),
            "missing-file-name",
        ] {
            assert!(
                !text.contains(secret),
                "the error quotes {secret:?}: {text}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    sb.shutdown().await;
}
