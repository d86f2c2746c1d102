//! `cargo xtask new-provider NAME`: a new provider, scaffolded from the
//! templates in `xtask/templates/` — a plain OAuth2 client-credentials API
//! (`POST /oauth/token`, form body, opaque token, `expires_in`; one bearer
//! `GET /v1/account`) — and registered in the one place each list lives.
//!
//! It writes the spec `specs/NAME.yaml`, the crate `sdks/NAME/` (its
//! manifest, `lib.rs` as a profile and variables, `descriptor.rs`, an
//! end-to-end test against the sandbox), the sandbox's plug-in
//! `sdks/sandbox/src/providers/NAME.rs`; and one line each in the sandbox's
//! plug-in list, `payauth`'s dependencies, `payauth::providers::ALL` and
//! ARCHITECTURE.md's code map. Every edit is computed before any file is
//! written: a workspace whose lists are not where they are expected is
//! left untouched.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The templates, kept in the repository and built into the command.
const SPEC: &str = include_str!("../templates/spec.yaml.tmpl");
const MANIFEST: &str = include_str!("../templates/Cargo.toml.tmpl");
const LIB: &str = include_str!("../templates/lib.rs.tmpl");
const DESCRIPTOR: &str = include_str!("../templates/descriptor.rs.tmpl");
const E2E_TEST: &str = include_str!("../templates/sandbox_test.rs.tmpl");
const PLUGIN: &str = include_str!("../templates/sandbox_plugin.rs.tmpl");

/// Names a provider cannot take: the workspace's other crates and folders.
const TAKEN: &[&str] = &[
    "runtime",
    "auth_runtime",
    "payauth_runtime",
    "payauth_sandbox",
    "sandbox",
    "codegen",
    "xtask",
    "payauth",
    "tests",
    "consumer",
    "workspace_tests",
    "core",
    "std",
    "alloc",
];

/// A provider's name in the three spellings the templates use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// `demo_oauth`: crate, spec, URL prefix, module.
    pub snake: String,
    /// `DemoOauth`: types.
    pub pascal: String,
    /// `DEMO_OAUTH`: environment variables.
    pub upper: String,
}

impl Names {
    pub fn new(name: &str) -> Result<Names> {
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !name.ends_with('_')
            && !name.contains("__")
            && name.len() <= 40;
        if !valid {
            bail!(
                "`{name}`: a provider's name is lower-case letters, digits and single `_` \
                 (a letter first, at most 40), e.g. `demo_oauth`"
            );
        }
        if TAKEN.contains(&name) {
            bail!("`{name}` is taken by the workspace");
        }
        let pascal = name
            .split('_')
            .map(|part| {
                let mut chars = part.chars();
                chars
                    .next()
                    .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect();
        Ok(Names {
            snake: name.to_string(),
            pascal,
            upper: name.to_ascii_uppercase(),
        })
    }

    /// `template` with `{{name}}`, `{{Name}}` and `{{NAME}}` filled in.
    pub fn fill(&self, template: &str) -> String {
        template
            .replace("{{name}}", &self.snake)
            .replace("{{Name}}", &self.pascal)
            .replace("{{NAME}}", &self.upper)
    }
}

/// One file to write: a new one, or an existing one edited.
#[derive(Debug)]
struct Write {
    path: PathBuf,
    content: String,
    new: bool,
}

/// `cargo xtask new-provider NAME` in the workspace at `root`.
pub fn new_provider(root: &Path, name: &str) -> Result<()> {
    let n = Names::new(name)?;
    let writes = plan(root, &n)?;
    for w in &writes {
        if let Some(dir) = w.path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
        }
        std::fs::write(&w.path, &w.content)
            .with_context(|| format!("could not write {}", w.path.display()))?;
        let shown = w.path.strip_prefix(root).unwrap_or(&w.path).display();
        println!("{} {shown}", if w.new { "wrote " } else { "edited" });
    }
    // The templates are formatted for one name's length; rustfmt makes
    // any name's output what `cargo fmt --all --check` expects.
    let rust: Vec<&Path> = writes
        .iter()
        .map(|w| w.path.as_path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_string());
    let formatted = std::process::Command::new(rustfmt)
        .args(["--edition", "2024"])
        .args(&rust)
        .status();
    if !formatted.is_ok_and(|s| s.success()) {
        eprintln!("warning: rustfmt did not run; run `cargo fmt --all`");
    }
    let p = &n.snake;
    println!(
        "\nNext (README, \"Adding a provider\"):\n\
         \x20 cargo xtask regen\n\
         \x20 cargo test -p payauth-{p}\n\
         \x20 cargo xtask public-api\n\
         \x20 INSTA_UPDATE=always cargo test -p workspace-tests --test codegen\n\
         then make it the real provider: the spec (servers, token endpoint, operations), the \
         TokenEndpoint and Profile in sdks/{p}/src/lib.rs, its descriptor, and the sandbox's \
         sdks/sandbox/src/providers/{p}.rs."
    );
    Ok(())
}

/// One list's edit: its text → its text with the provider registered.
type Registration = fn(&str, &Names) -> Result<String>;

/// Every file the command writes, computed before any is written.
fn plan(root: &Path, n: &Names) -> Result<Vec<Write>> {
    let p = &n.snake;
    let crate_dir = root.join("sdks").join(p);
    let spec = root.join("specs").join(format!("{p}.yaml"));
    let plugin = root.join(format!("sdks/sandbox/src/providers/{p}.rs"));
    for taken in [
        &crate_dir,
        &spec,
        &plugin,
        &root.join(format!("sdks/sandbox/src/providers/{p}")),
    ] {
        if taken.exists() {
            bail!("{} exists: `{p}` is a provider already", taken.display());
        }
    }
    let new = |path: PathBuf, template: &str| Write {
        path,
        content: n.fill(template),
        new: true,
    };
    let mut writes = vec![
        new(spec, SPEC),
        new(crate_dir.join("Cargo.toml"), MANIFEST),
        new(crate_dir.join("src/lib.rs"), LIB),
        new(crate_dir.join("src/descriptor.rs"), DESCRIPTOR),
        new(crate_dir.join("tests/sandbox.rs"), E2E_TEST),
        new(plugin, PLUGIN),
    ];
    let edits: [(&str, Registration); 4] = [
        ("sdks/sandbox/src/providers/mod.rs", register_plugin),
        ("payauth/Cargo.toml", register_dependency),
        ("payauth/src/providers.rs", register_descriptor),
        ("ARCHITECTURE.md", register_in_code_map),
    ];
    for (file, edit) in edits {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?;
        let content = edit(&text, n).with_context(|| format!("{file}: cannot register `{p}`"))?;
        writes.push(Write {
            path,
            content,
            new: false,
        });
    }
    Ok(writes)
}

/// `text` with `line` inserted after the last line `after` accepts.
fn insert_after_last(text: &str, line: &str, after: impl Fn(&str) -> bool) -> Result<String> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(at) = lines.iter().rposition(|l| after(l)) else {
        bail!("no line to insert `{line}` after");
    };
    Ok(rejoin(&lines, at + 1, line, text))
}

