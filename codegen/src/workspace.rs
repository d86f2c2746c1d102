//! Where things are: the workspace root, each provider's spec and its
//! generated file, and the list of providers.

use std::path::{Path, PathBuf};

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
