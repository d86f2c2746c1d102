//! Where things are: the workspace root, each provider's spec and its
//! generated file, the list of providers, and the workspace's packages.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The providers, in the order every listing uses. Each has
/// `specs/<name>.yaml` and `sdks/<name>/src/generated.rs`.
pub const PROVIDERS: &[&str] = &["exirom", "institution", "pledg", "bursagb", "axept"];

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `specs/<provider>.yaml` under `root`.
pub fn spec_path(root: &Path, provider: &str) -> PathBuf {
    root.join("specs").join(format!("{provider}.yaml"))
}

/// `sdks/<provider>/src/generated.rs` under `root`.
pub fn output_path(root: &Path, provider: &str) -> PathBuf {
    root.join("sdks")
        .join(provider)
        .join("src")
        .join("generated.rs")
}

/// One package of the workspace, as `cargo metadata` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The package name (`auth-runtime`).
    pub name: String,
    /// Its directory, relative to the workspace root (`sdks/runtime`).
    pub dir: PathBuf,
    /// Whether it may be published (`publish` is not `false`).
    pub publish: bool,
    /// The root files of its library and binaries, relative to `dir`
    /// (`src/lib.rs`, `src/main.rs`, `src/bin/x.rs`).
    pub roots: Vec<PathBuf>,
}

/// The workspace's packages, in the order of the root manifest's
/// `members` (`cargo metadata --no-deps`: no network, no build).
pub fn members(root: &Path) -> Result<Vec<Member>, Error> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let failed = |message: String| Error::Workspace { message };
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root)
        .output()
        .map_err(|e| failed(format!("could not run `cargo metadata`: {e}")))?;
    if !out.status.success() {
        return Err(failed(format!(
            "`cargo metadata` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| failed(format!("`cargo metadata` printed no JSON: {e}")))?;
    members_of(&metadata).map_err(failed)
}

/// [`members`] from `cargo metadata`'s JSON.
pub fn members_of(metadata: &serde_json::Value) -> Result<Vec<Member>, String> {
    let workspace = metadata["workspace_root"]
        .as_str()
        .ok_or("no workspace_root in cargo metadata")?;
    let workspace = Path::new(workspace);
    let packages = metadata["packages"]
        .as_array()
        .ok_or("no packages in cargo metadata")?;
    packages
        .iter()
        .map(|p| {
            let name = p["name"].as_str().ok_or("a package without a name")?;
            let manifest = Path::new(
                p["manifest_path"]
                    .as_str()
                    .ok_or_else(|| format!("{name}: no manifest_path"))?,
            );
            let dir = manifest
                .parent()
                .ok_or_else(|| format!("{name}: manifest without a directory"))?;
            // `publish`: null when publishable anywhere, `[]` when `false`,
            // a list of registries otherwise.
            let publish = !p["publish"].as_array().is_some_and(Vec::is_empty);
            let roots =
                p["targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|t| {
                        t["kind"].as_array().into_iter().flatten().any(|k| {
                            matches!(k.as_str(), Some("lib" | "rlib" | "bin" | "proc-macro"))
                        })
                    })
                    .filter_map(|t| t["src_path"].as_str())
                    .filter_map(|src| Path::new(src).strip_prefix(dir).ok())
                    .map(Path::to_path_buf)
                    .collect();
            Ok(Member {
                name: name.to_string(),
                dir: dir.strip_prefix(workspace).unwrap_or(dir).to_path_buf(),
                publish,
                roots,
            })
        })
        .collect()
}
