use crate::support::{assert_contains, softland};

const BUNDLED: [&str; 3] = [
    "soft-landing-sz-to-hk",
    "soft-landing-hk-to-sz",
    "internship-placement",
];

#[test]
fn mermaid_draws_every_bundled_workflow() {
    for key in BUNDLED {
        let run = softland(&["diagram", &format!("workflows/{key}.yaml")]);
        assert_eq!(run.code, 0, "{key}: {}", run.stderr);
        assert!(run.stdout.starts_with("stateDiagram-v2\n"), "{key}");
        assert!(run.stdout.contains("    [*] --> "), "{key}: no start");
    }
    let sz = softland(&["diagram", "workflows/soft-landing-sz-to-hk.yaml"]).stdout;
    assert_contains(
        &sz,
        &[
            "state \"Hong Kong reviews\" as hong_kong_reviews {",
            // parallel branches are separated
            "        --\n",
            "state licence_check <<choice>>",
            // a branch exit is drawn
            "hkstp_review --> rejected: reject",
            "investhk_setup_review --> setup_done: clear (four-eyes)",
            "joint_decision --> approved: 2 of 3 approve",
            "approved --> [*]",
        ],
    );
}

#[test]
fn dot_draws_every_bundled_workflow() {
    for key in BUNDLED {
        let run = softland(&[
            "diagram",
            "--format",
            "dot",
            &format!("workflows/{key}.yaml"),
        ]);
        assert_eq!(run.code, 0, "{key}: {}", run.stderr);
        assert!(
            run.stdout.starts_with(&format!("digraph \"{key}\" {{")),
            "{key}"
        );
        assert!(run.stdout.trim_end().ends_with('}'));
        let opens = run.stdout.matches('{').count();
        let closes = run.stdout.matches('}').count();
        assert_eq!(opens, closes, "{key}: unbalanced braces");
    }
    let sz = softland(&[
        "diagram",
        "--format",
        "dot",
        "workflows/soft-landing-sz-to-hk.yaml",
    ])
    .stdout;
    assert!(sz.contains("subgraph cluster_hong_kong_reviews_0"), "{sz}");
    assert!(
        sz.contains("licence_check [label=\"Needs a licence?\", shape=diamond];"),
        "{sz}"
    );
}

#[test]
fn an_invalid_workflow_is_not_drawn() {
    let run = softland(&["diagram", "crates/workflow/tests/broken/typos.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("typos.yaml:15:21: unknown-target"),
        "{}",
        run.stderr
    );
}
