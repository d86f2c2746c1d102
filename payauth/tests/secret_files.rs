//! Secrets from files: `<VAR>_FILE` (every crate's `from_env`) and
//! `--env-file` (dotenv) are honoured, and what they hold is never echoed.

mod common;

use std::collections::HashMap;

use common::{json_error, no_secret, run, sandbox, scratch, text};

#[test]
fn var_file_is_read_trimmed_and_never_echoed() {
    let sb = sandbox();
    let dir = scratch("var-file");
    let secret_file = dir.join("merchant_secret");
    // A trailing newline, as `echo` and editors write it.
    std::fs::write(&secret_file, format!("{}\n", sb.env["MERCHANT_SECRET"])).expect("written");
    let mut env = sb.env.clone();
    env.remove("MERCHANT_SECRET");
    env.insert(
        "MERCHANT_SECRET_FILE".into(),
        secret_file.to_str().expect("utf-8").into(),
    );
    let out = run(&["check", "exirom", "-vv"], &env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    no_secret(&text(&out), &sb.env);

    // A wrong secret in the file: refused, and not echoed.
    std::fs::write(&secret_file, "CANARY-file-secret-4242\r\n").expect("written");
    let out = run(&["check", "exirom", "--json"], &env, None);
    assert_eq!(out.status.code(), Some(77), "{}", text(&out));
    assert_eq!(json_error(&out), "invalid_credentials");
    assert!(!text(&out).contains("CANARY-file-secret-4242"));

    // An empty file is unset, as an empty variable is.
    std::fs::write(&secret_file, "\n").expect("written");
    let out = run(&["check", "exirom"], &env, None);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(
        text(&out).contains("MERCHANT_SECRET is not set"),
        "{}",
        text(&out)
    );

    // Both the variable and its file: refused, neither quoted.
    std::fs::write(&secret_file, "CANARY-file-secret-4242").expect("written");
    env.insert("MERCHANT_SECRET".into(), "CANARY-var-secret-2424".into());
    let out = run(&["check", "exirom", "--json"], &env, None);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert_eq!(json_error(&out), "config");
    let printed = text(&out);
    assert!(printed.contains("MERCHANT_SECRET_FILE"), "{printed}");
    assert!(
        !printed.contains("CANARY-file-secret-4242") && !printed.contains("CANARY-var-secret-2424")
    );

    // A secret put in <VAR>_FILE by mistake: the path is not quoted either.
    env.remove("MERCHANT_SECRET");
    env.insert(
        "MERCHANT_SECRET_FILE".into(),
        "CANARY-pasted-secret-9999".into(),
    );
    let out = run(&["check", "exirom"], &env, None);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    let printed = text(&out);
    assert!(printed.contains("MERCHANT_SECRET_FILE"), "{printed}");
    assert!(!printed.contains("CANARY-pasted-secret-9999"), "{printed}");

    // The callback secret too (verify-callback reads it the same way).
    let mut env = HashMap::new();
    let key_file = dir.join("pledg_secret_key");
    std::fs::write(&key_file, "CANARY-pledg-key\n").expect("written");
    env.insert(
        "PLEDG_SECRET_KEY_FILE".to_string(),
        key_file.to_str().expect("utf-8").to_string(),
    );
    let out = run(
        &["verify-callback", "pledg"],
        &env,
        Some(b"{\"signature\": \"x.y.z\"}"),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "read, then not genuine: {}",
        text(&out)
    );
    assert!(!text(&out).contains("CANARY-pledg-key"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn env_file_is_honoured_wins_over_the_environment_and_is_never_echoed() {
    let sb = sandbox();
    let dir = scratch("env-file");
    let env_file = dir.join("sandbox.env");
    let mut lines: Vec<String> = sb
        .env
        .iter()
        .map(|(k, v)| format!("export {k}=\"{v}\""))
        .collect();
    lines.insert(0, "# the sandbox's variables".into());
    std::fs::write(&env_file, lines.join("\n")).expect("written");
    let path = env_file.to_str().expect("utf-8");

    // Nothing in the environment: the file alone.
    let out = run(
        &["check", "--all", "--env-file", path],
        &HashMap::new(),
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    no_secret(&text(&out), &sb.env);

    // The file wins over a wrong value in the environment.
    let mut env = HashMap::new();
    env.insert(
        "PLEDG_API_SECRET".to_string(),
        "CANARY-env-loses".to_string(),
    );
    let out = run(&["--env-file", path, "check", "pledg"], &env, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // A wrong value in the file: refused, not echoed.
    std::fs::write(
        &env_file,
        format!(
            "{}\nPLEDG_API_SECRET=CANARY-envfile-0101\n",
            lines.join("\n")
        ),
    )
    .expect("written");
    let out = run(
        &["check", "pledg", "--env-file", path, "-vv"],
        &HashMap::new(),
        None,
    );
    assert_eq!(out.status.code(), Some(77), "{}", text(&out));
    assert!(!text(&out).contains("CANARY-envfile-0101"));

    // A line that is not KEY=value: configuration, the line not quoted.
    std::fs::write(&env_file, "GOOD=1\nCANARY-broken line 'unterminated\n").expect("written");
    let out = run(
        &["check", "pledg", "--env-file", path, "--json"],
        &HashMap::new(),
        None,
    );
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert_eq!(json_error(&out), "env_file");
    assert!(!text(&out).contains("CANARY-broken"), "{}", text(&out));

    // A file that is not there.
    let missing = dir.join("missing.env");
    let out = run(
        &[
            "check",
            "pledg",
            "--env-file",
            missing.to_str().expect("utf-8"),
        ],
        &HashMap::new(),
        None,
    );
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
