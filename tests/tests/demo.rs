//! `cargo xtask demo`, run as a test: every step it prints is checked, and
//! none may fail (a demo line that could say "false" is a failing test).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_passes_every_check() {
    let mut printed = Vec::new();
    let report = workspace_tests::demo::run(&mut printed).await;
    let printed = String::from_utf8(printed).expect("utf-8");
    assert!(report.ok(), "{printed}");
    // Every provider: cached calls, refresh, 401, 503 (+ a refresh token,
    // an example with no token, where they apply), and its telemetry
    // checked against the counters — counted from the descriptors.
    let expected = workspace_tests::demo::expected_checks();
    assert_eq!(report.checks, expected, "{printed}");
    assert!(workspace_tests::support::providers().count() > 0);
    assert!(printed.contains("OpenTelemetry metrics"), "{printed}");
    assert_eq!(
        printed.matches("telemetry matches the counters").count(),
        workspace_tests::support::providers().count(),
        "{printed}"
    );
    assert!(!printed.contains("FAILED"), "{printed}");
    assert!(!printed.contains("false"), "{printed}");
    assert!(printed.contains("refreshed in the background"), "{printed}");
    assert!(printed.contains("hand-made `send`, bearer"), "{printed}");
}
