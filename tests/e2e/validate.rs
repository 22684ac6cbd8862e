use crate::support::{assert_contains, softland, softland_in, temp_dir};

#[test]
fn bundled_workflows_are_valid() {
    let run = softland(&[
        "validate",
        "workflows/soft-landing-sz-to-hk.yaml",
        "workflows/soft-landing-hk-to-sz.yaml",
        "workflows/internship-placement.yaml",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.ends_with("states)"))
            .count(),
        3,
        "{}",
        run.stdout
    );
    let dir = softland(&["validate", "workflows"]);
    assert_eq!(dir.code, 0, "{}", dir.stdout);
}

#[test]
fn broken_files_get_compiler_style_errors_at_the_right_line() {
    let dir = temp_dir("validate-broken");
    let yaml = "key: broken\ntitle: Broken\nagencies: [hkstp]\nform: {type: object}\nstart: review\nstates:\n  review:\n    type: task\n    assignee: hkstp\n    actions:\n      approve: {to: aproved}\n  approved: {type: final, outcome: approved}\n";
    std::fs::write(dir.join("broken.yaml"), yaml).expect("write");
    std::fs::write(dir.join("good.yaml"), yaml.replace("aproved}", "approved}")).expect("write");
    let run = softland_in(&dir, &["validate", "good.yaml", "broken.yaml"]);
    assert_eq!(run.code, 1);
    assert_contains(
        &run.stdout,
        &[
            "good.yaml: ok (broken, 2 states)",
            "broken.yaml:11:21: unknown-target: state `aproved` does not exist; did you mean `approved`?",
        ],
    );
    assert_contains(&run.stderr, &["1 of 2 workflow file(s) have problems"]);
}

#[test]
fn example_applications_are_checked_against_the_form() {
    let dir = temp_dir("validate-example");
    std::fs::create_dir_all(dir.join("examples")).expect("mkdir");
    let yaml = "key: tiny\ntitle: Tiny\nagencies: [hkstp]\nform: {type: object, required: [name], properties: {name: {type: string}}}\nstart: review\nstates:\n  review: {type: task, assignee: hkstp, actions: {approve: done}}\n  done: {type: final, outcome: approved}\n";
    std::fs::write(dir.join("tiny.yaml"), yaml).expect("write");
    std::fs::write(dir.join("examples/tiny.json"), r#"{"name": 7}"#).expect("write");
    let run = softland_in(&dir, &["validate", "tiny.yaml"]);
    assert_eq!(run.code, 1);
    assert_contains(&run.stdout, &["examples/tiny.json: form-violation: /name"]);
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let run = softland(&["validate", "workflows/nope.yaml"]);
    assert_eq!(run.code, 1);
    assert_contains(
        &run.stdout,
        &["workflows/nope.yaml: error: cannot read workflows/nope.yaml"],
    );
}
