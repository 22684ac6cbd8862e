//! Bounded fuzzing with proptest (runs in CI): the YAML compiler and the form validator must
//! never panic or hang; every rejection is a clean diagnostic with a position.
//! Raise the case count locally with `PROPTEST_CASES=20000`.
#![allow(clippy::unwrap_used)]

mod common;

use proptest::prelude::*;
use softland_workflow::Workflow;

fn bundled_sources() -> Vec<String> {
    [
        "soft-landing-sz-to-hk",
        "soft-landing-hk-to-sz",
        "internship-placement",
    ]
    .iter()
    .map(|k| std::fs::read_to_string(common::root().join(format!("workflows/{k}.yaml"))).unwrap())
    .collect()
}

/// Compiles with every form file resolving to a small valid schema.
fn compile(source: &str) -> Result<Workflow, softland_workflow::Diagnostics> {
    let loader = |_: &str| {
        Ok::<_, String>(
            r#"{"type": "object", "properties": {"licensing": {"type": "object"}}}"#.to_owned(),
        )
    };
    Workflow::compile_with(source, &loader)
}

fn check(source: &str) -> Result<(), TestCaseError> {
    if let Err(diags) = compile(source) {
        prop_assert!(!diags.is_empty(), "an error must say what is wrong");
        for d in &diags {
            prop_assert!(
                d.pos.line >= 1 && d.pos.column >= 1,
                "diagnostic without a position: {d}"
            );
            prop_assert!(!d.message.is_empty());
        }
    }
    Ok(())
}

/// One edit to a text: delete, duplicate or replace a span, or insert YAML-ish noise.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Duplicate(usize, usize),
    Insert(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let noise = prop_oneof![
        Just(": ".to_owned()),
        Just("\n  - ".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("<<: *a\n".to_owned()),
        Just("type: parallel\n".to_owned()),
        Just("to: nowhere\n".to_owned()),
        Just("'".to_owned()),
        Just("\t".to_owned()),
        "[a-z_: \\n{}\\[\\],&*!|>-]{1,12}",
    ];
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 1usize..200).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        (any::<usize>(), noise).prop_map(|(a, s)| Edit::Insert(a, s)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for e in edits {
        let len = s.len().max(1);
        match e {
            Edit::Delete(a, n) => {
                let a = a % len;
                let b = (a + n).min(s.len());
                if a < b {
                    s.drain(a..b);
                }
            }
            Edit::Duplicate(a, n) => {
                let a = a % len;
                let b = (a + n).min(s.len());
                if a < b {
                    let part: Vec<char> = s[a..b].to_vec();
                    s.splice(b..b, part);
                }
            }
            Edit::Insert(a, text) => {
                let a = a % (s.len() + 1);
                s.splice(a..a, text.chars());
            }
        }
    }
    s.into_iter().collect()
}

/// A choice condition built to be long, deep or quadratic, or CEL token soup.
fn hostile_condition() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            1usize..10_000,
            prop_oneof![Just(" + "), Just(" && "), Just("."), Just(" ? 1 : ")]
        )
            .prop_map(|(n, op)| format!("{} > 0", vec!["1"; n].join(op))),
        (
            1usize..3_000,
            prop_oneof![Just(("(", ")")), Just(("[", "]")), Just(("{1:", "}"))]
        )
            .prop_map(|(n, (o, c))| format!("{}1{}", o.repeat(n), c.repeat(n))),
        (1usize..3_000).prop_map(|n| format!("{}true", "!".repeat(n))),
        (1usize..3_000).prop_map(|n| format!("data{}", ".items".repeat(n))),
        (1usize..60).prop_map(|n| {
            let mut e = "a0 > 0".to_owned();
            for i in 1..=n {
                e = format!("data.items.exists(a{i}, {e})");
            }
            e
        }),
        "[a-z0-9_.()\\[\\]{}+*/%!<>=&|?:, \"']{0,300}",
    ]
}

/// Compiles a definition around `condition` on a thread with the stack the server compiles on
/// ([`softland_workflow::COMPILE_STACK`]): within the bounds, that is always enough.
fn compile_condition(condition: &str) -> Result<(), TestCaseError> {
    let yaml = format!(
        "key: fuzz\ntitle: Fuzz\nform:\n  type: object\n  properties:\n    items: {{type: array}}\nstart: pick\nstates:\n  pick:\n    type: choice\n    choices:\n      - when: {}\n        to: done\n    otherwise: done\n  done: {{type: final, outcome: approved}}\n",
        serde_json::to_string(condition).unwrap()
    );
    std::thread::Builder::new()
        .stack_size(softland_workflow::COMPILE_STACK)
        .spawn(move || check(&yaml))
        .unwrap()
        .join()
        .map_err(|_| TestCaseError::fail("compiling panicked"))?
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn compiling_hostile_conditions_stays_bounded(condition in hostile_condition()) {
        compile_condition(&condition)?;
    }

    #[test]
    fn compiling_arbitrary_text_never_panics(text in "\\PC{0,400}") {
        check(&text)?;
    }

    #[test]
    fn compiling_mutated_workflows_never_panics(which in 0usize..3, edits in prop::collection::vec(edit(), 1..6)) {
        let sources = bundled_sources();
        check(&apply(&sources[which], &edits))?;
    }

    #[test]
    fn validating_arbitrary_form_data_never_panics(data in arb_json(3)) {
        let wf = common::bundled("soft-landing-sz-to-hk");
        if let Err(violations) = wf.check_form(&data) {
            prop_assert!(!violations.is_empty());
        }
    }
}

fn arb_json(depth: u32) -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
        prop_oneof![
            Just("company"),
            Just("incubation"),
            Just("licensing"),
            Just("name_en"),
            Just("regulated_activities")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(depth, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("company".to_owned()),
                    Just("incubation".to_owned()),
                    Just("licensing".to_owned()),
                    Just("contact".to_owned()),
                    "[a-z_]{1,12}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
