//! `cargo xtask demo`, run as a test: every step it prints is checked, and
//! none may fail (a demo line that could say "false" is a failing test).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_passes_every_check() {
    let mut printed = Vec::new();
    let report = workspace_tests::demo::run(&mut printed).await;
    let printed = String::from_utf8(printed).expect("utf-8");
    assert!(report.ok(), "{printed}");
    // Five providers, each: cached calls, refresh, 401, 503 (+ institution's
    // refresh token, pledg's signed call), and its telemetry checked
    // against the counters.
    assert_eq!(report.checks, 27, "{printed}");
    assert!(printed.contains("OpenTelemetry metrics"), "{printed}");
    assert_eq!(
        printed.matches("telemetry matches the counters").count(),
        5,
        "{printed}"
    );
    assert!(!printed.contains("FAILED"), "{printed}");
    assert!(!printed.contains("false"), "{printed}");
    assert!(printed.contains("refreshed in the background"), "{printed}");
    assert!(printed.contains("hand-made `send`, bearer"), "{printed}");
}
