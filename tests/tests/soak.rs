//! The short soak: every SDK against the sandbox with 2 s
//! tokens (bursagb at its default) and 5 % random faults on every route,
//! ≥ 20,000 calls. Asserts counts, not times: no failure reaches a caller,
//! providers refuse ≤ 0.01 % of calls with 401, and each provider's auth
//! calls stay ≤ 1.2 × token lifetimes + faulted token calls.
//! The long version: `cargo xtask soak --long` (README, "Performance"; BENCHMARKS.md).

use workspace_tests::soak::{self, SoakConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_soak_keeps_tokens_fresh_under_faults() {
    let report = soak::run(SoakConfig::short()).await;
    println!("{report}");
    let violations = report.violations();
    assert!(
        violations.is_empty(),
        "{report}\nbroken bounds:\n  {}",
        violations.join("\n  ")
    );
}
