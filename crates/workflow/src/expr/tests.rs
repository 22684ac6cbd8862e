use super::*;
use serde_json::json;

fn form() -> Value {
    json!({"type": "object", "properties": {
        "staff": {"type": "integer"},
        "licences": {"type": "array", "items": {"type": "string"}},
        "company": {"type": "object", "properties": {"age_years": {"type": "number"}}}
    }})
}

#[test]
fn evaluates_over_form_data() {
    let c = Condition::compile(
        r#"data.staff >= 5 && "svf" in data.licences"#,
        Some(&form()),
    )
    .expect("compiles");
    assert_eq!(
        c.eval(&to_cel(&json!({"staff": 7, "licences": ["svf"]}))),
        Ok(true)
    );
    assert_eq!(
        c.eval(&to_cel(&json!({"staff": 2, "licences": ["svf"]}))),
        Ok(false)
    );
    let m = Condition::compile("data.licences.exists(l, l == 'vb')", Some(&form())).expect("macro");
    assert_eq!(m.eval(&to_cel(&json!({"licences": ["vb"]}))), Ok(true));
}

#[test]
fn rejects_unknown_fields_and_variables() {
    let errs = Condition::compile("data.company.agee > 1 || applicant.x", Some(&form()))
        .expect_err("two errors");
    assert!(
        matches!(&errs[0], ConditionError::UnknownField { path, known } if path == "data.company.agee" && known.contains(&"age_years".to_owned()))
    );
    assert!(matches!(&errs[1], ConditionError::UnknownVariable(v) if v == "applicant"));
}

#[test]
fn knows_which_fields_it_reads() {
    let c = Condition::compile(
        r#"data.staff > 1 && data.licences.exists(l, l == "x")"#,
        Some(&form()),
    )
    .expect("compiles");
    assert_eq!(
        c.fields(),
        Some(&["staff".to_owned(), "licences".to_owned()][..])
    );
    let whole = Condition::compile("size(data) > 0", Some(&form())).expect("compiles");
    assert_eq!(whole.fields(), None);
    let data = json!({"staff": 3, "licences": ["x"], "company": {"age_years": 2}});
    let pruned = to_cel_fields(&data, [c.fields()].into_iter());
    assert_eq!(c.eval(&pruned), Ok(true));
}

#[test]
fn syntax_errors_have_positions() {
    let errs = Condition::compile("data.staff >= ", Some(&form())).expect_err("syntax");
    assert!(matches!(errs[0], ConditionError::Syntax { line: 1, .. }));
}

#[test]
fn long_deep_and_quadratic_conditions_are_refused() {
    let chain = format!("{} > 0", vec!["1"; 8_000].join(" + "));
    let errs = Condition::compile(&chain, Some(&form())).expect_err("too many operators");
    assert!(
        matches!(&errs[0], ConditionError::TooComplex { .. }),
        "{errs:?}"
    );
    let long = format!("data.licences.exists(l, l == \"{}\")", "x".repeat(3_000));
    let errs = Condition::compile(&long, Some(&form())).expect_err("too long");
    assert!(
        matches!(&errs[0], ConditionError::TooComplex { column: 2001, message, .. } if message.contains("longer than")),
        "{errs:?}"
    );
    let ops = format!("{} > 0", vec!["1"; 200].join("+"));
    let errs = Condition::compile(&ops, Some(&form())).expect_err("too many operators");
    assert!(
        matches!(&errs[0], ConditionError::TooComplex { line: 1, column, message } if message.contains("operators") && *column > 100),
        "{errs:?}"
    );
    let deep = format!("{}1{} > 0", "(".repeat(40), ")".repeat(40));
    let errs = Condition::compile(&deep, Some(&form())).expect_err("too deep");
    assert!(
        matches!(&errs[0], ConditionError::TooComplex { column: 13, .. }),
        "{errs:?}"
    );
    let nested = "data.licences.exists(a, data.licences.exists(b, a == b))";
    let errs = Condition::compile(nested, Some(&form())).expect_err("quadratic");
    assert!(
        matches!(&errs[0], ConditionError::TooComplex { message, .. } if message.contains("inside")),
        "{errs:?}"
    );
    // operators inside strings do not count; the bounds leave room for real conditions
    let quoted = format!("data.licences.exists(l, l == \"{}\")", "+".repeat(500));
    assert!(Condition::compile(&quoted, Some(&form())).is_ok());
    let fine = vec!["data.staff > 1"; 30].join(" || ");
    assert!(Condition::compile(&fine, Some(&form())).is_ok());
}

#[test]
fn runtime_errors_are_reported() {
    let c = Condition::compile("data.staff > 1", Some(&form())).expect("compiles");
    assert!(c.eval(&to_cel(&json!({}))).is_err());
}
