//! SECURITY.md names the test behind every guarantee as `file::test`; this
//! checks that each named test exists, so the document cannot point at a test
//! that was renamed or removed, and that each named fuzz target exists.

mod fuzzing;

use std::path::Path;

#[test]
fn every_test_security_md_names_exists() {
    let sdk_core = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = sdk_core.join("..");
    let doc = std::fs::read_to_string(root.join("SECURITY.md")).unwrap();
    let mut checked = 0;
    for reference in doc.split('`').skip(1).step_by(2) {
        let Some((file, test)) = reference.split_once(".rs::") else { continue };
        let file = format!("{file}.rs");
        let path = if file.starts_with("src/") || file.starts_with("tests/") {
            sdk_core.join(&file)
        } else {
            root.join(&file)
        };
        let source = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("SECURITY.md names {file}, not found"));
        assert!(source.contains(&format!("fn {test}(")), "SECURITY.md names {file}::{test}, not found");
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} test references found");

    let targets: Vec<&str> = fuzzing::TARGETS.iter().map(|(name, _)| *name).collect();
    let mut named = 0;
    for part in doc.split("fuzz target").skip(1) {
        // "fuzz target `a`", "fuzz targets `a` and `b`".
        let mut rest = part.strip_prefix('s').unwrap_or(part).trim_start();
        while let Some(after) = rest.strip_prefix('`') {
            let (name, tail) = after.split_once('`').unwrap();
            assert!(targets.contains(&name), "SECURITY.md names fuzz target {name}, not found");
            named += 1;
            rest = tail.strip_prefix(" and ").or_else(|| tail.strip_prefix(", ")).unwrap_or("");
        }
    }
    assert!(named >= 3, "only {named} fuzz targets named");
}
