//! Golden tests: each `tests/broken/NAME.yaml` must produce exactly `tests/broken/NAME.expected`.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test -p softland-workflow --test diagnostics`.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use softland_workflow::Workflow;

#[test]
fn broken_definitions_match_their_golden_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    assert!(
        files.len() >= 5,
        "expected the broken fixtures, found {files:?}"
    );
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name")
            .to_owned();
        let source = std::fs::read_to_string(&file).expect("readable");
        let diags = Workflow::compile(&source).expect_err(&format!("{name} must not compile"));
        let actual = diags.render(&name);
        let expected_path = file.with_extension("expected");
        if update {
            std::fs::write(&expected_path, &actual).expect("write golden");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            mismatches.push(format!(
                "--- {name}: expected\n{expected}--- actual\n{actual}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "diagnostics changed (UPDATE_GOLDEN=1 to accept):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn every_bundled_workflow_compiles_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("workflows dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("readable");
        let base = dir.clone();
        let loader =
            move |rel: &str| std::fs::read_to_string(base.join(rel)).map_err(|e| e.to_string());
        let wf = Workflow::compile_with(&source, &loader)
            .unwrap_or_else(|d| panic!("{}:\n{d}", path.display()));
        assert!(!wf.outcomes().is_empty());
        n += 1;
    }
    assert_eq!(n, 3);
}

#[test]
fn every_code_is_documented() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/workflow-language.md"),
    )
    .expect("docs/workflow-language.md");
    for code in softland_workflow::Code::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", code.as_str())),
            "{code} is missing from docs/workflow-language.md"
        );
    }
}
