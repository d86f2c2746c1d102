//! `cargo xtask demo`: the embedded sandbox and every SDK, each over
//! the whole token lifecycle, every printed expectation checked
//! (`workspace_tests::demo`); exits 1 when one fails.

#[tokio::main]
async fn main() {
    let report = workspace_tests::demo::run(&mut std::io::stdout()).await;
    if !report.ok() {
        std::process::exit(1);
    }
}
