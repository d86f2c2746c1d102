//! ARCHITECTURE.md stays true to the tree: its code map names every
//! hand-written source file of the workspace (not `generated.rs`, not the
//! fixtures), and every file it names exists.
//!
//! The map is read as the document writes it: a heading whose first
//! code span is a folder (`### \`codegen/src/\``) opens a table of files
//! under that folder, one per row (`| \`lint/mod.rs\` | … |`); any other
//! heading closes it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The folders whose sources the map must name, per crate.
const SOURCE_DIRS: [&str; 4] = ["src", "tests", "benches", "examples"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// The crates whose sources are hand-written: every folder with a
/// `Cargo.toml` at the top, under `sdks/`, and `consumer/`.
fn crate_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for top in [root.to_path_buf(), root.join("sdks")] {
        for entry in std::fs::read_dir(&top).expect("read the workspace") {
            let dir = entry.expect("an entry").path();
            if dir.join("Cargo.toml").is_file() && dir != root {
                dirs.push(dir);
            }
        }
    }
    dirs
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("an entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "fixtures" && name != "snapshots" && name != "target" {
                walk(&path, out);
            }
        } else if name.ends_with(".rs") && name != "generated.rs" {
            out.push(path);
        }
    }
}

/// Every hand-written source file, relative to the root, with `/`.
fn hand_written(root: &Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    for krate in crate_dirs(root) {
        for dir in SOURCE_DIRS {
            walk(&krate.join(dir), &mut files);
        }
        // Scripts beside a crate's manifest (xtask's conformance driver).
        for entry in std::fs::read_dir(&krate).expect("read a crate") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "py") {
                files.push(path);
            }
        }
    }
    files
        .iter()
        .map(|f| {
            f.strip_prefix(root)
                .expect("under the root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

/// The first code span of `line`, if any.
fn first_code_span(line: &str) -> Option<&str> {
    let start = line.find('`')? + 1;
    let len = line[start..].find('`')?;
    Some(&line[start..start + len])
}

/// The files the code map names, relative to the root.
fn mapped(doc: &str) -> BTreeSet<String> {
    let mut folder: Option<String> = None;
    let mut files = BTreeSet::new();
    for line in doc.lines() {
        if line.starts_with('#') {
            folder = first_code_span(line)
                .filter(|span| span.ends_with('/'))
                .map(str::to_string);
        } else if let (Some(folder), Some(rest)) = (&folder, line.strip_prefix("| `")) {
            let file = &rest[..rest.find('`').unwrap_or(0)];
            if !file.is_empty() {
                files.insert(format!("{folder}{file}"));
            }
        }
    }
    files
}

#[test]
fn the_code_map_names_every_hand_written_file() {
    let root = workspace_root();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let on_disk = hand_written(&root);
    let in_map = mapped(&doc);
    // The walk and the parser both find something, so the comparison
    // below cannot pass empty.
    assert!(on_disk.contains("sdks/runtime/src/lib.rs"), "{on_disk:#?}");
    assert!(in_map.contains("codegen/src/lib.rs"), "{in_map:#?}");
    let missing: Vec<_> = on_disk.difference(&in_map).collect();
    let stale: Vec<_> = in_map.difference(&on_disk).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "ARCHITECTURE.md's code map is out of date.\n\
         Not in the map (add a row under the folder's heading): {missing:#?}\n\
         In the map but not on disk (moved or removed?): {stale:#?}"
    );
}

#[test]
fn the_map_reader_follows_folders_and_rows() {
    let doc = "## Code map\n| `ignored.rs` | no folder |\n### `a/src/`\n\
               | file | what |\n|---|---|\n| `lib.rs` | x |\n| `m/n.rs` | y |\n\
               ## Invariants\n| `not_a_file.rs` | after a plain heading |\n";
    let files: Vec<_> = mapped(doc).into_iter().collect();
    assert_eq!(files, ["a/src/lib.rs", "a/src/m/n.rs"]);
}
