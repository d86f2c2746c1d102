//! Where things are: the workspace root, each provider's spec and its
//! generated file, the providers (from the specs), and the workspace's
//! packages (from `cargo metadata`).

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The providers, sorted by name: one per `specs/<name>.yaml`, the one
/// list everything else takes its providers from (regen, the README's
/// assumptions, conformance, the tests). Fails when a spec has no crate
/// `sdks/<name>/` or a crate with generated code (`sdks/<name>/src/
/// generated.rs`) has no spec, so neither can be left out unnoticed.
pub fn providers(root: &Path) -> Result<Vec<String>, Error> {
    let failed = |message: String| Error::Providers { message };
    let listed = |dir: &Path| {
        std::fs::read_dir(dir)
            .map_err(|e| failed(format!("{}: {e}", dir.display())))
            .map(|entries| entries.flatten().map(|e| e.path()).collect::<Vec<_>>())
    };
    let mut providers: Vec<String> = listed(&root.join("specs"))?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    providers.sort();
    let mut problems = Vec::new();
    for p in &providers {
        if !p.starts_with(|c: char| c.is_ascii_lowercase())
            || !p
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            problems.push(format!(
                "specs/{p}.yaml: a provider's name is lower-case letters, digits and `_`"
            ));
        } else if !root.join("sdks").join(p).join("Cargo.toml").is_file() {
            problems.push(format!(
                "specs/{p}.yaml has no crate sdks/{p}/ (its generated code goes there)"
            ));
        }
    }
    for dir in listed(&root.join("sdks"))? {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if dir.join("src").join("generated.rs").is_file() && !providers.contains(&name) {
            problems.push(format!(
                "sdks/{name}/src/generated.rs has no spec specs/{name}.yaml"
            ));
        }
    }
    if problems.is_empty() {
        Ok(providers)
    } else {
        Err(failed(problems.join("; ")))
    }
}

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
    /// The package name (`payauth-runtime`).
    pub name: String,
    /// Its library's name, as code names it (`payauth_runtime`; `exirom`
    /// for `payauth-exirom`, whose `[lib]` keeps the provider's name);
    /// empty for a package without a library.
    pub lib: String,
    /// Its directory, relative to the workspace root (`sdks/runtime`).
    pub dir: PathBuf,
    pub version: String,
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

/// The packages an application can depend on (`publish` is not `false`),
/// by name: the public-API listings and the package check take them
/// from here.
pub fn publishable(root: &Path) -> Result<Vec<Member>, Error> {
    Ok(members(root)?.into_iter().filter(|m| m.publish).collect())
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
            let lib = p["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| {
                    t["kind"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|k| matches!(k.as_str(), Some("lib" | "rlib" | "proc-macro")))
                })
                .and_then(|t| t["name"].as_str())
                .unwrap_or_default()
                .replace('-', "_");
            Ok(Member {
                name: name.to_string(),
                lib,
                version: p["version"].as_str().unwrap_or_default().to_string(),
                dir: dir.strip_prefix(workspace).unwrap_or(dir).to_path_buf(),
                publish,
                roots,
            })
        })
        .collect()
}