/// `text` with `line` inserted before the first line `before` accepts
/// that follows the first line `start` accepts.
fn insert_before(
    text: &str,
    line: &str,
    start: impl Fn(&str) -> bool,
    before: impl Fn(&str) -> bool,
) -> Result<String> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(from) = lines.iter().position(|l| start(l)) else {
        bail!("the list to insert `{line}` in is missing");
    };
    let Some(end) = lines[from..].iter().position(|l| before(l)) else {
        bail!("the list to insert `{line}` in has no end");
    };
    Ok(rejoin(&lines, from + end, line, text))
}

fn rejoin(lines: &[&str], at: usize, line: &str, original: &str) -> String {
    let mut out: Vec<&str> = lines.to_vec();
    out.insert(at, line);
    let mut text = out.join("\n");
    if original.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The sandbox's plug-in list: the module, its configuration's
/// re-export, its entry in `REGISTRY`.
fn register_plugin(text: &str, n: &Names) -> Result<String> {
    let (p, t) = (&n.snake, &n.pascal);
    let is_mod = |l: &str| l.starts_with("mod ") && l.ends_with(';');
    let text = insert_after_last(text, &format!("mod {p};"), is_mod)?;
    let text = insert_after_last(&text, &format!("pub use {p}::{t}Config;"), |l| {
        l.starts_with("pub use ") && l.ends_with(';') && !l.starts_with("pub use crate")
    })?;
    insert_before(
        &text,
        &format!("    &{p}::{t},"),
        |l| l.contains("REGISTRY: &[&dyn Plugin]"),
        |l| l.trim() == "];",
    )
}

/// `payauth`'s dependency on the crate, next to the other providers'.
fn register_dependency(text: &str, n: &Names) -> Result<String> {
    let p = &n.snake;
    insert_after_last(
        text,
        &format!("payauth-{p} = {{ path = \"../sdks/{p}\" }}"),
        |l| l.contains("path = \"../sdks/"),
    )
}

/// `payauth::providers::ALL`: the descriptor every tool iterates.
fn register_descriptor(text: &str, n: &Names) -> Result<String> {
    insert_before(
        text,
        &format!("    &{}::descriptor::DESCRIPTOR,", n.snake),
        |l| l.contains("pub static ALL: &[&Descriptor]"),
        |l| l.trim() == "];",
    )
}

/// ARCHITECTURE.md's code map names every hand-written file: the crate's
/// three and the sandbox's plug-in.
fn register_in_code_map(text: &str, n: &Names) -> Result<String> {
    let p = &n.snake;
    // Rows go in after the table's last row (past the heading's own blank
    // line and any paragraph under it).
    let mut text = text.to_string();
    for row in [
        format!(
            "| `{p}/src/lib.rs` | {p}: OAuth2 client credentials (form body) → opaque token; its profile and variables |"
        ),
        format!("| `{p}/src/descriptor.rs` | {p} described for tools |"),
        format!("| `{p}/tests/sandbox.rs` | {p} end to end against the sandbox |"),
    ] {
        text = append_row(&text, "### `sdks/` (the provider crates)", &row)?;
    }
    text = append_row(
        &text,
        "### `sdks/sandbox/src/`",
        &format!(
            "| `providers/{p}.rs` | {p}: the shared OAuth2 emulation configured (form body, opaque tokens), and `GET /v1/account` |"
        ),
    )?;
    Ok(text)
}

/// `text` with `row` after the last row of the first table under `heading`.
fn append_row(text: &str, heading: &str, row: &str) -> Result<String> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| l.starts_with(heading)) else {
        bail!("no heading `{heading}`");
    };
    let Some(first_row) = lines[start..].iter().position(|l| l.starts_with('|')) else {
        bail!("no table under `{heading}`");
    };
    let first_row = start + first_row;
    let last_row = first_row
        + lines[first_row..]
            .iter()
            .take_while(|l| l.starts_with('|'))
            .count();
    Ok(rejoin(&lines, last_row, row, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names::new("demo_oauth").expect("a valid name")
    }

    #[test]
    fn names_are_spelled_three_ways_and_checked() {
        let n = names();
        assert_eq!(
            (n.pascal.as_str(), n.upper.as_str()),
            ("DemoOauth", "DEMO_OAUTH")
        );
        assert_eq!(
            n.fill("{{name}} {{Name}} {{NAME}}"),
            "demo_oauth DemoOauth DEMO_OAUTH"
        );
        for bad in [
            "", "Demo", "9lives", "a-b", "a__b", "a_", "sandbox", "tests", "é",
        ] {
            assert!(Names::new(bad).is_err(), "{bad}");
        }
        assert_eq!(Names::new("p2p").unwrap().pascal, "P2p");
    }

    #[test]
    fn the_templates_leave_no_placeholder() {
        let n = names();
        for t in [SPEC, MANIFEST, LIB, DESCRIPTOR, E2E_TEST, PLUGIN] {
            let filled = n.fill(t);
            assert!(!filled.contains("{{"), "{filled}");
            assert!(filled.contains("demo_oauth"));
        }
    }

    #[test]
    fn the_plugin_goes_in_the_one_list() {
        let before = "//! doc\n\nmod axept;\nmod pledg;\n\npub use axept::AxeptConfig;\npub use pledg::PledgConfig;\n\nuse crate::plugin::Plugin;\n\npub(crate) const REGISTRY: &[&dyn Plugin] = &[\n    &pledg::Pledg,\n    &axept::Axept,\n];\n";
        let after = register_plugin(before, &names()).unwrap();
        assert_eq!(
            after,
            "//! doc\n\nmod axept;\nmod pledg;\nmod demo_oauth;\n\npub use axept::AxeptConfig;\npub use pledg::PledgConfig;\npub use demo_oauth::DemoOauthConfig;\n\nuse crate::plugin::Plugin;\n\npub(crate) const REGISTRY: &[&dyn Plugin] = &[\n    &pledg::Pledg,\n    &axept::Axept,\n    &demo_oauth::DemoOauth,\n];\n"
        );
        assert!(register_plugin("mod a;\n", &names()).is_err());
    }

    #[test]
    fn payauth_gets_the_dependency_and_the_descriptor() {
        let manifest = "[dependencies]\npayauth-runtime.workspace = true\npayauth-axept = { path = \"../sdks/axept\" }\ntokio.workspace = true\n";
        assert_eq!(
            register_dependency(manifest, &names()).unwrap(),
            "[dependencies]\npayauth-runtime.workspace = true\npayauth-axept = { path = \"../sdks/axept\" }\npayauth-demo_oauth = { path = \"../sdks/demo_oauth\" }\ntokio.workspace = true\n"
        );
        let list = "pub static ALL: &[&Descriptor] = &[\n    &axept::descriptor::DESCRIPTOR,\n];\n\npub fn find() {}\n";
        assert_eq!(
            register_descriptor(list, &names()).unwrap(),
            "pub static ALL: &[&Descriptor] = &[\n    &axept::descriptor::DESCRIPTOR,\n    &demo_oauth::descriptor::DESCRIPTOR,\n];\n\npub fn find() {}\n"
        );
    }

    #[test]
    fn the_code_map_gets_a_row_per_file() {
        let doc = "## Code map\n\n### `sdks/` (the provider crates)\n\n| file | what |\n|---|---|\n| `axept/src/lib.rs` | axept |\n\n### `sdks/sandbox/src/`\n\nEach provider is a plug-in.\n\n| file | what |\n|---|---|\n| `lib.rs` | the crate |\n\n### `codegen/src/`\n";
        let after = register_in_code_map(doc, &names()).unwrap();
        assert!(
            after.contains("| `axept/src/lib.rs` | axept |\n| `demo_oauth/src/lib.rs` |"),
            "{after}"
        );
        assert!(after.contains("| `demo_oauth/tests/sandbox.rs` | demo_oauth end to end against the sandbox |\n\n### `sdks/sandbox/src/`"), "{after}");
        assert!(
            after.contains("| `lib.rs` | the crate |\n| `providers/demo_oauth.rs` |"),
            "{after}"
        );
        assert!(register_in_code_map("# nothing\n", &names()).is_err());
    }
}
