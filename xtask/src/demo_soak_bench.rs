//! `cargo xtask demo`, `soak` and `bench`: the workspace-tests examples
//! and the criterion benchmarks, run with their arguments passed on.

use anyhow::Result;

use crate::cargo::cargo;

pub fn demo(args: &[String]) -> Result<()> {
    let mut cmd = vec![
        "run",
        "--quiet",
        "-p",
        "workspace-tests",
        "--example",
        "demo",
        "--",
    ];
    cmd.extend(args.iter().map(String::as_str));
    cargo(&cmd)
}

pub fn soak(args: &[String]) -> Result<()> {
    let mut cmd = vec![
        "run",
        "--quiet",
        "--release",
        "-p",
        "workspace-tests",
        "--example",
        "soak",
        "--",
    ];
    cmd.extend(args.iter().map(String::as_str));
    cargo(&cmd)
}

pub fn bench(args: &[String]) -> Result<()> {
    let mut cmd = vec![
        "bench",
        "-p",
        "workspace-tests",
        "--bench",
        "overhead",
        "-p",
        "payauth-runtime",
        "--bench",
        "token_read",
        "--bench",
        "principals",
    ];
    if !args.is_empty() {
        cmd.push("--");
        cmd.extend(args.iter().map(String::as_str));
    }
    cargo(&cmd)
}
