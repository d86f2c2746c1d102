//! Exit codes a script can trust: one per failure mode, usage errors
//! (clap's too) their own, JSON errors that parse; help, completions, no
//! waiting on a terminal, Ctrl-C.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, json_error, run, sandbox, scratch, text};
use payauth::providers;

#[test]
fn usage_errors_exit_64_as_text_and_as_json() {
    let none = HashMap::new();
    for args in [
        &["check", "nope"][..],
        &["check"],
        &["check", "exirom", "--no-such-flag"],
        &["token", "pledg"],
        &[
            "sandbox",
            "trigger",
            "exirom",
            "notification",
            "--to",
            "http://127.0.0.1:9/x",
        ],
        &["sandbox", "fault", "pledg", "999"],
        &["sandbox", "clock", "advance", "ten minutes"],
        &["frobnicate"],
    ] {
        let out = run(args, &none, None);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", text(&out));
        let mut json_args = args.to_vec();
        json_args.push("--json");
        let out = run(&json_args, &none, None);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", text(&out));
        assert_eq!(json_error(&out), "usage", "{args:?}");
    }
}

#[test]
fn help_lists_every_provider_s_variables_the_exit_codes_and_examples() {
    let out = run(&["--help"], &HashMap::new(), None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    for d in providers::ALL {
        for v in d.variables() {
            assert!(help.contains(v.name), "{} in --help", v.name);
        }
    }
    for code in [
        "  64  usage",
        "  77  the provider refused",
        "  78  configuration",
        " 130  interrupted",
    ] {
        assert!(help.contains(code), "{code}: {help}");
    }
    for command in [
        "check",
        "token",
        "verify-callback",
        "sandbox",
        "completions",
    ] {
        let out = run(&[command, "--help"], &HashMap::new(), None);
        assert_eq!(out.status.code(), Some(0));
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Example"), "{command}: {help}");
    }
}

#[test]
fn completions_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(&["completions", shell], &HashMap::new(), None);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            script.contains("verify-callback") && script.contains("env-file"),
            "{shell}"
        );
    }
}

#[test]
fn unreadable_input_is_66_malformed_input_65_not_genuine_1() {
    let mut env = HashMap::new();
    env.insert("MERCHANT_SECRET".to_string(), "sbx".to_string());
    let dir = scratch("inputs");
    let missing = dir.join("no-such-body.json");
    let out = run(
        &[
            "verify-callback",
            "exirom",
            "--body",
            missing.to_str().expect("utf-8"),
            "--json",
        ],
        &env,
        None,
    );
    assert_eq!(out.status.code(), Some(66), "{}", text(&out));
    assert_eq!(json_error(&out), "unreadable_input");

    let out = run(
        &["verify-callback", "exirom", "-H", "no colon here"],
        &env,
        Some(b"{}"),
    );
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));

    // Not genuine: 1, and the verdict parses.
    let out = run(&["verify-callback", "exirom", "--json"], &env, Some(b"{}"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["error"]["kind"], "unsigned", "{verdict}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unusable_provider_answer_is_69() {
    let sb = sandbox();
    // The sandbox answers 404 below a path no provider has.
    let base = format!("{}/nowhere", sb.root);
    let out = run(
        &["check", "exirom", "--base-url", &base, "--json"],
        &sb.env,
        None,
    );
    assert_eq!(out.status.code(), Some(69), "{}", text(&out));
    assert_eq!(json_error(&out), "not_found");
}

/// A pseudo-terminal's follower end, as a child's stdin.
fn terminal() -> (std::os::fd::OwnedFd, std::fs::File) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let leader = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("a pty");
    grantpt(&leader).expect("grantpt");
    unlockpt(&leader).expect("unlockpt");
    let name = ptsname(&leader, Vec::new()).expect("ptsname");
    let follower = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().expect("utf-8 name"))
        .expect("the follower end");
    (leader, follower)
}

#[test]
fn verify_callback_on_a_terminal_prints_help_instead_of_waiting() {
    let (_leader, follower) = terminal();
    let mut child = Command::new(BIN)
        .args(["verify-callback", "exirom"])
        .env_clear()
        .env("MERCHANT_SECRET", "sbx")
        .stdin(Stdio::from(follower))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let started = Instant::now();
    while child.try_wait().expect("status").is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("waited on the terminal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("ends");
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(
        text(&out).contains("Usage: payauth verify-callback"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("--body"), "{}", text(&out));
}

#[test]
fn ctrl_c_on_the_sandbox_exits_130() {
    let mut child = Command::new(BIN)
        .args(["sandbox", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    assert!(
        lines.any(|l| l.is_ok_and(|l| l.starts_with("# ready"))),
        "the sandbox is ready"
    );
    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("SIGINT sent");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("status") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("still running after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
}
