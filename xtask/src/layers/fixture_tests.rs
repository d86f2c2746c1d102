//! The checker on whole crates: the fixture directory
//! (`xtask/tests/fixtures/layers`, one upward import and one circle, and
//! everything the checker must not report), and small crates in memory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::report::{CrateReport, check_crate, verdict};
use super::{ALLOWED_CIRCLES, read_sources};

fn fixture() -> CrateReport {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layers");
    let sources = read_sources(&dir).expect("fixture readable");
    let layers = std::fs::read_to_string(dir.join("layers.toml")).expect("fixture layers");
    check_crate(
        "fixture",
        Path::new("fixture"),
        &sources,
        &[PathBuf::from("src/lib.rs")],
        Some(&layers),
    )
}

fn in_memory(files: &[(&str, &str)], layers: Option<&str>) -> CrateReport {
    let sources = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), t.to_string()))
        .collect();
    check_crate(
        "mem",
        Path::new("mem"),
        &sources,
        &[PathBuf::from("src/lib.rs")],
        layers,
    )
}

fn paths(files: &[&str]) -> BTreeSet<PathBuf> {
    files.iter().map(PathBuf::from).collect()
}

#[test]
fn the_fixture_has_exactly_one_upward_import_and_one_circle() {
    let report = fixture();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let circles: Vec<&BTreeSet<PathBuf>> = report.circles.iter().map(|c| &c.files).collect();
    assert_eq!(
        circles,
        [&paths(&[
            "fixture/src/middle/helper.rs",
            "fixture/src/middle/mod.rs"
        ])]
    );
    let ties: Vec<(String, String, Vec<String>)> = report.circles[0]
        .ties
        .iter()
        .map(|(from, to, names)| {
            (
                from.display().to_string(),
                to.display().to_string(),
                names.iter().cloned().collect(),
            )
        })
        .collect();
    assert_eq!(
        ties,
        [
            (
                "fixture/src/middle/helper.rs".to_string(),
                "fixture/src/middle/mod.rs".to_string(),
                vec!["Middle".to_string()]
            ),
            (
                "fixture/src/middle/mod.rs".to_string(),
                "fixture/src/middle/helper.rs".to_string(),
                vec!["help".to_string()]
            ),
        ]
    );
    let layers = report.layers.expect("the fixture declares layers");
    assert!(
        layers.unplaced.is_empty() && layers.unknown.is_empty(),
        "{layers:?}"
    );
    assert_eq!(layers.upward.len(), 1, "{:?}", layers.upward);
    let up = &layers.upward[0];
    assert_eq!(up.from, Path::new("fixture/src/base.rs"));
    assert_eq!(up.to, Path::new("fixture/src/top.rs"));
    assert_eq!((up.from_layer, up.to_layer), (0, Some(2)));
    assert_eq!(up.names, ["Top".to_string()].into());
    // And the verdict says so.
    let text = verdict(&[fixture()], &[]).unwrap_err();
    assert!(
        text.contains(
            "upward import: fixture/src/base.rs (layer 0) → fixture/src/top.rs (layer 2): Top"
        ),
        "{text}"
    );
    assert!(text.contains("import circle of 2 files"), "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");
}

#[test]
fn an_allowed_circle_passes_and_one_that_is_gone_fails() {
    let circle = ["mem/src/a.rs", "mem/src/b.rs"];
    let with_circle = || {
        in_memory(
            &[
                ("src/lib.rs", "mod a; mod b;"),
                ("src/a.rs", "use crate::b::B; pub struct A;"),
                (
                    "src/b.rs",
                    "pub struct B; fn f() -> super::a::A { todo!() }",
                ),
            ],
            None,
        )
    };
    assert!(verdict(&[with_circle()], &[]).is_err());
    let shown = verdict(&[with_circle()], &[&circle]).expect("allowed");
    assert!(shown.contains("mem/src/a.rs → mem/src/b.rs (B)"), "{shown}");
    assert!(shown.contains("mem/src/b.rs → mem/src/a.rs (A)"), "{shown}");
    let fixed = in_memory(
        &[
            ("src/lib.rs", "mod a; mod b;"),
            ("src/a.rs", "use crate::b::B; pub struct A;"),
            ("src/b.rs", "pub struct B;"),
        ],
        None,
    );
    let gone = verdict(&[fixed], &[&circle]).unwrap_err();
    assert!(gone.contains("no longer exists"), "{gone}");
}

#[test]
fn a_mod_declaration_is_no_import_and_a_child_used_back_is_a_circle() {
    let declared_only = in_memory(
        &[
            ("src/lib.rs", "mod a;"),
            ("src/a/mod.rs", "mod b; pub struct A;"),
            ("src/a/b.rs", "use super::A;"),
        ],
        None,
    );
    assert!(
        declared_only.circles.is_empty(),
        "{:?}",
        declared_only.circles
    );
    let used_back = in_memory(
        &[
            ("src/lib.rs", "mod a;"),
            ("src/a/mod.rs", "mod b; pub struct A; fn f() { b::g() }"),
            ("src/a/b.rs", "use super::A; pub fn g() {}"),
        ],
        None,
    );
    assert_eq!(used_back.circles.len(), 1);
}

#[test]
fn a_crate_with_layers_places_every_module_and_names_only_modules() {
    let report = in_memory(
        &[
            ("src/lib.rs", "mod a; mod b;"),
            ("src/a.rs", ""),
            ("src/b.rs", ""),
        ],
        Some("layers = [[\"a\", \"gone\"]]"),
    );
    let layers = report.layers.expect("declared");
    assert_eq!(layers.unplaced, [PathBuf::from("mem/src/b.rs")]);
    assert_eq!(layers.unknown, ["gone".to_string()]);
    let broken = in_memory(&[("src/lib.rs", "")], Some("layers = 3"));
    assert_eq!(broken.errors.len(), 1, "{:?}", broken.errors);
    let unparsable = in_memory(&[("src/lib.rs", "fn (")], None);
    assert_eq!(unparsable.errors.len(), 1, "{:?}", unparsable.errors);
}

#[test]
fn the_allowed_circles_name_files_that_exist() {
    let root = codegen::workspace_root();
    for circle in ALLOWED_CIRCLES {
        assert!(circle.len() > 1, "{circle:?}");
        for file in *circle {
            assert!(root.join(file).is_file(), "{file}");
        }
    }
}
