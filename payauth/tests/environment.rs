//! `check` and `token` name the environment they used; `--base-url`;
//! `check --all`; API keys checked with the probe; `token --header`; no
//! secret with `-vv`.

mod common;

use common::{json_error, no_secret, run, sandbox, text};
use payauth::providers;

#[test]
fn check_shows_the_base_url_and_where_it_came_from() {
    let sb = sandbox();
    let base = sb.env["API_BASE_URL"].clone();
    let out = run(&["check", "exirom"], &sb.env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let printed = text(&out);
    assert!(
        printed.contains(&format!("environment     {base} (a loopback host")),
        "{printed}"
    );
    assert!(printed.contains("from API_BASE_URL"), "{printed}");

    let out = run(&["check", "exirom", "--json"], &sb.env, None);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["environment"]["base_url"], base.as_str());
    assert_eq!(report["environment"]["deployment"], "local");
    assert_eq!(report["environment"]["from"], "API_BASE_URL");

    // --base-url wins over the variable: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let other = format!("http://{}/exirom/api", closed.local_addr().expect("addr"));
    drop(closed);
    let out = run(
        &["check", "exirom", "--base-url", &other, "--json"],
        &sb.env,
        None,
    );
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert_eq!(json_error(&out), "transient");
    assert!(
        text(&out).contains(&other),
        "the hint names it: {}",
        text(&out)
    );
}

#[test]
fn hints_speak_in_variables_and_flags() {
    let sb = sandbox();
    for d in providers::ALL.iter().filter(|d| d.sandbox_url.is_none()) {
        let mut env = sb.env.clone();
        env.remove(d.base_url_env);
        let out = run(&["check", d.name, "--json"], &env, None);
        assert_eq!(out.status.code(), Some(78), "{}", text(&out));
        assert_eq!(json_error(&out), "config");
        let printed = text(&out);
        assert!(printed.contains(d.base_url_env), "{printed}");
        assert!(printed.contains("--base-url"), "{printed}");
        assert!(!printed.contains(".base_url("), "no Rust call: {printed}");
    }
    // A refused credential: the hint names the variables and the host.
    let mut env = sb.env.clone();
    env.insert("PLEDG_API_SECRET".into(), "wrong".into());
    let out = run(&["check", "pledg"], &env, None);
    assert_eq!(out.status.code(), Some(77), "{}", text(&out));
    let printed = text(&out);
    assert!(
        printed.contains("hint: check PLEDG_API_KEY, PLEDG_API_SECRET"),
        "{printed}"
    );
    assert!(printed.contains(&sb.env["PLEDG_BASE_URL"]), "{printed}");
}

