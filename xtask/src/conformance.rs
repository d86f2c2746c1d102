//! `cargo xtask conformance`: an independent property-based API fuzzer
//! (schemathesis, from PyPI, pinned) against the sandbox, one spec at a
//! time. It reports server errors, responses that violate the spec, and
//! requests the spec forbids that the sandbox accepted; any of them fails
//! the command.
//!
//! Steps: a virtualenv under `target/conformance-venv` (created and filled
//! on first use), the sandbox binary started on a free loopback port and
//! stopped by its pid, `xtask/conformance.py` driving schemathesis with the
//! sandbox's credentials (and `conformance_hooks.py` signing the operations
//! the specs' extensions say are signed, with the sandbox's signing secret of
//! the provider), one spec after another as `conformance_plan` reads them
//! (`target/conformance/plan.json`; `--plan` prints it). Reports land in
//! `target/conformance/<provider>.ndjson`. Each signed operation must also
//! get a 2xx answer, which only a request past its signature check gets.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::conformance_plan::plans;

/// The fuzzer and its version, pinned: a new release can change what it
/// generates and checks.
pub const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// Test cases per operation (`--max-examples`); `CONFORMANCE_EXAMPLES` overrides.
pub const DEFAULT_EXAMPLES: &str = "30";

/// The target directory the venv and the reports live in.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Make the fuzzer's venv ready (`cargo xtask test` does it in the
/// background while it compiles: it waits on the network, not the CPU).
pub fn prepare() -> Result<PathBuf> {
    ensure_venv(&target_dir(&codegen::workspace_root()).join("conformance-venv"))
}

pub fn run(cargo: impl Fn(&[&str]) -> Result<()>) -> Result<()> {
    let root = codegen::workspace_root();
    let target = target_dir(&root);
    let python = ensure_venv(&target.join("conformance-venv"))?;
    cargo(&["build", "--quiet", "-p", "payauth-sandbox"])?;
    let port = free_port()?;
    let mut sandbox = Sandbox(
        Command::new(target.join("debug").join("payauth-sandbox"))
            .args(["--port", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("could not start the sandbox binary")?,
    );
    wait_until_listening(port, &mut sandbox.0)?;
    let examples =
        std::env::var("CONFORMANCE_EXAMPLES").unwrap_or_else(|_| DEFAULT_EXAMPLES.to_string());
    let reports = target.join("conformance");
    std::fs::create_dir_all(&reports)?;
    let plan = reports.join("plan.json");
    std::fs::write(&plan, serde_json::to_string_pretty(&plans(&root)?)?)?;
    let status = Command::new(&python)
        // schemathesis keeps a `.schemathesis/` cache in its working directory.
        .current_dir(&reports)
        .arg(root.join("xtask").join("conformance.py"))
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(&plan)
        .arg(&reports)
        .arg(&examples)
        .status()
        .context("could not run the conformance driver")?;
    drop(sandbox);
    if !status.success() {
        bail!("the fuzzer found problems (see above and target/conformance/*.ndjson)");
    }
    Ok(())
}

/// The sandbox process, killed by its pid when dropped.
struct Sandbox(Child);

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The venv's python with the pinned schemathesis, creating it if needed.
fn ensure_venv(venv: &Path) -> Result<PathBuf> {
    let python = venv.join("bin").join("python");
    let pinned = SCHEMATHESIS.trim_start_matches("schemathesis==");
    let ready = Command::new(&python)
        .args([
            "-c",
            &format!(
                "import importlib.metadata as m; assert m.version('schemathesis') == '{pinned}'"
            ),
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ready {
        return Ok(python);
    }
    eprintln!("\ncreating {} with {SCHEMATHESIS}", venv.display());
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv)
        .status()
        .context("python3 is needed for the conformance fuzzer")?;
    if !made.success() {
        bail!("`python3 -m venv` failed (on Debian: apt-get install -y python3-venv)");
    }
    // Its output kept until it fails: it may run beside other phases.
    let installed = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", SCHEMATHESIS])
        .output()?;
    if !installed.status.success() {
        bail!(
            "`pip install {SCHEMATHESIS}` failed:\n{}{}",
            String::from_utf8_lossy(&installed.stdout),
            String::from_utf8_lossy(&installed.stderr)
        );
    }
    Ok(python)
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn wait_until_listening(port: u16, child: &mut Child) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("the sandbox exited before listening ({status})");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("the sandbox did not listen on 127.0.0.1:{port} within 60 s")
}
