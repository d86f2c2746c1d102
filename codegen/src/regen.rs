//! `cargo xtask regen [--check]`: every spec's generated client, and the
//! README's list of the specs' assumptions, rewritten or checked against
//! what is on disk.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::assumptions;
use crate::error::Error;
use crate::generate::{REGEN_COMMAND, generate};
use crate::workspace::{output_path, providers as all_providers, spec_path};

/// Whether [`regen`] rewrites stale files or only reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    Check,
}

/// What [`regen`] found and did.
#[derive(Debug, Default)]
pub struct Report {
    /// Files whose content already matched the generator's output.
    pub fresh: Vec<PathBuf>,
    /// Files that differed (rewritten in [`Mode::Write`], untouched in [`Mode::Check`]).
    pub stale: Vec<Stale>,
    pub mode: Option<Mode>,
}

/// One generated file that is not what its spec produces.
#[derive(Debug)]
pub struct Stale {
    pub path: PathBuf,
    /// A short unified diff, on-disk → expected.
    pub diff: String,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stale.is_empty() {
            return write!(f, "{} generated file(s) up to date", self.fresh.len());
        }
        match self.mode {
            Some(Mode::Write) => {
                for s in &self.stale {
                    writeln!(f, "updated {}", s.path.display())?;
                }
                Ok(())
            }
            _ => {
                writeln!(
                    f,
                    "{} generated file(s) are stale; run `{REGEN_COMMAND}` and commit the result:",
                    self.stale.len()
                )?;
                for s in &self.stale {
                    writeln!(f, "  stale: {}", s.path.display())?;
                }
                for s in &self.stale {
                    writeln!(
                        f,
                        "\n--- {} (first differences)\n{}",
                        s.path.display(),
                        s.diff
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// Regenerate (or check) the given providers; an empty list means all.
pub fn regen(root: &Path, providers: &[String], mode: Mode) -> Result<Report, Error> {
    let known = all_providers(root)?;
    let selected: Vec<&String> = if providers.is_empty() {
        known.iter().collect()
    } else {
        providers
            .iter()
            .map(|p| {
                known
                    .iter()
                    .find(|k| *k == p)
                    .ok_or_else(|| Error::UnknownProvider {
                        name: p.clone(),
                        known: known.clone(),
                    })
            })
            .collect::<Result<_, _>>()?
    };
    let mut report = Report {
        mode: Some(mode),
        ..Report::default()
    };
    for provider in selected {
        let spec = spec_path(root, provider);
        let yaml = read(&spec)?;
        let code = generate(&relative(root, &spec), &yaml)?;
        let out = output_path(root, provider);
        let current = std::fs::read_to_string(&out).unwrap_or_default();
        settle(out, &current, &code, mode, &mut report)?;
    }
    if providers.is_empty() {
        readme_assumptions(root, &known, mode, &mut report)?;
    }
    Ok(report)
}

/// The README's list of the specs' assumptions (`assumptions::BEGIN` …
/// `END`), rewritten or checked like a generated file.
fn readme_assumptions(
    root: &Path,
    providers: &[String],
    mode: Mode,
    report: &mut Report,
) -> Result<(), Error> {
    let mut specs = Vec::new();
    for provider in providers {
        let path = spec_path(root, provider);
        let doc: serde_json::Value =
            serde_yaml::from_str(&read(&path)?).map_err(|e| Error::Parse {
                file: relative(root, &path),
                message: e.to_string(),
            })?;
        specs.push((provider.as_str(), doc));
    }
    let section = assumptions::readme_section(&specs);
    let out = root.join("README.md");
    let current = read(&out)?;
    let Some(wanted) = assumptions::replace_section(&current, &section) else {
        return Err(Error::Parse {
            file: "README.md".to_string(),
            message: format!(
                "the markers of the assumptions section are missing: `{}` … `{}`",
                assumptions::BEGIN,
                assumptions::END
            ),
        });
    };
    settle(out, &current, &wanted, mode, report)
}

/// Whether the file `out` (now `current`) is what the generator makes
/// (`wanted`): fresh, or stale with its diff — rewritten in
/// [`Mode::Write`], only reported in check mode.
fn settle(
    out: PathBuf,
    current: &str,
    wanted: &str,
    mode: Mode,
    report: &mut Report,
) -> Result<(), Error> {
    if current == wanted {
        report.fresh.push(out);
        return Ok(());
    }
    let diff = short_diff(current, wanted, &out);
    if mode == Mode::Write {
        std::fs::write(&out, wanted).map_err(|source| Error::Io {
            path: out.display().to_string(),
            source,
        })?;
    }
    report.stale.push(Stale { path: out, diff });
    Ok(())
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn short_diff(old: &str, new: &str, path: &Path) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header(
            &format!("{} (on disk)", path.display()),
            "generated from the spec",
        )
        .to_string();
    const MAX_LINES: usize = 40;
    let mut lines: Vec<&str> = text.lines().take(MAX_LINES + 1).collect();
    if lines.len() > MAX_LINES {
        lines.truncate(MAX_LINES);
        lines.push("  … (diff truncated)");
    }
    lines.join("\n")
}
