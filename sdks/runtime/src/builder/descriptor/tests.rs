//! Tests of the descriptor: hosts, deployments, variables, durations.

use std::time::Duration;

use super::*;

#[test]
fn loopback_hosts_are_local() {
    assert!(is_loopback("http://127.0.0.1:8080/exirom/api"));
    assert!(is_loopback("http://localhost:1"));
    assert!(is_loopback("http://[::1]:1/x"));
    assert!(!is_loopback("https://api.exirom.com/api"));
    assert!(!is_loopback("not a url"));
}

#[test]
fn durations_read_in_days_hours_minutes_or_seconds() {
    let secs = Duration::from_secs;
    assert_eq!(human_duration(Duration::ZERO), "0min 0s");
    assert_eq!(human_duration(Duration::from_millis(59_999)), "0min 59s");
    assert_eq!(human_duration(secs(26 * 60 + 51)), "26min 51s");
    assert_eq!(human_duration(secs(3600)), "1h 0min 0s");
    assert_eq!(human_duration(secs(3600 + 5 * 60 + 7)), "1h 5min 7s");
    assert_eq!(human_duration(secs(2 * 86_400)), "2d 0h 0min");
    assert_eq!(
        human_duration(secs(86_400 + 3 * 3600 + 4 * 60 + 59)),
        "1d 3h 4min"
    );
    assert_eq!(human_duration(Duration::MAX), "213503982334601d 7h 0min");
}

#[test]
fn the_documented_hosts_name_the_deployment() {
    let d = Descriptor {
        name: "test",
        about: About {
            mechanism: "",
            variables: &[],
            lifetimes: Lifetimes {
                access: None,
                refresh: None,
                expiry_from: "",
            },
            probe: None,
            example: Call {
                operation: "",
                method: "GET",
                path: "/",
                auth: CallAuth::Bearer,
                retry_safe: true,
                needs: None,
            },
            login_page_call: None,
            callbacks: None,
        },
        base_url_env: "TEST_BASE_URL",
        sandbox_url: Some("https://sandbox.example.com/api"),
        production_url: Some("https://example.com/api"),
        connect: |d, _, _| Err(Error::config(d.name, "not in this test")),
        login_request: |_, _, _| Err(Error::config("test", "not in this test")),
        trigger: |d, _, _| {
            Box::pin(std::future::ready(Err(Error::config(
                d.name,
                "not in this test",
            ))))
        },
    };
    assert_eq!(
        d.deployment("https://sandbox.example.com/api/"),
        Deployment::Sandbox
    );
    assert_eq!(
        d.deployment("https://example.com/api"),
        Deployment::Production
    );
    assert_eq!(d.deployment("http://127.0.0.1:9/x"), Deployment::Local);
    assert_eq!(d.deployment("https://proxy.example.net"), Deployment::Other);
    let names: Vec<&str> = d.variables().map(|v| v.name).collect();
    assert_eq!(names, ["TEST_BASE_URL"]);
}