#[test]
fn check_all_checks_every_configured_provider_and_exits_with_the_worst_code() {
    let sb = sandbox();
    let out = run(&["check", "--all"], &sb.env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let printed = text(&out);
    for d in providers::ALL {
        assert!(
            printed
                .lines()
                .any(|l| l.starts_with(d.name) && l.contains("ok: ")),
            "{}: {printed}",
            d.name
        );
    }
    no_secret(&printed, &sb.env);

    // One provider's secret wrong, another's variables all unset.
    let mut env = sb.env.clone();
    env.insert("AXEPT_KEY".into(), "CANARY-all-0xdead".into());
    let dropped = providers::find("pledg").expect("pledg");
    for v in dropped.variables() {
        env.remove(v.name);
    }
    let out = run(&["check", "--all", "--json"], &env, None);
    assert_eq!(out.status.code(), Some(77), "{}", text(&out));
    let table: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(table["exit_code"], 77);
    let rows = table["providers"].as_array().expect("rows");
    assert_eq!(
        rows.len(),
        providers::ALL.len() - 1,
        "pledg is not configured"
    );
    let axept = rows
        .iter()
        .find(|r| r["provider"] == "axept")
        .expect("axept");
    assert_eq!(axept["exit_code"], 77);
    assert_eq!(axept["error"]["kind"], "invalid_credentials");
    assert!(!text(&out).contains("CANARY-all-0xdead"));

    // Nothing configured: 78.
    let out = run(&["check", "--all", "--json"], &Default::default(), None);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert_eq!(json_error(&out), "nothing_configured");
}

#[test]
fn api_keys_are_checked_with_the_probe_call() {
    let sb = sandbox();
    // bursagb: the login, then the ApiKey on list_supplier_products.
    let out = run(&["check", "bursagb", "--json"], &sb.env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["probe"]["operation"], "list_supplier_products");
    assert_eq!(report["probe"]["status"], 200);

    let mut env = sb.env.clone();
    env.insert("BURSAGB_API_KEY".into(), "CANARY-apikey-7e7e".into());
    let out = run(&["check", "bursagb"], &env, None);
    assert_eq!(out.status.code(), Some(77), "{}", text(&out));
    assert!(
        text(&out).contains("hint: check BURSAGB_API_KEY"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("CANARY-apikey-7e7e"));

    // Without the key: no probe, the login alone.
    env.remove("BURSAGB_API_KEY");
    let out = run(&["check", "bursagb", "--json"], &env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(report["probe"].is_null(), "{report}");

    // institution's Api-key: no read-only call to check it with.
    let mut env = sb.env.clone();
    env.insert("INSTITUTION_API_KEY".into(), "CANARY-inst-key-1".into());
    let out = run(&["check", "institution", "--json"], &env, None);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert_eq!(json_error(&out), "unverifiable");
    assert!(!text(&out).contains("CANARY-inst-key-1"));
}

#[test]
fn token_header_is_for_curl_and_names_the_environment() {
    let sb = sandbox();
    let out = run(&["token", "pledg", "--reveal", "--header"], &sb.env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout.clone()).expect("utf-8");
    let token = stdout
        .trim_end()
        .strip_prefix("Authorization: Bearer ")
        .unwrap_or_else(|| panic!("a header line: {stdout}"));
    assert_eq!(token.split('.').count(), 3, "{token}");
    assert_eq!(stdout.lines().count(), 1);
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(warning.contains(&sb.env["PLEDG_BASE_URL"]), "{warning}");
    assert!(!warning.contains(token));

    // The header works as curl would send it (`-H @-`).
    let rt = tokio_free_get(
        &format!("{}/sandbox/protected", sb.env["PLEDG_BASE_URL"]),
        token,
    );
    assert_eq!(rt, 200);

    let out = run(&["token", "exirom", "--reveal", "--json"], &sb.env, None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        v["environment"]["base_url"],
        sb.env["API_BASE_URL"].as_str()
    );
    assert!(
        v["token"].as_str().is_some_and(|t| t.starts_with("eyJ")),
        "{v}"
    );
}

/// A GET with a bearer token, on a thread of its own (blocking).
fn tokio_free_get(url: &str, token: &str) -> u16 {
    let url = url.to_string();
    let token = token.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client")
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        })
    })
    .join()
    .expect("joined")
}

#[test]
fn very_verbose_logs_the_runtime_and_no_secret() {
    let sb = sandbox();
    for d in providers::ALL {
        let out = run(&["check", d.name, "-vv"], &sb.env, None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let printed = text(&out);
        assert!(
            printed.contains("logging in"),
            "-vv shows the runtime's debug logs: {printed}"
        );
        no_secret(&printed, &sb.env);
    }
    // A refused canary, retried and logged at every level.
    let mut env = sb.env.clone();
    env.insert("MERCHANT_SECRET".into(), "CANARY-vv-secret-31337".into());
    for flag in ["-v", "-vv", "-vvv"] {
        let out = run(&["check", "exirom", flag], &env, None);
        assert_eq!(out.status.code(), Some(77), "{}", text(&out));
        let printed = text(&out);
        assert!(printed.contains("token fetch failed"), "{flag}: {printed}");
        assert!(
            !printed.contains("CANARY-vv-secret-31337"),
            "{flag}: {printed}"
        );
        no_secret(&printed, &sb.env);
    }
    // RUST_LOG decides when set.
    let mut env = sb.env.clone();
    env.insert("RUST_LOG".into(), "payauth_runtime=debug".into());
    let out = run(&["check", "pledg"], &env, None);
    assert!(text(&out).contains("logging in"), "{}", text(&out));
    no_secret(&text(&out), &sb.env);
}
