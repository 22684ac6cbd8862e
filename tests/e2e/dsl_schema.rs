//! `schemas/workflow.schema.json` describes the language: every bundled workflow satisfies it,
//! and it catches what editors should flag.

use crate::support::root;

fn dsl_schema() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(root().join("schemas/workflow.schema.json")).expect("schema file");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema is a valid JSON Schema")
}

fn yaml(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).expect("YAML parses")
}

#[test]
fn every_bundled_workflow_satisfies_the_language_schema() {
    let v = dsl_schema();
    let mut n = 0;
    for entry in std::fs::read_dir(root().join("workflows")).expect("workflows dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let doc = yaml(&std::fs::read_to_string(&path).expect("readable"));
        let errors: Vec<String> = v
            .iter_errors(&doc)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{}:\n{}",
            path.display(),
            errors.join("\n")
        );
        n += 1;
    }
    assert_eq!(n, 3);
}

#[test]
fn the_language_schema_flags_typos_and_bad_durations() {
    let v = dsl_schema();
    let base = "key: k\ntitle: T\nform: {type: object}\nstart: a\nstates:\n  a: {type: task, assignee: hkstp, actions: {ok: b}}\n  b: {type: final, outcome: approved}\n";
    assert!(v.is_valid(&yaml(base)));
    assert!(
        !v.is_valid(&yaml(&base.replace("assignee: hkstp", "asignee: hkstp"))),
        "unknown key"
    );
    assert!(
        !v.is_valid(&yaml(
            &base.replace("actions: {ok: b}", "actions: {ok: b}, due: P10X")
        )),
        "bad duration"
    );
    assert!(v.is_valid(&yaml(&base.replace(
        "actions: {ok: b}",
        "actions: {ok: b}, due: {within: P2W, days: business}"
    ))));
    assert!(
        !v.is_valid(&yaml(&base.replace("type: final", "type: fnal"))),
        "unknown state type"
    );
}
